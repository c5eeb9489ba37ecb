"""The mutation check: it mutates what runs, and `lstm-sym gradcheck`'s checks kill mistakes."""

from __future__ import annotations

import ast
from collections import Counter

from lstm_sym.regenerate import repository_root
from lstm_sym.verify.mutation import evaluate_mutant, mutants, mutation_operators

SOURCE = (repository_root() / "lstm_sym" / "kernels" / "lstm.py").read_text()


def test_every_mutation_operator_finds_sites_in_the_lstm_kernel():
    """The LSTM kernel offers sign swaps, dropped terms, constants, transposes and shifts."""
    operators = Counter(mutation_operators(SOURCE))
    assert set(operators) == {"swap_sign", "drop_term", "constant", "transpose", "time_shift"}


def test_mutants_reach_forward_backward_and_step_backward():
    """Mutation sites lie in _forward, backward and step_backward, never in the helpers."""

    def changed_functions(source: str) -> set[str]:
        original = {
            n.name: ast.unparse(n) for n in ast.parse(SOURCE).body if isinstance(n, ast.FunctionDef)
        }
        return {
            n.name
            for n in ast.parse(source).body
            if isinstance(n, ast.FunctionDef) and ast.unparse(n) != original[n.name]
        }

    touched = Counter()
    for mutant in mutants(SOURCE, "lstm"):
        touched.update(changed_functions(mutant.source))
    assert {"_forward", "backward", "step_backward"} <= set(touched)
    assert not {name for name in touched if name.startswith("_check") or name == "_sigmoid"}


def test_mutation_operators_list_the_mutants_in_order():
    """mutation_operators names each mutant's operator in the order mutants() yields them."""
    assert mutation_operators(SOURCE) == [m.operator for m in mutants(SOURCE, "lstm")]


def test_a_sign_swap_in_the_cell_adjoint_is_killed_by_finite_differences():
    """Turning d_C += d_C_in into d_C -= d_C_in is caught by the finite-difference check."""
    target = next(
        m
        for m in mutants(SOURCE, "lstm")
        if m.operator == "swap_sign" and m.before == "d_C += d_C_in"
    )
    assert evaluate_mutant(target).killed_by.startswith("finite differences")


def test_a_shifted_time_index_is_killed():
    """Reading the cached forget gate of the wrong step is detected."""
    target = next(
        m for m in mutants(SOURCE, "lstm") if m.operator == "time_shift" and m.before == "f_seq[_t]"
    )
    assert evaluate_mutant(target).killed_by is not None


def test_the_factor_block_boundary_mutant_of_the_issue_is_killed():
    """'_factor_steps - 1' -> '+ 1' in the backward's factor blocks is killed by gradcheck."""
    target = next(
        m
        for m in mutants(SOURCE, "lstm")
        if m.before == "_factor_steps - 1" and m.after == "_factor_steps + 1"
    )
    assert evaluate_mutant(target).killed_by is not None
