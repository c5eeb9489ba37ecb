"""Bridges between lstm_sym's generated kernels and other frameworks.

Each submodule imports its framework itself, so ``import lstm_sym.interop`` never needs
one; import the submodule you want, e.g. :mod:`lstm_sym.interop.torch` (needs PyTorch).
"""

__all__: list[str] = []
