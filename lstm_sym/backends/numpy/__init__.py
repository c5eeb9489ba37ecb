"""The NumPy backend: the kernels committed in ``lstm_sym/kernels/``."""
