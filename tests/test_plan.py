"""The kernel plan and the linear reverse rules every printer shares."""

from __future__ import annotations

import numpy as np
import sympy

from lstm_sym.derive import derive
from lstm_sym.plan.kernel_plan import GroupBackward, build_plan
from lstm_sym.plan.linear_rules import BIAS_RULE, OPERAND_RULE, WEIGHT_RULE
from lstm_sym.spec import load_builtin


class _ArrayAlgebra:
    """The rules on NumPy arrays whose rows are batch entries."""

    def outer(self, delta: np.ndarray, operand: np.ndarray) -> np.ndarray:
        return delta.T @ operand

    def transposed_product(self, weight: np.ndarray, delta: np.ndarray) -> np.ndarray:
        return delta @ weight

    def batch_sum(self, delta: np.ndarray) -> np.ndarray:
        return delta.sum(axis=0)


def _loss(weight: np.ndarray, bias: np.ndarray, operand: np.ndarray, g: np.ndarray) -> float:
    return float(np.sum(g * (operand @ weight.T + bias)))


def _central(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        bumped = x.copy()
        bumped[index] += eps
        up = f(bumped)
        bumped[index] -= 2 * eps
        grad[index] = (up - f(bumped)) / (2 * eps)
    return grad


def test_linear_rules_match_central_differences_of_a_linear_map() -> None:
    """δW, δb and δv from the three rules equal central differences of L = Σ g ⊙ (v Wᵀ + b)."""
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(4, 3)), rng.normal(size=4)
    operand, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    algebra = _ArrayAlgebra()
    got = {
        "W": WEIGHT_RULE.apply(algebra, g, weight, operand),
        "b": BIAS_RULE.apply(algebra, g, weight, operand),
        "v": OPERAND_RULE.apply(algebra, g, weight, operand),
    }
    expected = {
        "W": _central(lambda w: _loss(w, bias, operand, g), weight),
        "b": _central(lambda b: _loss(weight, b, operand, g), bias),
        "v": _central(lambda v: _loss(weight, bias, v, g), operand),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-7, atol=1e-8, err_msg=name)


def test_unhalved_plan_row_adjoints_are_half_the_halved_ones() -> None:
    """Planned without halved sigmoid rows, a sigmoid row's adjoint is half the halved one's."""
    derivation = derive(load_builtin("lstm"))
    halved, plain = build_plan(derivation), build_plan(derivation, halve_sigmoid_rows=False)
    assert halved.halved and not plain.halved

    def expanded(plan, target: str) -> sympy.Expr:
        factors = {f.symbol: f.expr for f in plan.adjoints.factors}
        return plan.adjoints.forms[target].expr.xreplace(factors)

    for target in halved.halved:
        difference = expanded(halved, target) - 2 * expanded(plain, target)
        assert sympy.simplify(difference) == 0, target


def test_backward_statements_visit_every_group_once() -> None:
    """The plan's backward statements hold one GroupBackward per linear group, in reverse."""
    plan = build_plan(derive(load_builtin("gru")))
    visited = [s.group.index for s in plan.backward if isinstance(s, GroupBackward)]
    assert visited == sorted((g.index for g in plan.groups), reverse=True)
