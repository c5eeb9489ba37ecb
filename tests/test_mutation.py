"""The mutation check: it produces every kind of mutant, and the checks kill real mistakes."""

from __future__ import annotations

from collections import Counter

from lstm_sym.regenerate import repository_root
from lstm_sym.verify.mutation import evaluate_mutant, mutants

SOURCE = (repository_root() / "lstm_sym" / "kernels" / "lstm.py").read_text()


def test_every_mutation_operator_finds_sites_in_the_lstm_backward():
    """The LSTM backward offers sign swaps, dropped terms, constants, transposes and shifts."""
    operators = Counter(m.operator for m in mutants(SOURCE, "lstm"))
    assert set(operators) == {"swap_sign", "drop_term", "constant", "transpose", "time_shift"}


def test_mutants_change_only_the_backward_function():
    """Every mutant's forward function is identical to the generated one."""
    import ast

    def forward_source(source: str) -> str:
        tree = ast.parse(source)
        return next(
            ast.unparse(n)
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name == "_forward"
        )

    original = forward_source(SOURCE)
    assert all(forward_source(m.source) == original for m in list(mutants(SOURCE, "lstm"))[:10])


def test_a_sign_swap_in_the_cell_adjoint_is_killed_by_finite_differences():
    """Turning d_C += d_C_in into d_C -= d_C_in is caught by the finite-difference check."""
    target = next(
        m
        for m in mutants(SOURCE, "lstm")
        if m.operator == "swap_sign" and m.before == "d_C += d_C_in"
    )
    result = evaluate_mutant(target, use_torch=False)
    assert result.killed_by == "finite differences"


def test_a_shifted_time_index_is_killed():
    """Reading the cached forget gate of the wrong step is detected."""
    target = next(
        m for m in mutants(SOURCE, "lstm") if m.operator == "time_shift" and m.before == "f_seq[_t]"
    )
    assert evaluate_mutant(target).killed_by is not None
