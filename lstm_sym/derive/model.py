"""What a derivation produces: the forward stages and the adjoint equations of one step."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..spec.model import CellSpec, Elementwise, LinearMap

__all__ = [
    "Adjoint",
    "AdjointTerm",
    "Derivation",
    "ForwardValue",
    "LinearGroup",
    "LinearOperandAdjoint",
    "Stage",
    "combine_exponentials",
    "local_derivative",
]


@dataclass(frozen=True)
class ForwardValue:
    """An elementwise value computed in the forward pass.

    Parameters
    ----------
    target : str
        Name of the value (``f``, or an auxiliary cached value such as ``tanh_C``).
    expr : sympy.Expr
        What the kernel computes: the spec's expression with every function application that
        is not the whole right-hand side replaced by its cached auxiliary value.
    equation : Elementwise or None
        The spec equation it comes from; ``None`` for an auxiliary value.
    """

    target: str
    expr: sympy.Expr
    equation: Elementwise | None


@dataclass(frozen=True)
class LinearGroup:
    """Linear maps sharing one concatenation ``[v_1, …, v_k]``: one stacked GEMM.

    The stacked weight has the members' weights one below the other (``G·H`` rows); columns
    follow ``operands``. Columns of the input are hoisted out of the time loop.
    """

    index: int
    maps: tuple[LinearMap, ...]
    operands: tuple[str, ...]


Stage = ForwardValue | LinearGroup


def combine_exponentials(expr: sympy.Expr) -> sympy.Expr:
    """Combine every product of exponentials in ``expr`` into one exponential of a sum.

    ``exp(a)·exp(−exp(a))`` overflows to ``inf·0 = nan`` at a ≈ 750, whereas the equal
    ``exp(a − exp(a))`` is 0 there. An expression without ``exp`` is returned unchanged
    (the same object), so cells that do not use ``exp`` derive exactly as before.
    """
    if not expr.has(sympy.exp):
        return expr
    return sympy.powsimp(_distribute_over_exponentials(expr), combine="exp")


def _distribute_over_exponentials(expr: sympy.Expr) -> sympy.Expr:
    """Multiply out every product of an exponential with a sum that holds one.

    ``d/da exp(2a − exp(a))`` is ``(2 − exp(a))·exp(2a − exp(a))``: only once the product is
    distributed can ``exp(a)·exp(2a − exp(a))`` become ``exp(3a − exp(a))``. Products without
    an exponential factor are left as they are (no general expansion).
    """
    if expr.is_Atom:
        return expr
    args = tuple(_distribute_over_exponentials(argument) for argument in expr.args)
    if args != expr.args:
        expr = expr.func(*args)
    if expr.is_Mul and any(isinstance(factor, sympy.exp) for factor in expr.args):
        if any(factor.is_Add and factor.has(sympy.exp) for factor in expr.args):
            return sympy.expand_mul(expr, deep=False)
    return expr


def local_derivative(
    expr: sympy.Expr, argument: sympy.Symbol, cached_forms: dict[sympy.Expr, sympy.Symbol]
) -> sympy.Expr:
    """``∂expr/∂argument``, with every function application replaced by its cached value.

    Products of exponentials are combined (:func:`combine_exponentials`) before the cached
    values are substituted, so that no factor that overflows meets one that underflows.
    """
    return combine_exponentials(sympy.diff(expr, argument)).xreplace(cached_forms)


@dataclass(frozen=True)
class LinearOperandAdjoint:
    """Placeholder for ``Σ_m W_m[:, v]ᵀ δa_m`` over the maps of a group, for operand ``v``."""

    group: LinearGroup
    operand: str
    symbol: sympy.Symbol


@dataclass(frozen=True)
class AdjointTerm:
    """One chain-rule contribution ``δy ⊙ ∂y/∂v`` to the adjoint of ``v``.

    ``source`` is the quantity ``y`` the gradient flows back from; for a linear operand it is
    the group's first target and ``expr`` is the group's placeholder symbol.
    """

    source: str
    expr: sympy.Expr
    linear: LinearOperandAdjoint | None = None


@dataclass(frozen=True)
class Adjoint:
    """The adjoint equation ``δv = seed + Σ terms`` of one quantity ``v`` of the step.

    ``seed`` is the gradient arriving from outside the step (the next step and the loss),
    present for the states' new values only.
    """

    name: str
    symbol: sympy.Symbol
    seed: sympy.Symbol | None
    terms: tuple[AdjointTerm, ...]

    @property
    def expr(self) -> sympy.Expr:
        """The right-hand side: seed plus every term."""
        parts: list[sympy.Expr] = [self.seed] if self.seed is not None else []
        parts += [term.expr for term in self.terms]
        return sympy.Add(*parts) if parts else sympy.Integer(0)


@dataclass(frozen=True)
class Derivation:
    """Forward stages and adjoint equations of one step of a cell, per unit.

    Parameters
    ----------
    spec : CellSpec
        The cell.
    stages : tuple of Stage
        Forward pass in execution order (linear maps of a group run at the first member).
    auxiliary : dict of str to sympy.Expr
        Cached auxiliary values (``tanh_C`` → ``tanh(C)``) that let derivatives be written
        through forward values.
    cached : tuple of str
        Forward values the backward pass reads, in forward order (besides states and input).
    adjoints : tuple of Adjoint
        Adjoints of the step's values in backward order: each reads only earlier entries.
    linear_operands : tuple of LinearOperandAdjoint
        Per group and operand, the transposed-weight product feeding back into the operand.
    parameter_adjoints : tuple of Adjoint
        Per-step, per-unit gradients of parameters used elementwise (peepholes); the kernel
        sums them over batch and time.
    previous_state_adjoints : tuple of Adjoint
        Gradients of ``<state>_prev``: the seeds of the step before.
    cached_forms : dict of sympy.Expr to sympy.Symbol
        Every function application of the step mapped to the value that holds it
        (``σ(a_f)`` → ``f``, ``tanh(C)`` → ``tanh_C``).
    """

    spec: CellSpec
    stages: tuple[Stage, ...]
    auxiliary: dict[str, sympy.Expr]
    cached: tuple[str, ...]
    adjoints: tuple[Adjoint, ...]
    linear_operands: tuple[LinearOperandAdjoint, ...]
    parameter_adjoints: tuple[Adjoint, ...]
    previous_state_adjoints: tuple[Adjoint, ...]
    cached_forms: dict[sympy.Expr, sympy.Symbol]

    @property
    def groups(self) -> tuple[LinearGroup, ...]:
        """The linear groups in forward order."""
        return tuple(stage for stage in self.stages if isinstance(stage, LinearGroup))

    def adjoint(self, name: str) -> Adjoint:
        """Return the adjoint equation of quantity ``name``."""
        for adjoint in self.adjoints + self.parameter_adjoints + self.previous_state_adjoints:
            if adjoint.name == name:
                return adjoint
        raise KeyError(name)
