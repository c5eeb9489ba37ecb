"""Cell specifications: the single source of truth for every generated file.

Built-in cells live as ``.cell`` files in ``lstm_sym/spec/cells/``; user cells are the same
format anywhere on disk (see :mod:`lstm_sym.spec.parser` for the format).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import SpecError
from .model import CellSpec, Declaration, Elementwise, Equation, LinearMap, Role
from .parser import parse_spec, parse_spec_file

__all__ = [
    "CellSpec",
    "Declaration",
    "Elementwise",
    "Equation",
    "LinearMap",
    "Role",
    "SpecError",
    "builtin_cell_names",
    "builtin_spec_path",
    "load_builtin",
    "parse_spec",
    "parse_spec_file",
]

#: Built-in cells in the order the docs and the CLI list them: the lecture's LSTM, the simpler
#: recurrent cells, then the LSTM variants (peephole LSTM first, Greff et al.'s changes to it).
_BUILTIN_ORDER = (
    "lstm",
    "rnn",
    "gru",
    "gru_torch",
    "coupled_lstm",
    "peephole_lstm",
    "lstm_nig",
    "lstm_nfg",
    "lstm_nog",
    "lstm_niaf",
    "lstm_noaf",
    "lstm_cifg",
    "lstm_fgr",
)


def _cells_folder() -> Path:
    return Path(str(resources.files("lstm_sym.spec") / "cells"))


def builtin_cell_names() -> tuple[str, ...]:
    """Return the names of the built-in cells, lecture's LSTM first."""
    found = sorted(path.stem for path in _cells_folder().glob("*.cell"))
    ordered = [name for name in _BUILTIN_ORDER if name in found]
    return tuple(ordered + [name for name in found if name not in ordered])


def builtin_spec_path(name: str) -> Path:
    """Return the path of the built-in spec ``name``.

    Raises
    ------
    KeyError
        If there is no built-in cell of that name (the message lists the known ones).
    """
    path = _cells_folder() / f"{name}.cell"
    if not path.is_file():
        known = ", ".join(builtin_cell_names())
        raise KeyError(f"no built-in cell named {name!r}; known cells: {known}")
    return path


def load_builtin(name: str) -> CellSpec:
    """Parse and return the built-in cell spec ``name``."""
    return parse_spec_file(builtin_spec_path(name))
