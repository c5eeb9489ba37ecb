"""Symbolic identity check: the vectorised adjoint formulas equal SymPy's derivative.

For one step at small sizes (H = 2, D = 3 by default) every scalar of the step gets its own
symbol: each weight entry, bias entry, input, previous-state unit. The step is expanded into
scalars and the loss ``L = Σ g_s ⊙ s_t`` (random weights ``g`` on every new state) is
differentiated by SymPy directly. Independently, the derivation's per-unit adjoint equations
are evaluated unit by unit, with the reverse rules of the linear maps
(``δW = δa·vᵀ``, ``δb = δa``, ``δv = Wᵀ·δa``, from :mod:`lstm_sym.plan.linear_rules`).
Both are evaluated at random rational points to ``digits`` significant digits and must
agree there. The chain rule then carries the identity through time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from ..derive.model import Derivation, ForwardValue, LinearGroup
from ..derive.reverse import adjoint_symbol, seed_symbol
from ..plan.linear_rules import BIAS_RULE, OPERAND_RULE, WEIGHT_RULE
from ..spec.model import CellSpec, previous

__all__ = ["SymbolicResult", "symbolic_identity"]


@dataclass(frozen=True)
class SymbolicResult:
    """Outcome of :func:`symbolic_identity`.

    Attributes
    ----------
    passed : bool
        Every derivative agreed to ``digits`` digits at every point.
    max_relative_error : float
        Largest ``|derived − expected| / max(1, |expected|)`` seen.
    digits : int
        Working precision (significant digits).
    derivatives : int
        Number of scalar derivatives compared per point.
    points : int
        Number of random points.
    worst : str
        The scalar with the largest error.
    """

    passed: bool
    max_relative_error: float
    digits: int
    derivatives: int
    points: int
    worst: str


def _scalar(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


class _ExpandedStep:
    """One step of a cell with every scalar a symbol, unit by unit."""

    def __init__(self, derivation: Derivation, hidden_size: int, input_size: int) -> None:
        self.derivation = derivation
        spec = derivation.spec
        self.spec = spec
        self.H, self.D = hidden_size, input_size
        self.inputs: dict[str, list[sympy.Symbol]] = {}
        self.vectors: dict[str, list[sympy.Expr]] = {}
        x = spec.input_name
        self.vectors[x] = self._leaf(x, self.D)
        for state in spec.state_names:
            self.vectors[previous(state)] = self._leaf(previous(state), self.H)
        self.matrices: dict[str, list[list[sympy.Symbol]]] = {}
        for group in derivation.groups:
            width = sum(self.D if op == x else self.H for op in group.operands)
            for linear_map in group.maps:
                rows = [
                    [_scalar(f"{linear_map.weight}[{k},{j}]") for j in range(width)]
                    for k in range(self.H)
                ]
                self.matrices[linear_map.weight] = rows
                self.inputs[linear_map.weight] = [s for row in rows for s in row]
                if linear_map.bias:
                    self.vectors[linear_map.bias] = self._leaf(linear_map.bias, self.H)
        for adjoint in derivation.parameter_adjoints:
            self.vectors[adjoint.name] = self._leaf(adjoint.name, self.H)
        self._forward()

    def _leaf(self, name: str, size: int) -> list[sympy.Expr]:
        symbols = [_scalar(f"{name}[{k}]") for k in range(size)]
        self.inputs[name] = symbols
        return list(symbols)

    def concatenation(self, operands: tuple[str, ...]) -> list[sympy.Expr]:
        return [value for op in operands for value in self.vectors[op]]

    def _forward(self) -> None:
        for stage in self.derivation.stages:
            if isinstance(stage, LinearGroup):
                stacked = self.concatenation(stage.operands)
                for m in stage.maps:
                    rows = self.matrices[m.weight]
                    bias = self.vectors[m.bias] if m.bias else [sympy.Integer(0)] * self.H
                    self.vectors[m.target] = [
                        sympy.Add(*(w * v for w, v in zip(rows[k], stacked, strict=True))) + bias[k]
                        for k in range(self.H)
                    ]
            else:
                self.vectors[stage.target] = [self.unit(stage.expr, k) for k in range(self.H)]

    def unit(self, expr: sympy.Expr, k: int) -> sympy.Expr:
        """Substitute unit ``k`` of every vector into a per-unit expression."""
        mapping = {
            symbol: self.vectors[symbol.name][k]
            for symbol in expr.free_symbols
            if symbol.name in self.vectors
        }
        return expr.xreplace(mapping)


class _MatrixAlgebra:
    """The linear reverse rules on SymPy column vectors and matrices (one batch entry)."""

    def outer(self, delta: sympy.Matrix, operand: sympy.Matrix) -> sympy.Matrix:
        return delta * operand.T

    def transposed_product(self, weight: sympy.Matrix, delta: sympy.Matrix) -> sympy.Matrix:
        return weight.T * delta

    def batch_sum(self, delta: sympy.Matrix) -> sympy.Matrix:
        return delta


_ALGEBRA = _MatrixAlgebra()


def _derived_gradients(
    step: _ExpandedStep, seeds: dict[str, list[sympy.Expr]]
) -> dict[str, list[sympy.Expr]]:
    """Evaluate the derivation's adjoint equations unit by unit."""
    derivation, spec, H = step.derivation, step.spec, step.H
    adjoints: dict[str, list[sympy.Expr]] = {}
    for state in spec.state_names:
        adjoints[seed_symbol(state).name] = seeds[state]

    def evaluate(expr: sympy.Expr, k: int) -> sympy.Expr:
        mapping = {}
        for symbol in expr.free_symbols:
            if symbol.name in adjoints:
                mapping[symbol] = adjoints[symbol.name][k]
            elif symbol.name in step.vectors:
                mapping[symbol] = step.vectors[symbol.name][k]
            else:  # pragma: no cover - a derivation bug
                raise AssertionError(f"no value for {symbol} in the symbolic check")
        return expr.xreplace(mapping)

    gradients: dict[str, list[sympy.Expr]] = {}
    for stage in reversed(derivation.stages):
        if isinstance(stage, ForwardValue):
            if stage.equation is not None:
                adjoint = derivation.adjoint(stage.target)
                adjoints[adjoint.symbol.name] = [evaluate(adjoint.expr, k) for k in range(H)]
            continue
        for m in stage.maps:
            adjoint = derivation.adjoint(m.target)
            adjoints[adjoint.symbol.name] = [evaluate(adjoint.expr, k) for k in range(H)]
        stacked = sympy.Matrix(step.concatenation(stage.operands))
        deltas = {
            m.target: sympy.Matrix(adjoints[adjoint_symbol(m.target).name]) for m in stage.maps
        }
        for m in stage.maps:
            weight = sympy.Matrix(step.matrices[m.weight])
            gradients[m.weight] = list(
                WEIGHT_RULE.apply(_ALGEBRA, deltas[m.target], weight, stacked)
            )
            if m.bias:
                gradients[m.bias] = list(
                    BIAS_RULE.apply(_ALGEBRA, deltas[m.target], weight, stacked)
                )
        offset = 0
        for operand in stage.operands:
            size = len(step.vectors[operand])
            total = sympy.zeros(size, 1)
            for m in stage.maps:
                columns = sympy.Matrix(step.matrices[m.weight])[:, offset : offset + size]
                total += OPERAND_RULE.apply(_ALGEBRA, deltas[m.target], columns, stacked)
            adjoints[f"d_{operand}__stack{stage.index}"] = list(total)
            offset += size
    x = spec.input_name
    gradients[x] = [
        sympy.Add(
            *(adjoints[f"d_{x}__stack{g.index}"][j] for g in derivation.groups if x in g.operands)
        )
        for j in range(step.D)
    ]
    for adjoint in derivation.parameter_adjoints + derivation.previous_state_adjoints:
        gradients[adjoint.name] = [evaluate(adjoint.expr, k) for k in range(H)]
    return gradients


def symbolic_identity(
    spec_or_derivation: CellSpec | Derivation,
    *,
    hidden_size: int = 2,
    input_size: int = 3,
    points: int = 2,
    digits: int = 50,
    seed: int = 0,
) -> SymbolicResult:
    """Check the derivation of one step against SymPy's derivative of the expanded step.

    Parameters
    ----------
    spec_or_derivation : CellSpec or Derivation
        The cell (derived here when a spec is given).
    hidden_size, input_size : int
        ``H`` and ``D`` of the expanded step.
    points : int
        Number of random rational points.
    digits : int
        Significant digits of the evaluation; agreement is required to ``digits − 10``.
    seed : int
        Seed of the random points and loss weights.

    Returns
    -------
    SymbolicResult
    """
    from ..derive import derive

    derivation = (
        spec_or_derivation
        if isinstance(spec_or_derivation, Derivation)
        else derive(spec_or_derivation)
    )
    spec = derivation.spec
    step = _ExpandedStep(derivation, hidden_size, input_size)
    rng = random.Random(seed)

    def rational() -> sympy.Rational:
        return sympy.Rational(rng.randint(-900, 900), rng.randint(500, 1000))

    weights = {s: [rational() for _ in range(hidden_size)] for s in spec.state_names}
    loss = sympy.Add(
        *(w * v for s in spec.state_names for w, v in zip(weights[s], step.vectors[s], strict=True))
    )
    derived = _derived_gradients(step, weights)
    tolerance = sympy.Float(10) ** (-(digits - 10))
    worst_error, worst_name, count = sympy.Float(0), "", 0
    expected_exprs = {
        symbol: sympy.diff(loss, symbol) for symbols in step.inputs.values() for symbol in symbols
    }
    # Random rational points, entered as Floats of ``digits + 20`` significant digits: every
    # operation then evaluates as the expression is rebuilt (an exact rational substitution
    # followed by evalf re-evaluates nested σ and tanh at every level, minutes for big cells).
    working = digits + 20
    for _ in range(points):
        point = {
            s: sympy.Float(rational(), working) for symbols in step.inputs.values() for s in symbols
        }
        count = 0
        for name, symbols in step.inputs.items():
            for index, symbol in enumerate(symbols):
                expected = expected_exprs[symbol].xreplace(point).evalf(digits)
                got = derived[name][index].xreplace(point).evalf(digits)
                error = abs(got - expected) / max(sympy.Float(1), abs(expected))
                count += 1
                if error > worst_error or not worst_name:
                    worst_error, worst_name = error, str(symbol)
    return SymbolicResult(
        passed=bool(worst_error < tolerance),
        max_relative_error=float(worst_error),
        digits=digits,
        derivatives=count,
        points=points,
        worst=worst_name,
    )
