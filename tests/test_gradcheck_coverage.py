"""`lstm-sym gradcheck` checks what runs: block boundaries, several shapes, step API, float32."""

from __future__ import annotations

import pytest

from lstm_sym.verify.finite_differences import finite_difference_errors, make_problem
from lstm_sym.verify.gradcheck import check_kernel, kernel_from_source, kernel_source

LSTM = kernel_source("lstm")


def _backward_part(source: str) -> tuple[str, str]:
    start = source.index("def backward(")
    return source[:start], source[start:]


def _mutate_backward(old: str, new: str) -> str:
    head, tail = _backward_part(LSTM)
    assert old in tail
    return head + tail.replace(old, new, 1)


def _plain_fd_passes(source: str) -> bool:
    """The check gradcheck ran before: T=3, B=2 with the shipped block constants."""
    errors = finite_difference_errors(make_problem(kernel_from_source(source, "lstm")))
    return max(errors.values()) < 1e-7


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "_factor_step == _factor_steps - 1",
            "_factor_step == _factor_steps + 1",
        ),
        ("_t_end = min(_T, _t + _steps)", "_t_end = min(_T, _steps)"),
    ],
    ids=["factor-block-end", "chunk-end"],
)
def test_block_bookkeeping_mutants_of_the_issue_fail_gradcheck(old, new):
    """Mutants the T=3, B=2 check let through fail the checks with small block constants."""
    mutant = _mutate_backward(old, new)
    assert _plain_fd_passes(mutant)
    try:
        report = check_kernel(mutant, "lstm", stop_early=True)
    except Exception:  # a crash is a failed check too
        return
    assert not report.ok


def test_a_wrong_step_backward_fails_the_step_api_check():
    """step_backward returning twice the input gradient fails only the step API check."""
    old = '_result["x"] = _grads["xs"][0]'
    assert old in LSTM
    report = check_kernel(LSTM.replace(old, '_result["x"] = 2 * _grads["xs"][0]'), "lstm")
    assert [r.name.split(" ")[0] for r in report.results if not r.ok] == ["step"]


def test_the_shipped_lstm_passes_every_check():
    """The committed LSTM kernel passes finite differences, block sizes, step API, float32."""
    report = check_kernel(LSTM, "lstm")
    assert report.ok and len(report.results) == 8


def test_a_forward_consistent_with_its_backward_fails_the_forward_values_check():
    """f = 2 - i instead of 1 - i in the CIFG forward passes finite differences, not the spec."""
    from lstm_sym.spec import load_builtin

    source = kernel_source("lstm_cifg")
    old = "np.subtract(1, i, out=f)"
    assert old in source
    mutant = source.replace(old, "np.subtract(2, i, out=f)")
    report = check_kernel(mutant, "lstm_cifg", spec=load_builtin("lstm_cifg"))
    assert [r.name.split(" ")[0] for r in report.results if not r.ok] == ["forward"]
