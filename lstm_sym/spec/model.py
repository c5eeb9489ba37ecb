"""The declarative cell specification: symbols with roles, and the equations of one step.

A :class:`CellSpec` is what a ``.cell`` file parses into. It holds no derived information:
the derivation (``lstm_sym.derive``) and the renderers read it, nothing writes back.

Sizes: the input has ``D`` units; every state, value and vector parameter has ``H`` units;
a weight acting on the concatenation ``[v_1, …, v_k]`` has shape ``(H, |v_1| + … + |v_k|)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import sympy

__all__ = [
    "CellSpec",
    "Declaration",
    "Elementwise",
    "Equation",
    "LinearMap",
    "Role",
]


class Role(StrEnum):
    """What a named quantity is in one time step."""

    INPUT = "input"
    STATE = "state"
    PARAM = "param"
    VALUE = "value"


@dataclass(frozen=True)
class Declaration:
    """A named quantity of the cell.

    Parameters
    ----------
    name : str
        Identifier used in the equations (``C_tilde``, ``W_f``).
    role : Role
        Input, state (carried to the next step), parameter or intermediate value.
    latex : str
        LaTeX for the quantity without its time index (``\\tilde{C}``).
    doc : str
        One line saying what it is.
    line : int
        Line of the spec file that declared it (0 when implicit).
    output : bool
        For states: whether the state is also the step's output (``h`` of an LSTM).
    """

    name: str
    role: Role
    latex: str
    doc: str
    line: int = 0
    output: bool = False


@dataclass(frozen=True)
class LinearMap:
    """``target = weight @ [operands…] (+ bias)``: the only cross-unit coupling of a cell."""

    target: str
    weight: str
    bias: str | None
    operands: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Elementwise:
    """``target = expr``, applied unit by unit; ``expr`` is a SymPy expression over symbols.

    ``display`` is the same expression left unevaluated, in the order the spec wrote it, for
    documentation (``f_t ⊙ C_{t-1}`` rather than SymPy's canonical ``C_{t-1} ⊙ f_t``).
    """

    target: str
    expr: sympy.Expr
    line: int
    display: sympy.Expr = field(default=sympy.Integer(0), compare=False)


Equation = LinearMap | Elementwise


def previous(name: str) -> str:
    """Return the identifier that denotes state ``name`` at the previous step."""
    return f"{name}_prev"


@dataclass(frozen=True)
class CellSpec:
    """A recurrent cell: declarations and the ordered equations of one time step.

    Parameters
    ----------
    name : str
        Module name of the generated kernel (``lstm`` → ``lstm_sym.kernels.lstm``).
    title, summary : str
        Human-readable title and one-paragraph summary.
    source : pathlib.Path
        The spec file it was parsed from.
    declarations : tuple of Declaration
        In file order; parameters keep this order in ``init_params``.
    equations : tuple of Equation
        In file order; every value is assigned before it is read.
    compare : str
        One line saying what the cell removes or adds relative to the lecture's LSTM (the
        spec's ``compare`` header; empty when absent), for the variants page.
    """

    name: str
    title: str
    summary: str
    source: Path
    declarations: tuple[Declaration, ...]
    equations: tuple[Equation, ...]
    compare: str = ""
    _by_name: dict[str, Declaration] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {d.name: d for d in self.declarations})

    def declaration(self, name: str) -> Declaration:
        """Return the declaration of ``name`` (states' ``<name>_prev`` map to the state)."""
        if name in self._by_name:
            return self._by_name[name]
        if name.endswith("_prev") and name[: -len("_prev")] in self._by_name:
            return self._by_name[name[: -len("_prev")]]
        raise KeyError(name)

    def names(self, role: Role) -> tuple[str, ...]:
        """Return the declared names with ``role``, in file order."""
        return tuple(d.name for d in self.declarations if d.role is role)

    @property
    def input_name(self) -> str:
        """The single input of the cell (``x``)."""
        return self.names(Role.INPUT)[0]

    @property
    def state_names(self) -> tuple[str, ...]:
        """States carried from one step to the next, in file order."""
        return self.names(Role.STATE)

    @property
    def output_state(self) -> str:
        """The state emitted at every step (``h``)."""
        return next(d.name for d in self.declarations if d.role is Role.STATE and d.output)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Parameters in file order: the keys of ``init_params``."""
        return self.names(Role.PARAM)

    @property
    def linear_maps(self) -> tuple[LinearMap, ...]:
        """The equations that are linear maps, in file order."""
        return tuple(e for e in self.equations if isinstance(e, LinearMap))

    def operand_size(self, name: str) -> str:
        """Return ``"D"`` for the input and ``"H"`` for every other vector."""
        return "D" if name == self.input_name else "H"

    def parameter_shape(self, name: str) -> tuple[str, ...]:
        """Symbolic shape of a parameter, e.g. ``("H", "H + D")`` or ``("H",)``."""
        for eq in self.linear_maps:
            if eq.weight == name:
                sizes = [self.operand_size(op) for op in eq.operands]
                n_h, n_d = sizes.count("H"), sizes.count("D")
                parts = ([f"{n_h}H" if n_h > 1 else "H"] if n_h else []) + (["D"] if n_d else [])
                return ("H", " + ".join(parts))
        return ("H",)

    def parameter_count(self, input_size: int, hidden_size: int) -> int:
        """Number of scalar parameters for input size ``D`` and hidden size ``H``."""
        total = 0
        for name in self.parameter_names:
            shape = self.parameter_shape(name)
            size = 1
            for dim in shape:
                size *= _evaluate_size(dim, input_size, hidden_size)
            total += size
        return total


def _evaluate_size(expression: str, input_size: int, hidden_size: int) -> int:
    """Evaluate a size such as ``"2H + D"`` without evaluating text as code."""
    total = 0
    for term in expression.split("+"):
        term = term.strip()
        factor = int(term[:-1]) if len(term) > 1 else 1
        total += factor * (input_size if term.endswith("D") else hidden_size)
    return total
