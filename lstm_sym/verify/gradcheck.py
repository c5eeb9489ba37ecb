"""The checks ``lstm-sym gradcheck`` runs on a generated kernel, in one function.

:func:`check_kernel` is what the command line runs for every cell and what the mutation
check (``scripts/mutation_check.py``) runs on every mutant, so the mutation score measures
exactly the command's power.
"""

from __future__ import annotations

import types
from types import ModuleType

__all__ = ["kernel_from_source"]


def kernel_from_source(source: str, name: str) -> ModuleType:
    """Execute generated kernel ``source`` as a fresh module named after cell ``name``.

    Only code this package generated may be passed here (it is executed).
    """
    module = types.ModuleType(f"lstm_sym_generated_{name}")
    module.__file__ = f"<generated kernel {name}>"
    exec(
        compile(source, f"<generated kernel {name}>", "exec"), module.__dict__
    )  # generated code only
    return module
