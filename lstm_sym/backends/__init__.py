"""Code generators, one folder per target language (``torch/``: PyTorch modules)."""
