"""The verification page, produced during every site build.

:func:`start` launches ``python -m lstm_sym.site.verification`` in a child process, which calls
:func:`lstm_sym.verify.report.verify_all` and prints the reports as JSON. Running it in a fresh
process means ``mkdocs serve`` always checks the kernels as they are on disk (no stale imports),
the check overlaps with the rest of the build, and ``PYTHONPATH`` decides which checkout is
verified. :func:`render_markdown` turns the reports into the Markdown that replaces the marker in
``docs/verification.md``; :func:`failure_message` names every failing kernel and tensor so the
build can stop with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_ENV",
    "MARKER",
    "CellReport",
    "VerificationError",
    "VerificationRun",
    "failure_message",
    "fingerprint",
    "load_cached",
    "main",
    "parse_reports",
    "render_markdown",
    "start",
    "store_cached",
]

#: The line in ``docs/verification.md`` that the build replaces with the report.
MARKER = "<!-- lstm-sym:verification-report -->"

#: Seconds the child process may take before the build gives up.
TIMEOUT_S = 600.0


class VerificationError(RuntimeError):
    """Raised when the verification could not run, or one of its checks failed."""


@dataclasses.dataclass(frozen=True)
class CellReport:
    """A JSON-safe copy of one :class:`lstm_sym.verify.report.CellVerification`."""

    cell: str
    passed: bool
    failures: list[str]
    finite_differences: dict[str, float]
    fd_tolerance: float
    torch: dict[str, float] | None
    torch_tolerance: float
    symbolic_passed: bool
    symbolic_max_abs_error: float
    symbolic_digits: int
    versions: dict[str, str]
    torch_note: str = ""
    backend: str = ""
    checks: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    symbolic_note: str = ""
    skipped: str = ""


_FIELDS = tuple(field.name for field in dataclasses.fields(CellReport))


_OPTIONAL: dict[str, Any] = {
    "torch_note": "",
    "backend": "",
    "checks": [],
    "symbolic_note": "",
    "skipped": "",
}


def _to_plain(report: object) -> dict[str, Any]:
    """Read the fields of a ``CellVerification`` (dataclass, attrs class or mapping)."""
    if isinstance(report, Mapping):
        return {name: report.get(name, _OPTIONAL.get(name)) for name in _FIELDS}
    return {name: getattr(report, name, _OPTIONAL.get(name)) for name in _FIELDS}


def _float_or_str(value: float) -> float | str:
    """Keep JSON valid for non-finite numbers (NaN, inf) by spelling them as strings."""
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _serialise(report: object) -> dict[str, Any]:
    plain = _to_plain(report)
    plain["finite_differences"] = {
        str(k): _float_or_str(v) for k, v in plain["finite_differences"].items()
    }
    if plain["torch"] is not None:
        plain["torch"] = {str(k): _float_or_str(v) for k, v in plain["torch"].items()}
    for key in ("fd_tolerance", "torch_tolerance", "symbolic_max_abs_error"):
        plain[key] = _float_or_str(plain[key])
    plain["versions"] = {str(k): str(v) for k, v in plain["versions"].items()}
    plain["failures"] = [str(f) for f in plain["failures"]]
    plain["passed"] = bool(plain["passed"])
    plain["symbolic_passed"] = bool(plain["symbolic_passed"])
    plain["symbolic_digits"] = int(plain["symbolic_digits"])
    plain["cell"] = str(plain["cell"])
    plain["torch_note"] = str(plain["torch_note"] or "")
    plain["backend"] = str(plain["backend"] or "")
    plain["checks"] = [
        {
            "name": str(check["name"]),
            "worst": _float_or_str(check["worst"]),
            "tolerance": _float_or_str(check["tolerance"]),
        }
        for check in plain["checks"] or []
    ]
    plain["symbolic_note"] = str(plain["symbolic_note"] or "")
    plain["skipped"] = str(plain["skipped"] or "")
    return plain


def _as_float(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def parse_reports(payload: str) -> list[CellReport]:
    """Read the JSON printed by the child process back into :class:`CellReport` objects.

    Parameters
    ----------
    payload
        The child's standard output.

    Returns
    -------
    list of CellReport
        One report per cell, in the order ``verify_all`` returned them.
    """
    data = json.loads(payload)
    reports = []
    for item in data["reports"]:
        torch = item["torch"]
        reports.append(
            CellReport(
                cell=item["cell"],
                passed=item["passed"],
                failures=list(item["failures"]),
                finite_differences={k: _as_float(v) for k, v in item["finite_differences"].items()},
                fd_tolerance=_as_float(item["fd_tolerance"]),
                torch=None if torch is None else {k: _as_float(v) for k, v in torch.items()},
                torch_tolerance=_as_float(item["torch_tolerance"]),
                symbolic_passed=item["symbolic_passed"],
                symbolic_max_abs_error=_as_float(item["symbolic_max_abs_error"]),
                symbolic_digits=item["symbolic_digits"],
                versions=dict(item["versions"]),
                torch_note=str(item.get("torch_note", "")),
                backend=str(item.get("backend", "")),
                checks=[
                    {
                        "name": str(check["name"]),
                        "worst": _as_float(check["worst"]),
                        "tolerance": _as_float(check["tolerance"]),
                    }
                    for check in item.get("checks", [])
                ],
                symbolic_note=str(item.get("symbolic_note", "")),
                skipped=str(item.get("skipped", "")),
            )
        )
    return reports


def fingerprint(roots: Iterable[Path]) -> str:
    """Hash the package sources under each root, so an unchanged checkout is not re-verified.

    Parameters
    ----------
    roots
        Folders that may hold an ``lstm_sym`` package (the ``PYTHONPATH`` entries and the
        folder of ``mkdocs.yml``).

    Returns
    -------
    str
        A hex digest that changes whenever a ``.py``, ``.cell`` or ``.jinja`` file changes.
    """
    digest = hashlib.sha256()
    digest.update(sys.executable.encode())
    seen: set[Path] = set()
    for root in roots:
        package = root / "lstm_sym"
        if not package.is_dir() or package.resolve() in seen:
            continue
        seen.add(package.resolve())
        # Relative names and contents only: an identical copy of the checkout elsewhere (the
        # test suite builds several) has the same fingerprint, and so can share its results.
        digest.update(b"\0root\0")
        for path in sorted(package.rglob("*")):
            if path.suffix in {".py", ".cell", ".jinja"} and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


#: Environment variable naming a folder that keeps passing verification reports by
#: :func:`fingerprint`, so that other build processes of identical sources (the test suite
#: builds several copies of the checkout) reuse them. Unset, the default, every build process
#: verifies afresh; a build never reads reports of sources other than its own.
CACHE_ENV = "LSTM_SYM_VERIFICATION_CACHE"


def _cache_file(key: str) -> Path | None:
    folder = os.environ.get(CACHE_ENV, "")
    return Path(folder) / f"{key}.json" if folder else None


def load_cached(key: str) -> list[CellReport] | None:
    """Reports stored under ``key`` in the folder named by :data:`CACHE_ENV`, if any."""
    path = _cache_file(key)
    if path is None or not path.is_file():
        return None
    try:
        return parse_reports(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store_cached(key: str, reports: Sequence[CellReport]) -> None:
    """Keep passing ``reports`` under ``key`` (atomically), when :data:`CACHE_ENV` is set."""
    path = _cache_file(key)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"reports": [_serialise(r) for r in reports]})
    handle, temporary = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _child_env(root: Path) -> dict[str, str]:
    """Environment for the child: ``PYTHONPATH`` entries first, then the site's own checkout."""
    env = dict(os.environ)
    entries = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    entries.append(str(root))
    env["PYTHONPATH"] = os.pathsep.join(entries)
    # No .pyc files in the watched package: `mkdocs serve` would see them and rebuild again.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The kernels are verified on tiny tensors in parallel processes: one BLAS/OpenMP thread
    # each avoids oversubscribing the cores (results stay within the checks' tolerances).
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Kill the verification child and every worker it started, then release its pipes."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


class VerificationRun:
    """One verification in a child process, started now and collected later.

    Parameters
    ----------
    root
        The folder of ``mkdocs.yml``; the checkout whose kernels are verified, unless
        ``PYTHONPATH`` names another one first.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process: subprocess.Popen[str] | None = subprocess.Popen(
            [sys.executable, "-m", "lstm_sym.site.verification"],
            cwd=root,
            env=_child_env(root),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Its own process group: cancelling must also stop the worker processes it spawns,
            # which would otherwise keep the output pipes (and the build) open.
            start_new_session=True,
        )
        self._reports: list[CellReport] | None = None

    def reports(self, timeout: float = TIMEOUT_S) -> list[CellReport]:
        """Wait for the child and return its reports.

        Raises
        ------
        VerificationError
            If the child failed, timed out, or printed something unreadable.
        """
        if self._reports is not None:
            return self._reports
        process = self._process
        if process is None:
            raise VerificationError("verification was cancelled")
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(process)
            raise VerificationError(f"verification did not finish within {timeout:.0f} s") from exc
        finally:
            self._process = None
        if process.returncode != 0:
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            raise VerificationError(
                f"verification could not run (exit status {process.returncode}):\n{tail}"
            )
        try:
            self._reports = parse_reports(stdout)
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(f"unreadable verification output: {exc}") from exc
        if not self._reports:
            raise VerificationError("verify_all() returned no reports")
        return self._reports

    def cancel(self) -> None:
        """Stop the child process if it is still running."""
        process, self._process = self._process, None
        if process is not None:
            _kill_group(process)


def start(root: Path) -> VerificationRun:
    """Start verifying the kernels of the checkout at ``root`` in a child process."""
    return VerificationRun(root)


def failure_message(reports: Sequence[CellReport]) -> str | None:
    """Describe every failed check, naming the kernel and tensor, or return ``None``.

    Parameters
    ----------
    reports
        The reports of one verification run.

    Returns
    -------
    str or None
        A message for the build log, or ``None`` when every kernel passed.
    """
    lines = []
    for report in reports:
        if report.passed and (report.symbolic_passed or report.symbolic_note or report.skipped):
            continue
        lines.append(f"kernel '{report.cell}' failed verification:")
        failures = report.failures or [f"{report.cell}: a check failed (no details reported)"]
        lines.extend(f"  - {failure}" for failure in failures)
    return "\n".join(lines) if lines else None


def _anchor(cell: str) -> str:
    """The HTML id of a kernel's section: ``kernel-`` and the cell name, made URL-safe."""
    return "kernel-" + re.sub(r"[^a-z0-9]+", "-", cell.lower()).strip("-")


def _sci(value: float) -> str:
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def _mark(ok: bool) -> str:
    return '<span class="lstm-pass">pass</span>' if ok else '<span class="lstm-fail">FAIL</span>'


def _kernel_name(report: CellReport, several: bool) -> str:
    """The kernel's name on the page: the cell, and its backend when several were checked."""
    return f"{report.cell} ({report.backend})" if several else report.cell


def _render_checks(report: CellReport) -> list[str]:
    """The table of the checks of ``lstm-sym gradcheck`` run on the committed file."""
    if not report.checks:
        return []
    out = [
        "Checks of `lstm-sym gradcheck` on the committed file (largest relative error over "
        "the outputs and every gradient):",
        "",
        "| Check | Largest error | Tolerance | |",
        "| --- | ---: | ---: | :---: |",
    ]
    for check in report.checks:
        worst, tolerance = float(check["worst"]), float(check["tolerance"])
        out.append(
            f"| {check['name']} | {_sci(worst)} | {_sci(tolerance)} | {_mark(worst < tolerance)} |"
        )
    return [*out, ""]


def _gradcheck_cell(report: CellReport) -> str:
    """The summary table's entry for the checks of ``lstm-sym gradcheck``."""
    if not report.checks:
        return "not run"
    return _mark(all(float(c["worst"]) < float(c["tolerance"]) for c in report.checks))


def _symbolic_cell(report: CellReport, reports: Sequence[CellReport], several: bool) -> str:
    """The summary table's entry for the symbolic identity (a link where it ran elsewhere)."""
    if not report.symbolic_note:
        return _mark(report.symbolic_passed)
    ran = [r for r in reports if r.cell == report.cell and not (r.symbolic_note or r.skipped)]
    if ran:
        return f"[as `{ran[0].backend}`](#{_anchor(_kernel_name(ran[0], several))})"
    return "—"


def _render_cell(report: CellReport, several: bool = False) -> list[str]:
    name = _kernel_name(report, several)
    if report.skipped:
        return [
            f"## Kernel `{name}` — not checked {{ #{_anchor(name)} }}",
            "",
            '!!! warning "Not checked in this build"',
            "",
            f"    {report.skipped}",
            "",
        ]
    status = "passed" if report.passed else "FAILED"
    out = [f"## Kernel `{name}` — {status} {{ #{_anchor(name)} }}", ""]
    torch = report.torch
    header = "| Tensor | Finite differences | |"
    rule = "| --- | ---: | :---: |"
    if torch is not None:
        header += " Torch autograd | |"
        rule += " ---: | :---: |"
    out += [header, rule]
    for name in sorted(set(report.finite_differences) | set(torch or {})):
        fd = report.finite_differences.get(name)
        row = f"| `{name}` | "
        row += "—" if fd is None else _sci(fd)
        row += " | " + ("—" if fd is None else _mark(fd < report.fd_tolerance)) + " |"
        if torch is not None:
            tv = torch.get(name)
            row += " " + ("—" if tv is None else _sci(tv))
            row += " | " + ("—" if tv is None else _mark(tv < report.torch_tolerance)) + " |"
        out.append(row)
    out.append("")
    out.append(
        f"Relative error per tensor, ‖analytic − reference‖ / max(‖analytic‖, ‖reference‖). "
        f"Finite differences must stay below {_sci(report.fd_tolerance)}"
        + (
            f"; the torch oracle below {_sci(report.torch_tolerance)}."
            if torch is not None
            else "."
        )
    )
    out.append("")
    if torch is None:
        out += [
            '!!! warning "Torch oracle not run"',
            "",
            "    "
            + (
                report.torch_note
                or "PyTorch is not installed in the environment that built this page, or there "
                "is no torch oracle for this cell."
            ),
            "    Only finite differences and the symbolic identity were checked.",
            "",
        ]
    out += _render_checks(report)
    if report.symbolic_note:
        out += [f"**Symbolic identity:** {report.symbolic_note}", ""]
    else:
        out += [
            f"**Symbolic identity:** {_mark(report.symbolic_passed)} — largest absolute "
            f"difference {_sci(report.symbolic_max_abs_error)}, evaluated with "
            f"{report.symbolic_digits} significant digits.",
            "",
        ]
    if report.failures:
        out += ['!!! failure "Failures"', ""]
        out += [f"    - {failure}" for failure in report.failures]
        out.append("")
    return out


def render_markdown(reports: Sequence[CellReport]) -> str:
    """Render the verification reports as Markdown for the verification page.

    Parameters
    ----------
    reports
        The reports of one verification run.

    Returns
    -------
    str
        A summary table, one section per kernel and a table of library versions.
    """
    out = [
        "| Kernel | Finite differences | Torch oracle | `lstm-sym gradcheck` | Symbolic identity |",
        "| --- | :---: | :---: | :---: | :---: |",
    ]
    several = len({r.backend for r in reports}) > 1
    for r in reports:
        name = _kernel_name(r, several)
        if r.skipped:
            out.append(f"| [`{name}`](#{_anchor(name)}) | not run | not run | not run | not run |")
            continue
        fd_ok = all(v < r.fd_tolerance for v in r.finite_differences.values())
        if r.torch is None:
            torch_cell = "not run"
        else:
            torch_cell = _mark(all(v < r.torch_tolerance for v in r.torch.values()))
        out.append(
            f"| [`{name}`](#{_anchor(name)}) | {_mark(fd_ok)} | {torch_cell} "
            f"| {_gradcheck_cell(r)} | {_symbolic_cell(r, reports, several)} |"
        )
    out.append("")
    for r in reports:
        out += _render_cell(r, several)
    out += ["## Versions", "", "| Library | Version |", "| --- | --- |"]
    versions: dict[str, str] = {}
    for r in reports:
        versions.update(r.versions)
    out += [f"| {name} | `{versions[name]}` |" for name in sorted(versions)]
    out.append("")
    return "\n".join(out)


def _verify_one(job: tuple[str, str]) -> dict[str, Any]:
    """Verify one (backend, built-in cell) in a worker process; return its JSON-safe report."""
    from lstm_sym.verify.report import verify_cell

    backend, name = job
    return _serialise(verify_cell(name, backend=backend))


def _verify_everything(workers: int) -> list[dict[str, Any]]:
    """Verify every built-in cell, spread over ``workers`` processes when there are several.

    Uses ``verify_cell`` over ``builtin_cell_names()`` when both exist (the same checks
    ``verify_all`` runs, cell by cell), otherwise ``verify_all()`` in this process.
    """
    from lstm_sym.verify import report as report_module

    verify_cell = getattr(report_module, "verify_cell", None)
    try:
        from lstm_sym.spec import builtin_cell_names
    except ImportError:
        verify_cell = None
    if verify_cell is None or workers < 2:
        return [_serialise(r) for r in report_module.verify_all()]
    from lstm_sym.backends import verifiable

    jobs = [(b.name, name) for b in verifiable() for name in builtin_cell_names()]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        return list(pool.map(_verify_one, jobs))


def main(argv: Sequence[str] | None = None) -> int:
    """Verify every kernel and print the reports as JSON (the child-process entry point).

    The number of worker processes is ``LSTM_SYM_VERIFY_WORKERS`` (default: the CPU count).
    """
    del argv
    workers = int(os.environ.get("LSTM_SYM_VERIFY_WORKERS", "0")) or (os.cpu_count() or 1)
    payload = {"reports": _verify_everything(workers)}
    json.dump(payload, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
