"""The generated torch modules go through the same checks as the NumPy kernels (issue #23)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from lstm_sym.backends import backend, verifiable
from lstm_sym.site.verification import _serialise, parse_reports, render_markdown
from lstm_sym.spec import builtin_cell_names, load_builtin
from lstm_sym.verify.gradcheck import AGREEMENT_TOLERANCE, FD_TOLERANCE, check_kernel, kernel_source
from lstm_sym.verify.mutation import mutants
from lstm_sym.verify.report import verify_cell

TORCH = backend("torch")
NUMPY = backend("numpy")


def _checked(source: str, cell: str = "gru"):  # type: ignore[no-untyped-def]
    """Every check of ``lstm-sym gradcheck`` on a torch module of ``cell``."""
    return check_kernel(
        source,
        cell,
        spec=load_builtin(cell),
        backend=TORCH,
        reference=kernel_source(cell, NUMPY),
    )


def _scaled_weight_gradient(source: str, factor: float) -> str:
    """``source`` whose ``SequenceFunction.backward`` returns its first parameter's gradient
    times ``factor`` (the second entry of the returned tuple; the first is ``xs``'s)."""
    tree = ast.parse(source)
    function = next(
        node
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and cls.name == "SequenceFunction"
        for node in cls.body
        if isinstance(node, ast.FunctionDef) and node.name == "backward"
    )
    returned = next(n for n in ast.walk(function) if isinstance(n, ast.Return))
    assert isinstance(returned.value, ast.Tuple)
    first = returned.value.elts[1]
    returned.value.elts[1] = ast.BinOp(first, ast.Mult(), ast.Constant(factor))
    return ast.unparse(ast.fix_missing_locations(tree))


def test_the_torch_backend_is_verified() -> None:
    """The torch backend can run what it renders, so every shared check includes it."""
    assert "torch" in [b.name for b in verifiable()]


@pytest.mark.parametrize("cell", builtin_cell_names())
def test_every_builtin_torch_module_passes_the_checks_of_gradcheck(cell: str) -> None:
    """Finite differences, block sizes, step API, float32, spec values, NumPy agreement."""
    report = _checked(kernel_source(cell, TORCH), cell)
    assert report.ok, report.first_failure()
    assert report.results[-1].name.startswith("outputs and gradients vs the numpy kernel")


def test_a_wrong_weight_gradient_in_the_torch_backward_fails_by_finite_differences() -> None:
    """A torch module whose backward returns 1.5× a weight's gradient fails the first check."""
    report = _checked(_scaled_weight_gradient(kernel_source("gru", TORCH), 1.5))
    failure = report.first_failure()
    assert failure is not None and failure.name.startswith("finite differences")
    assert failure.failing() == ["W_z"]


def test_a_gradient_off_by_one_part_in_a_billion_fails_only_the_numpy_agreement() -> None:
    """An error far below the finite-difference tolerance is caught by the 1e-12 agreement."""
    report = _checked(_scaled_weight_gradient(kernel_source("gru", TORCH), 1 + 1e-9))
    failed = [result for result in report.results if not result.ok]
    assert [r.name.split(" (")[0] for r in failed] == ["outputs and gradients vs the numpy kernel"]
    assert failed[0].failing() == ["dW_z"]
    assert AGREEMENT_TOLERANCE < 1e-9 < FD_TOLERANCE


def test_a_buffer_read_before_it_is_written_shows_as_nan() -> None:
    """Dropping a write into an ``out=`` buffer of the backward leaves NaN, not stale values."""
    source = kernel_source("lstm", TORCH)
    dropped = next(
        m
        for m in mutants(source, "lstm", backend="torch")
        if m.operator == "drop_term" and "out=_da" in m.before
    )
    report = _checked(dropped.source, "lstm")
    failure = report.first_failure()
    assert failure is not None
    assert any(error != error for error in failure.errors.values())  # NaN


def test_torch_mutants_reach_both_passes_of_the_autograd_function() -> None:
    """The mutation check changes SequenceFunction.forward and .backward, nothing else."""

    def methods(text: str) -> dict[str, str]:
        return {
            f"{cls.name}.{node.name}" if isinstance(cls, ast.ClassDef) else node.name: ast.unparse(
                node
            )
            for cls in ast.parse(text).body
            for node in (cls.body if isinstance(cls, ast.ClassDef) else [cls])
            if isinstance(node, ast.FunctionDef)
        }

    source = kernel_source("gru", TORCH)
    original = methods(source)
    touched: set[str] = set()
    for mutant in mutants(source, "gru", backend="torch"):
        changed = methods(mutant.source)
        touched |= {name for name, text in changed.items() if original[name] != text}
    assert touched == {"SequenceFunction.forward", "SequenceFunction.backward"}


def test_the_verification_page_lists_the_torch_module_of_a_cell() -> None:
    """verify_cell checks gru's torch module, and the page has a section for it."""
    reports = [verify_cell("gru", backend=name) for name in ("numpy", "torch")]
    torch_report = reports[1]
    assert torch_report.passed and torch_report.backend == "torch"
    assert torch_report.checks[-1]["name"].startswith("outputs and gradients vs the numpy")
    payload = json.dumps({"reports": [_serialise(r) for r in reports]})
    markdown = render_markdown(parse_reports(payload))
    assert "## Kernel `gru (torch)` — passed" in markdown
    assert "| outputs and gradients vs the numpy kernel" in markdown


def test_without_torch_the_torch_backend_is_skipped_with_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With torch unimportable, verify_cell reports why nothing was checked."""
    monkeypatch.setitem(sys.modules, "torch", None)
    report = verify_cell("gru", backend="torch")
    assert not report.checks and "lstm_sym[torch]" in report.skipped
    assert "not checked" in render_markdown([report])


def test_the_package_and_its_checks_import_without_torch() -> None:
    """Importing the backends and the checks does not import torch."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from lstm_sym.backends import verifiable\n"
        "import lstm_sym.verify.gradcheck, lstm_sym.verify.mutation\n"
        "print([b.name for b in verifiable()], verifiable()[-1].missing() is not None)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "['numpy', 'torch'] True"
