"""The generator's layout decisions: row order, activation blocks and factored adjoints."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy

from lstm_sym.derive.reverse import derive
from lstm_sym.kernels import load_kernel
from lstm_sym.plan.adjoint_factors import adjoint_symbols, plan_adjoints, row_sources
from lstm_sym.plan.stack_layout import activation_blocks, activation_kinds, row_order
from lstm_sym.spec import builtin_cell_names, load_builtin
from lstm_sym.verify.finite_differences import make_problem
from lstm_sym.verify.mutation import Mutant, evaluate_mutant


def _layout(cell: str) -> tuple:
    derivation = derive(load_builtin(cell))
    kinds = activation_kinds(derivation)
    sources = row_sources(derivation)
    orders = {g.index: row_order(g, kinds, sources) for g in derivation.groups}
    return derivation, kinds, orders


def _resolved(expr: sympy.Expr, substitutions: dict) -> sympy.Expr:
    for _ in range(50):
        replaced = expr.xreplace(substitutions)
        if replaced == expr:
            return expr
        expr = replaced
    raise AssertionError("substitutions do not terminate")  # pragma: no cover


@pytest.mark.parametrize("cell", builtin_cell_names())
def test_factored_adjoints_equal_the_derived_adjoints(cell):
    """Every stored adjoint, with its factors and substitutions expanded, is the derived one."""
    derivation, _, orders = _layout(cell)
    plan = plan_adjoints(derivation, orders)
    factors = {f.symbol: f.expr for f in plan.factors}
    rows = {m.target for group in derivation.groups for m in group.maps}
    stored = {sympy.Symbol(f"d_{n}", real=True): plan.forms[n].expr for n in rows}
    every = derivation.adjoints + derivation.parameter_adjoints
    every += derivation.previous_state_adjoints
    # Adjoints the plan does not store, written as the derivation gives them.
    unstored = {a.symbol: a.expr for a in every if a.name not in plan.forms}
    for adjoint in every:
        if adjoint.name not in plan.forms:
            continue
        derived = _resolved(adjoint.expr, unstored)
        form = plan.forms[adjoint.name].expr.xreplace(factors)
        # A term may read a stacked row's stored adjoint (a peephole's δa_f ⊙ C_prev).
        readers = {s: v.xreplace(factors) for s, v in stored.items() if s != adjoint.symbol}
        form = _resolved(form, readers)
        assert sympy.expand(derived - form) == 0, adjoint.name


@pytest.mark.parametrize("cell", builtin_cell_names())
def test_factors_read_forward_values_only(cell):
    """No factor expression contains an adjoint, so it can be computed before the steps run."""
    derivation, _, orders = _layout(cell)
    adjoints = adjoint_symbols(derivation)
    for factor in plan_adjoints(derivation, orders).factors:
        assert not factor.expr.free_symbols & adjoints, factor.name


def test_single_term_adjoints_of_the_lstm_are_not_stored():
    """δf = C_prev δC and the other single-term adjoints are substituted, not stored."""
    derivation, _, orders = _layout("lstm")
    plan = plan_adjoints(derivation, orders)
    assert {"f", "i", "o", "C_tilde"}.isdisjoint(plan.forms)
    assert sympy.Symbol("d_f", real=True) in plan.inlined


def test_lstm_rows_put_sigmoid_gates_and_cell_fed_rows_together():
    """The LSTM's three sigmoid rows are adjacent, and so are the three rows fed by δC."""
    _, kinds, orders = _layout("lstm")
    order = orders[0]
    sigmoid = [k for k, target in enumerate(order) if kinds[target][0] == "sigmoid"]
    assert sigmoid == list(range(sigmoid[0], sigmoid[0] + 3))
    fed_by_cell = [k for k, t in enumerate(order) if t in ("a_f", "a_i", "a_C")]
    assert fed_by_cell == list(range(fed_by_cell[0], fed_by_cell[0] + 3))


def test_lstm_gates_form_one_activation_block():
    """All four LSTM gates are computed by one block, its sigmoid rows marked."""
    derivation, kinds, orders = _layout("lstm")
    (block,) = activation_blocks(derivation.groups[0], orders[0], kinds)
    assert (block.first, block.stop) == (0, 4)
    assert set(block.outputs) == {"f", "i", "o", "C_tilde"}
    assert sum(stop - first for first, stop in block.sigmoid_rows) == 3


def test_peephole_gates_are_not_blocked():
    """A gate that reads more than its pre-activation (a peephole) stays out of a block."""
    _, kinds, _ = _layout("peephole_lstm")
    assert "a_f" not in kinds and "a_o" not in kinds


def test_halved_rows_store_twice_the_adjoint():
    """Rows holding a / 2 store twice the adjoint of a: their factors carry the 2."""
    derivation, _, orders = _layout("lstm")
    plain = plan_adjoints(derivation, orders)
    halved = plan_adjoints(derivation, orders, frozenset({"a_f"}))
    (term,) = halved.forms["a_f"].terms
    (plain_term,) = plain.forms["a_f"].terms
    ratio = halved.factor_of(term.coefficient).expr / plain.factor_of(plain_term.coefficient).expr
    assert sympy.simplify(ratio) == 2


def test_lstm_forward_computes_all_gates_with_one_tanh_call():
    """The generated LSTM step calls tanh twice (gates, cell) and never the slow sigmoid."""
    source = load_kernel("lstm").__file__
    text = open(source, encoding="utf-8").read()
    loop = text[text.index("    for _t in range(_T):") : text.index("    _hs = h_seq[1:]")]
    assert len(re.findall(r"np\.tanh\(", loop)) == 2
    assert "_sigmoid(" not in loop


def test_forward_leaves_the_parameters_unchanged():
    """Halving the sigmoid rows works on a copy: the caller's parameters keep their values."""
    kernel = load_kernel("lstm")
    problem = make_problem(kernel, steps=3, batch=2, seed=1)
    before = {name: value.copy() for name, value in problem.params.items()}
    kernel.forward(problem.xs, problem.params)
    for name, value in problem.params.items():
        np.testing.assert_array_equal(value, before[name])


def test_a_skipped_factor_block_is_caught_by_the_mutation_check():
    """A backward pass that never computes its last block of factors is rejected."""
    kernel = load_kernel("lstm")
    source = open(kernel.__file__, encoding="utf-8").read()
    condition = "if _t == _T - 1 or _factor_step == _factor_steps - 1:"
    assert condition in source
    mutated = source.replace(condition, "if _factor_step == _factor_steps - 1:")
    result = evaluate_mutant(Mutant("lstm", "test", 0, condition, "skip", mutated))
    assert result.killed_by is not None


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_non_contiguous_inputs_give_the_same_gradients(cell):
    """Inputs in Fortran order, whose blocks of steps are not contiguous, change nothing."""
    kernel = load_kernel(cell)
    problem = make_problem(kernel, steps=5, batch=3, seed=2)
    _, _, cache = kernel.forward(problem.xs, problem.params)
    expected = kernel.backward(problem.dhs, cache)
    _, _, cache = kernel.forward(np.asfortranarray(problem.xs), problem.params)
    got = kernel.backward(problem.dhs, cache)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_peephole_gradients_are_summed_per_block_of_steps():
    """The peephole weights' gradients are reductions over whole blocks, not per-step sums."""
    text = open(load_kernel("peephole_lstm").__file__, encoding="utf-8").read()
    assert "d_p_f_step" not in text
    assert text.count('np.einsum("tbh,tbh->h"') == 3
