"""Run the text a Python backend rendered as a fresh module (for checks and loaders)."""

from __future__ import annotations

import types
from types import ModuleType

__all__ = ["kernel_from_source"]


def kernel_from_source(source: str, name: str) -> ModuleType:
    """Execute generated kernel ``source`` as a fresh module named after ``name``.

    Only code this package generated may be passed here (it is executed).
    """
    module = types.ModuleType(f"lstm_sym_generated_{name}")
    module.__file__ = f"<generated kernel {name}>"
    exec(compile(source, f"<generated kernel {name}>", "exec"), module.__dict__)  # generated
    return module
