"""Command line: ``lstm-sym regenerate | gradcheck | derive | list``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from . import __version__
from .artifacts import Artifacts, CellArtifacts
from .backends import Backend, verifiable
from .backends.python_text import equation_text
from .console import Progress, silence_stdout
from .derive import Derivation, DerivationLimitError, LinearGroup, derive, limited
from .regenerate import (
    ForeignFileError,
    builtin_artifacts,
    repository_root,
    stale_files,
    stale_temporaries,
    user_artifacts,
    write_files,
)
from .spec import SpecError, builtin_cell_names, load_builtin, parse_spec_file
from .spec.model import CellSpec

__all__ = ["main"]


#: The status line of long commands, on standard error (``\r`` only on a terminal).
_STATUS = Progress()


def _progress(message: str) -> None:
    _STATUS.update(f"  … {message}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstm-sym",
        description=(
            "Derivations you can run: gated recurrent cells as symbolic specs, with derived "
            "gradients, generated NumPy kernels and LaTeX pages, verified before publishing."
        ),
    )
    parser.add_argument("--version", action="version", version=f"lstm-sym {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    regenerate = commands.add_parser(
        "regenerate",
        help="rewrite every generated file (kernels, derivation pages, snippets)",
        description=(
            "Derive every built-in cell and rewrite its generated files: the NumPy kernel "
            "under lstm_sym/kernels/, the derivation page under docs/derivations/ and the "
            "snippets under docs/snippets/. Files are written only when their content "
            "changes, atomically; nothing is written if any cell fails."
        ),
    )
    regenerate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the files that are stale",
    )
    regenerate.add_argument(
        "--spec", type=Path, help="a user spec file (.cell) to generate instead of the built-ins"
    )
    regenerate.add_argument(
        "--out", type=Path, help="output folder for --spec (default: beside the spec file)"
    )
    regenerate.add_argument(
        "--root",
        type=Path,
        default=None,
        help="repository root for the built-in cells (default: the checkout of the package)",
    )

    gradcheck = commands.add_parser(
        "gradcheck",
        help="finite-difference check of generated kernels",
        description=(
            "Compare every element of every gradient of the generated kernels with central "
            "finite differences in float64 (non-zero initial state and final-state gradient). "
            "Prints the relative error per tensor; exits 1 if any exceeds the tolerance."
        ),
    )
    gradcheck.add_argument("cells", nargs="*", metavar="CELL", help="built-in cells (default: all)")
    gradcheck.add_argument("--spec", type=Path, help="check the kernel generated from a user spec")
    gradcheck.add_argument("--tolerance", type=float, default=1e-7, help="default: 1e-7")
    gradcheck.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    derive_command = commands.add_parser(
        "derive",
        help="print the forward and adjoint equations of a cell",
        description="Print the forward equations and every adjoint equation of one step.",
    )
    derive_command.add_argument("cell", nargs="?", metavar="CELL", help="a built-in cell")
    derive_command.add_argument("--spec", type=Path, help="a user spec file instead")

    commands.add_parser(
        "list", help="list the built-in cells", description="List the built-in cells."
    )

    experiment = commands.add_parser(
        "experiment",
        help="train the kernels on a measured task and write results and plots",
        description=(
            "long-context: the lecture's Gujarat example as a synthetic task; trains rnn, lstm, "
            "gru (and LSTM variants when present) for several filler lengths and seeds and "
            "writes results.json and SVG plots."
        ),
    )
    experiment.add_argument("name", choices=["long-context"], help="the experiment")
    experiment.add_argument(
        "--quick", action="store_true", help="a small sweep for CI (writes to a temporary folder)"
    )
    experiment.add_argument(
        "--out",
        type=Path,
        help="output folder (default: docs/experiments/long-context; a temporary one with --quick)",
    )
    experiment.add_argument("--jobs", type=int, help="worker processes (default: up to 2)")
    experiment.add_argument(
        "--check",
        action="store_true",
        help=(
            "train nothing; rerun a few stored runs of results.json (in --out, default the "
            "committed one) and fail on any difference or a stale fingerprint"
        ),
    )
    experiment.add_argument(
        "--from-cache",
        action="store_true",
        help="train nothing; write results, figures and page from the cached runs only",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    A reader that goes away (``lstm-sym list | head -1``) ends the program quietly with
    status 141, as a pipe's writer killed by SIGPIPE would; Ctrl-C ends it with one line
    and status 130. Neither prints a traceback.
    """
    restore = _terminate_like_interrupt()
    try:
        status = _run(argv)
        _STATUS.done()
        return status
    except Terminated:
        _STATUS.done()
        print("lstm-sym: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        _STATUS.done()
        print("lstm-sym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        silence_stdout()
        return 141
    finally:
        restore()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every clean-up path for Ctrl-C runs for it too."""


def _terminate_like_interrupt() -> Callable[[], None]:
    """Make SIGTERM raise :class:`Terminated` in the main thread; return the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def _run(argv: Sequence[str] | None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        if arguments.command == "regenerate":
            return _regenerate(arguments)
        if arguments.command == "gradcheck":
            return _gradcheck(arguments)
        if arguments.command == "derive":
            return _derive(arguments)
        if arguments.command == "experiment":
            from .experiments.long_context import main as long_context

            return long_context(
                arguments.quick,
                arguments.out,
                arguments.jobs,
                check_only=arguments.check,
                from_cache=arguments.from_cache,
            )
        return _list()
    except (SpecError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) else str(error)
        print(f"lstm-sym: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # the reader has gone: main() ends quietly
    except OSError as error:  # a file that cannot be read or written
        where = f"{error.filename}: " if error.filename else ""
        print(f"lstm-sym: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2


def _regenerate(arguments: argparse.Namespace) -> int:
    started = time.perf_counter()
    cells: list[Artifacts]
    if arguments.spec is not None:
        root = arguments.out or arguments.spec.parent
        if _inside_package(root, root) is not None:
            return 2
        cells = [user_artifacts(arguments.spec, progress=_progress)]
        # Every path that will be written, resolved: a symlink under --out (snippets/ → into
        # the package) must not lead there either.
        if any(_inside_package(root, root / relative) for c in cells for relative in c.files):
            return 2
    else:
        if arguments.out is not None:
            print("lstm-sym: error: --out needs --spec", file=sys.stderr)
            return 2
        root = arguments.root or repository_root()
        if arguments.root is None and not _is_checkout(root):
            return _not_a_checkout(root)
        cells = builtin_artifacts(root=root, progress=_progress)
    files: dict[str, str] = {}
    for cell in cells:
        files.update(cell.files)
    elapsed = time.perf_counter() - started
    if arguments.check:
        stale = stale_files(files, root)
        leftovers = stale_temporaries(files, root)
        if stale or leftovers:
            print("stale generated files (run `lstm-sym regenerate`):")
            for relative in stale:
                print(f"  {relative}")
            for leftover in leftovers:
                print(f"  {leftover.relative_to(root)} (temporary file of an interrupted run)")
            return 1
        print(f"{len(files)} generated files are up to date ({elapsed:.2f} s)")
        return 0
    try:
        result = write_files(files, root)
    except ForeignFileError as error:
        print(f"lstm-sym: error: {error}", file=sys.stderr)
        return 2
    for relative in result.written:
        print(f"wrote {relative}")
    print(
        f"{len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{sum(isinstance(c, CellArtifacts) for c in cells)} cell(s) in "
        f"{time.perf_counter() - started:.2f} s"
    )
    return 0


def _inside_package(out: Path, path: Path) -> Path | None:
    """Print an error and return the resolved ``path`` if it lies inside the package."""
    package = Path(__file__).resolve().parent
    target = path.resolve()
    if target != package and package not in target.parents:
        return None
    where = "is" if path == out else f"writes {path}, which resolves to {target},"
    print(
        f"lstm-sym: error: --out {out} {where} inside the installed package ({package}); "
        "write user cells elsewhere",
        file=sys.stderr,
    )
    return target


def _is_checkout(root: Path) -> bool:
    """Whether ``root`` is a checkout of the project (generated files live beside the specs)."""
    return (root / "mkdocs.yml").is_file() and (root / "lstm_sym" / "spec" / "cells").is_dir()


def _not_a_checkout(root: Path) -> int:
    print(
        f"lstm-sym: error: '{root}' is not a checkout of lstm_sym: the built-in cells are "
        "regenerated inside a clone of the repository (or pass --root DIR); for your own "
        "cell use --spec FILE --out DIR",
        file=sys.stderr,
    )
    return 2


def _gradcheck(arguments: argparse.Namespace) -> int:
    from .verify import gradcheck

    # Every backend that can run what it renders, each cell's file: rendered now for --spec,
    # as committed for a built-in cell. Output names the backend only when there are several.
    # Another backend's file must also agree with the NumPy kernel of the same cell.
    backends = verifiable()
    for backend in backends:
        reason = backend.missing()
        if reason is not None:
            print(f"backend {backend.name} skipped: {reason}\n")
    numpy = gradcheck.default_backend()
    sources: list[tuple[CellSpec, Backend, str, str | None]] = []
    if arguments.spec is not None:
        cell = user_artifacts(arguments.spec)
        paths = {b.name: b.user_path(cell.spec.name) for b in backends if b.user_path}
        for backend in backends:
            if backend.name in paths and backend.missing() is None:
                own = cell.files[paths[backend.name]]
                reference = cell.files.get(paths.get(numpy.name, ""))
                reference = None if backend is numpy else reference
                sources.append((cell.spec, backend, own, reference))
    for name in arguments.cells or ([] if arguments.spec else builtin_cell_names()):
        for backend in backends:
            if backend.builtin_path is not None and backend.missing() is None:
                source = gradcheck.kernel_source(name, backend)
                reference = None if backend is numpy else gradcheck.kernel_source(name, numpy)
                sources.append((load_builtin(name), backend, source, reference))
    failed = False
    for spec, backend, source, reference in sources:
        name = spec.name if len(backends) == 1 else f"{spec.name} ({backend.name})"
        started = time.perf_counter()
        try:
            report = gradcheck.check_kernel(
                source,
                spec.name,
                spec=spec,
                backend=backend,
                reference=reference,
                seed=arguments.seed,
                tolerance=arguments.tolerance,
            )
        except Exception as crash:  # a kernel that crashes fails its check
            print(f"{name}: the kernel raised {type(crash).__name__}: {crash}\n")
            failed = True
            continue
        elapsed = time.perf_counter() - started
        first, *others = report.results
        print(f"{name}: {first.name}")
        print(f"  {'tensor':<12} {'relative error':>15}  status")
        for tensor, error in first.errors.items():
            ok = error < first.tolerance
            print(f"  {tensor:<12} {error:>15.3e}  {'ok' if ok else 'FAIL'}")
        print(f"  {len(others)} more checks (block constants made small, other APIs, dtypes):")
        for result in others:
            status = "ok" if result.ok else "FAIL " + ", ".join(result.failing())
            print(f"  {result.worst:.1e} < {result.tolerance:.0e}  {status}  {result.name}")
        worst = max(r.worst for r in report.results if r.name.startswith("finite"))
        failed |= not report.ok
        print(
            f"  worst finite-difference error {worst:.3e} (tolerance {arguments.tolerance:.0e}), "
            f"{elapsed:.2f} s\n"
        )
    if failed:
        print("gradcheck FAILED", file=sys.stderr)
        return 1
    print("gradcheck passed")
    return 0


def _derive(arguments: argparse.Namespace) -> int:
    if arguments.spec is not None:
        spec = parse_spec_file(arguments.spec)
        print(_user_derivation_text(spec, arguments.spec))
        return 0
    if arguments.cell:
        print(_derivation_text(derive(load_builtin(arguments.cell))))
        return 0
    print("lstm-sym: error: name a CELL or pass --spec FILE", file=sys.stderr)
    return 2


def _user_derivation_text(spec: CellSpec, spec_file: Path) -> str:
    """Derive a user's cell under the derivation limits; any failure is a SpecError at a line."""
    first = min((e.line for e in spec.equations), default=1)
    try:
        with limited():
            return _derivation_text(derive(spec))
    except DerivationLimitError as error:
        raise SpecError(spec_file, error.line or first, error.problem) from None
    except Exception as error:  # the spec parsed but SymPy cannot derive it
        detail = f"{type(error).__name__}: {error}"
        raise SpecError(
            spec_file, first, f"cannot derive the cell '{spec.name}' ({detail[:200]})"
        ) from None


def _derivation_text(derivation: Derivation) -> str:
    spec = derivation.spec
    lines = [f"{spec.title} ({spec.name}, from {spec.source.name})", "", "Forward, one step:"]
    lines += [f"  {equation_text(e)}" for e in spec.equations]
    if derivation.auxiliary:
        cached = ", ".join(f"{n} = {e}" for n, e in derivation.auxiliary.items())
        lines.append(f"  (cached for the backward pass: {cached})")
    lines += [
        "",
        "Backward, one step (d_v = dL/dv; d_<state>_in arrives from step t+1 and the loss):",
    ]
    for stage in reversed(derivation.stages):
        if isinstance(stage, LinearGroup):
            for linear_map in stage.maps:
                adjoint = derivation.adjoint(linear_map.target)
                lines.append(f"  {adjoint.symbol} = {adjoint.expr}")
        elif stage.equation is not None:
            adjoint = derivation.adjoint(stage.target)
            lines.append(f"  {adjoint.symbol} = {adjoint.expr}")
    for adjoint in derivation.previous_state_adjoints + derivation.parameter_adjoints:
        lines.append(f"  {adjoint.symbol} = {adjoint.expr}")
    lines += ["", "Linear maps (W acts on [u, v]; gradients summed over t and the batch):"]
    for group in derivation.groups:
        concat = ", ".join(group.operands)
        for linear_map in group.maps:
            lines.append(f"  d_{linear_map.weight} += d_{linear_map.target} [{concat}]^T")
            if linear_map.bias:
                lines.append(f"  d_{linear_map.bias} += d_{linear_map.target}")
        for operand in group.operands:
            terms = " + ".join(f"{m.weight}[:, {operand}]^T d_{m.target}" for m in group.maps)
            lines.append(f"  d_{operand}__stack{group.index} = {terms}")
    lines += [
        "",
        "Through time: d_<state>_in(t) = d_<state>_prev(t+1) (+ dL/dh_t for the output state).",
    ]
    return "\n".join(lines)


def _list() -> int:
    print(f"{'cell':<16} {'parameters (D=32, H=64)':>24}  title")
    for name in builtin_cell_names():
        spec: CellSpec = load_builtin(name)
        count = spec.parameter_count(32, 64)
        print(f"{name:<16} {count:>24}  {spec.title}")
    return 0
