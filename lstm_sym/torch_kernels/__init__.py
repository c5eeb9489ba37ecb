"""Generated PyTorch modules of the built-in cells, one per spec (``lstm_sym/spec/cells``).

Each ``<cell>.py`` is printed by :mod:`lstm_sym.backends.torch` from the cell's derivation
and imports only torch; use them through :mod:`lstm_sym.nn`.
"""
