"""Run every check on every built-in kernel and collect the figures for the docs.

Reads kernels and specs; never writes them.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
import sympy

from ..backends import backend as find_backend
from ..backends import verifiable
from ..spec import builtin_cell_names, load_builtin
from .finite_differences import FD_TOLERANCE, finite_difference_errors, make_problem
from .gradcheck import check_kernel, default_backend, kernel_source
from .symbolic import symbolic_identity

__all__ = ["TORCH_TOLERANCE", "CellVerification", "verify_all", "verify_cell"]

#: Relative error allowed against the torch oracle (float64).
TORCH_TOLERANCE = 1e-10


@dataclass
class CellVerification:
    """Every check of one generated kernel.

    Attributes
    ----------
    cell : str
    passed : bool
        All three checks passed.
    failures : list of str
        One line per failed check, naming cell and tensor.
    finite_differences : dict of str to float
        Relative error per tensor against central differences.
    fd_tolerance : float
    torch : dict of str to float or None
        Relative error per tensor against torch autograd; ``None`` when the cell has no
        torch oracle or torch is not installed (``torch_note`` says which).
    torch_tolerance : float
    torch_note : str
    symbolic_passed : bool
    symbolic_max_abs_error : float
        Largest relative disagreement of the symbolic identity check.
    symbolic_digits : int
    symbolic_derivatives : int
    versions : dict of str to str
    backend : str
        The registered backend whose kernel was checked.
    checks : list of dict
        The checks of ``lstm-sym gradcheck`` (:func:`~lstm_sym.verify.gradcheck.check_kernel`)
        on the committed file, in order: ``name``, ``worst`` (largest relative error) and
        ``tolerance`` each; for a backend other than NumPy the last compares it with the
        NumPy kernel.
    symbolic_note : str
        Why the symbolic identity was not run here (it checks the derivation, which every
        backend prints; it runs once, with the NumPy kernel), or ``""``.
    skipped : str
        Why nothing was checked (the backend cannot run here, e.g. torch not installed), or
        ``""``.
    """

    cell: str
    passed: bool = True
    failures: list[str] = field(default_factory=list)
    finite_differences: dict[str, float] = field(default_factory=dict)
    fd_tolerance: float = FD_TOLERANCE
    torch: dict[str, float] | None = None
    torch_tolerance: float = TORCH_TOLERANCE
    torch_note: str = ""
    symbolic_passed: bool = False
    symbolic_max_abs_error: float = float("nan")
    symbolic_digits: int = 0
    symbolic_derivatives: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    backend: str = ""
    checks: list[dict[str, object]] = field(default_factory=list)
    symbolic_note: str = ""
    skipped: str = ""

    def fail(self, message: str) -> None:
        """Record a failed check."""
        self.passed = False
        self.failures.append(message)


def _versions() -> dict[str, str]:
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sympy": sympy.__version__,
    }
    try:
        import torch

        versions["torch"] = str(torch.__version__)
    except ImportError:
        versions["torch"] = "not installed"
    return versions


def _torch_errors(kernel: ModuleType) -> tuple[dict[str, float] | None, str]:
    try:
        from .torch_oracle import ORACLES, torch_errors
    except ImportError as error:
        return None, f"torch oracle unavailable: {error}"
    if kernel.CELL not in ORACLES:
        return None, "no torch oracle for this cell"
    return torch_errors(kernel), "torch autograd, float64"


def verify_cell(
    name: str,
    *,
    backend: str | None = None,
    kernel: ModuleType | None = None,
    progress: Callable[[str], None] | None = None,
) -> CellVerification:
    """Run the finite-difference, torch, ``gradcheck`` and symbolic checks on one built-in cell.

    The symbolic identity runs for the default backend only (it checks the derivation, not
    a file); a backend that cannot run here (:meth:`~lstm_sym.backends.Backend.missing`)
    gives a report that says why and checks nothing.

    Parameters
    ----------
    name : str
        A built-in cell.
    backend : str, optional
        The registered backend whose committed file is checked (default: the first
        verifiable one, NumPy), loaded with the block settings it ships with.
    kernel : object, optional
        The kernel to check instead (anything with the kernel API).
    progress : callable, optional
        Receives a message before each check.
    """
    target = default_backend() if backend is None else find_backend(backend)
    report = CellVerification(cell=name, versions=_versions(), backend=target.name)
    if kernel is None:
        if target.load is None:
            raise ValueError(f"backend {target.name!r} cannot run what it renders")
        reason = target.missing()
        if reason is not None:
            report.skipped = f"backend {target.name} not checked: {reason}"
            return report
        numpy = default_backend()
        source = kernel_source(name, target)
        if progress:
            progress(f"{name}: checks of lstm-sym gradcheck ({target.name})")
        checked = check_kernel(
            source,
            name,
            spec=load_builtin(name),
            backend=target,
            reference=None if target is numpy else kernel_source(name, numpy),
        )
        for result in checked.results:
            report.checks.append(
                {"name": result.name, "worst": result.worst, "tolerance": result.tolerance}
            )
            if not result.ok:
                report.fail(f"{name}: {result.name} failed for {', '.join(result.failing())}")
        # The per-tensor table: the first finite-difference run of those checks.
        report.finite_differences = dict(checked.results[0].errors)
        shipped = list(target.block_settings.values())[-1]
        kernel = target.load(source, name, shipped)
    else:
        if progress:
            progress(f"{name}: finite differences")
        report.finite_differences = finite_difference_errors(make_problem(kernel))
        for tensor, error in report.finite_differences.items():
            if not error < FD_TOLERANCE:
                report.fail(f"{name}: finite-difference check failed for {tensor}: {error:.2e}")
    if progress:
        progress(f"{name}: torch oracle")
    report.torch, report.torch_note = _torch_errors(kernel)
    for tensor, error in (report.torch or {}).items():
        if not error < TORCH_TOLERANCE:
            report.fail(f"{name}: torch check failed for {tensor}: {error:.2e}")
    if target is not default_backend():
        report.symbolic_note = (
            f"The symbolic identity checks the derivation, which every backend prints; "
            f"it ran with the {default_backend().name} kernel."
        )
        return report
    if progress:
        progress(f"{name}: symbolic identity")
    symbolic = symbolic_identity(load_builtin(name))
    report.symbolic_passed = symbolic.passed
    report.symbolic_max_abs_error = symbolic.max_relative_error
    report.symbolic_digits = symbolic.digits
    report.symbolic_derivatives = symbolic.derivatives
    if not symbolic.passed:
        report.fail(
            f"{name}: symbolic identity failed at {symbolic.worst}: "
            f"{symbolic.max_relative_error:.2e}"
        )
    return report


def verify_all(
    names: Iterable[str] | None = None, *, progress: Callable[[str], None] | None = None
) -> list[CellVerification]:
    """Run :func:`verify_cell` on the given built-in cells (all by default), every backend."""
    cells = list(names or builtin_cell_names())
    return [
        verify_cell(name, backend=b.name, progress=progress) for b in verifiable() for name in cells
    ]
