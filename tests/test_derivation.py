"""The symbolic derivation: adjoints via cached values, stable sigmoid, identity check."""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy

from lstm_sym.derive import LinearGroup, derive
from lstm_sym.spec import load_builtin
from lstm_sym.spec.functions import sigmoid
from lstm_sym.verify.symbolic import symbolic_identity


def _lstm():
    return derive(load_builtin("lstm"))


def test_sigmoid_derivative_is_written_through_its_value():
    """dσ(a)/da is σ(a)(1 − σ(a)), and equals the derivative of 1/(1 + e^{−a})."""
    a = sympy.Symbol("a", real=True)
    derivative = sympy.diff(sigmoid(a), a)
    assert derivative == sigmoid(a) * (1 - sigmoid(a))
    naive = sympy.diff(1 / (1 + sympy.exp(-a)), a)
    for value in (-3, sympy.Rational(1, 7), 5):
        assert abs((derivative - naive).subs(a, value).evalf(40)) < 1e-35


def test_gate_adjoints_use_cached_gate_values():
    """δa_f is δf ⊙ f ⊙ (1 − f): the forward value f, not σ(a_f), appears in it."""
    derivation = _lstm()
    f, d_f = sympy.symbols("f d_f", real=True)
    assert sympy.expand(derivation.adjoint("a_f").expr - d_f * f * (1 - f)) == 0
    free = {s.name for a in derivation.adjoints for s in a.expr.free_symbols}
    assert "a_f" not in free and "a_C" not in free


def test_cell_state_adjoint_follows_the_lecture_chain_rule():
    """δC_t = δC_t^in + δh_t ⊙ o_t ⊙ (1 − tanh²(C_t)), with tanh(C_t) a cached value."""
    derivation = _lstm()
    d_C_in, d_h, o, tanh_C = sympy.symbols("d_C_in d_h o tanh_C", real=True)
    assert derivation.auxiliary == {"tanh_C": sympy.tanh(sympy.Symbol("C", real=True))}
    expected = d_C_in + d_h * o * (1 - tanh_C**2)
    assert sympy.expand(derivation.adjoint("C").expr - expected) == 0
    assert "tanh_C" in derivation.cached


def test_previous_cell_state_adjoint_is_scaled_by_the_forget_gate():
    """δC_{t−1} = δC_t ⊙ f_t: the forget gate alone carries the cell gradient back in time."""
    d_C, f = sympy.symbols("d_C f", real=True)
    assert _lstm().adjoint("C_prev").expr == d_C * f


def test_all_four_gates_share_one_stacked_linear_group():
    """The four pre-activations on [h_prev, x] form one group, hence one GEMM per step."""
    groups = [s for s in _lstm().stages if isinstance(s, LinearGroup)]
    assert len(groups) == 1
    assert [m.target for m in groups[0].maps] == ["a_f", "a_i", "a_C", "a_o"]


def test_symbolic_identity_holds_to_forty_digits():
    """At H=2, D=3 every derived scalar gradient equals SymPy's derivative of the expanded step."""
    result = symbolic_identity(load_builtin("lstm"), hidden_size=2, input_size=3, digits=50)
    assert result.passed
    assert result.derivatives == 4 * (2 * 5 + 2) + 3 + 2 + 2
    assert result.max_relative_error < 1e-40


def test_symbolic_identity_detects_a_wrong_adjoint():
    """Scaling one adjoint term by 1.001 makes the identity check fail."""
    derivation = _lstm()
    adjoints = list(derivation.adjoints)
    index = [a.name for a in adjoints].index("a_o")
    term = adjoints[index].terms[0]
    wrong = dataclasses.replace(term, expr=term.expr * sympy.Rational(1001, 1000))
    adjoints[index] = dataclasses.replace(adjoints[index], terms=(wrong,))
    result = symbolic_identity(dataclasses.replace(derivation, adjoints=tuple(adjoints)))
    assert not result.passed
    assert result.max_relative_error > 1e-5


def test_stable_sigmoid_has_no_overflow_at_extremes():
    """The kernel's sigmoid saturates to exactly 0 and 1 at ±800, warns about nothing, and is
    within one rounding of 1 of the exact logistic function everywhere."""
    from lstm_sym.kernels.lstm import _sigmoid

    points = np.array([-800.0, -30.0, -3.0, 0.0, 0.7, 30.0, 800.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = _sigmoid(points, np.empty_like(points))
    assert values[0] == 0.0 and values[-1] == 1.0 and values[3] == 0.5
    exact = [float(1 / (1 + sympy.exp(-sympy.Float(p, 30)))) for p in points]
    assert np.max(np.abs(values - exact)) <= 2.3e-16
