"""lstm_sym: derivations you can run.

One symbolic spec per recurrent cell; SymPy derives every gradient; Jinja2 renders NumPy
kernels (``from lstm_sym.kernels import lstm``) and LaTeX pages; every kernel is verified
against finite differences, torch autograd and a symbolic identity before it is published.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
