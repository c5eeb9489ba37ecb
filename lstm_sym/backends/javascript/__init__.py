"""The JavaScript backend: the explorer's forward and backward steps for the browser.

It writes one file over every built-in cell (``docs/javascripts/explorer-cells.js``), for
one unit (``H = D = 1``); it is not run by the gradient checks (the explorer's browser test,
``tests/test_explorer.py``, compares it with the NumPy kernels).
"""

from __future__ import annotations

from .. import Backend
from .printer import explorer_files

__all__ = ["BACKEND"]

BACKEND = Backend(name="javascript", render_builtins=explorer_files)
