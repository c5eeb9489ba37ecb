"""The lecture's claim, measured: does the LSTM remember a clue that the plain RNN forgets?

``lstm-sym experiment long-context [--quick] [--out DIR] [--jobs J]`` trains every
:data:`VARIANTS` entry (a cell and a gate-bias initialisation) on
:class:`~lstm_sym.experiments.task.LongContextTask` for every filler length ``N`` and seed,
records what happens inside the cells at one length, then writes ``results.json``, the SVG
plots of :mod:`lstm_sym.experiments.plots` and the page of :mod:`lstm_sym.experiments.page`.

Runs are independent and seeded, so the results do not depend on how many worker processes
share them out (``--jobs``); each worker uses a single BLAS thread.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..console import Progress as ProgressLine
from .diagnostics import gradient_norms_by_distance, keep_gate_summary
from .initialisation import INITIALISATIONS
from .stats import SUCCESS_THRESHOLD, success_rate, t_interval_95
from .task import FILLERS, LANGUAGES, QUERY, STATES
from .train import TrainConfig, train

__all__ = [
    "FULL",
    "QUICK",
    "SMOKE_TEST_WARNING",
    "VARIANTS",
    "Progress",
    "SweepConfig",
    "Variant",
    "main",
    "render_existing",
    "rounded",
    "run_sweep",
    "summarise",
    "write_results",
]

#: Name of the results file in the output folder.
RESULTS_FILE = "results.json"
#: Name of the page written beside the figures when the output folder is not the docs one.
PAGE_FILE = "long-context.md"
#: Printed by ``--quick``, before and after its runs.
SMOKE_TEST_WARNING = (
    "SMOKE TEST: --quick trains tiny models for a few dozen steps; "
    "its numbers are a smoke test, not a result."
)
#: Printed (and exit status 2) when the plots cannot be drawn.
MISSING_MATPLOTLIB = (
    "lstm-sym: error: the experiment draws its figures with matplotlib, which is not "
    "installed; install it with: pip install 'lstm_sym[docs]'"
)


@dataclass(frozen=True)
class Variant:
    """One line of the comparison: a kernel and how its gate biases start.

    Attributes
    ----------
    name : str
        Key in ``results.json``.
    cell : str
        Kernel name (:func:`lstm_sym.kernels.load_kernel`).
    init : str
        Gate-bias initialisation (:data:`~lstm_sym.experiments.initialisation.INITIALISATIONS`).
    label : str
        Name in plots and tables.
    """

    name: str
    cell: str
    init: str
    label: str


#: Every variant the sweep trains, in plotting order.
VARIANTS = (
    Variant("rnn", "rnn", "default", "RNN"),
    Variant("lstm_bf0", "lstm", "forget_bias_0", "LSTM, b_f = 0"),
    Variant("lstm_bf1", "lstm", "forget_bias_1", "LSTM, b_f = 1"),
    Variant("lstm_chrono", "lstm", "chrono", "LSTM, chrono"),
    Variant("gru_chrono", "gru", "chrono", "GRU, chrono"),
    Variant("coupled_lstm_chrono", "coupled_lstm", "chrono", "coupled LSTM, chrono"),
)


@dataclass(frozen=True)
class SweepConfig:
    """Which runs a sweep makes.

    Attributes
    ----------
    fillers : tuple of int
        Filler lengths ``N``.
    seeds : tuple of int
        Seeds per (variant, N); each seeds the initial parameters and the training batches.
    train : TrainConfig
        Sizes, optimiser and stopping settings, the same for every variant.
    diagnostic_filler : int
        ``N`` of the runs (every seed) whose gradient norms and keep gates are recorded.
    diagnostic_batch : int
        Held-out sequences used for those diagnostics.
    variants : tuple of Variant
    quick : bool
        Whether this is the smoke test.
    """

    fillers: tuple[int, ...] = (10, 30, 100, 300)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    train: TrainConfig = field(default_factory=TrainConfig)
    diagnostic_filler: int = 100
    diagnostic_batch: int = 256
    variants: tuple[Variant, ...] = VARIANTS
    quick: bool = False


#: The committed sweep.
FULL = SweepConfig()
#: The smoke test: tiny cells, two short lengths, two seeds, a few dozen steps.
QUICK = SweepConfig(
    fillers=(4, 8),
    seeds=(0, 1),
    train=TrainConfig(
        hidden_size=8,
        batch_size=16,
        steps=30,
        check_every=10,
        validation_size=64,
        test_size=100,
    ),
    diagnostic_filler=8,
    diagnostic_batch=32,
    quick=True,
)


def held_out_seeds(n_filler: int) -> tuple[list[int], list[int]]:
    """Seeds of the validation and test sets of length ``N``: the same for every run."""
    return [10_000, n_filler], [30_000, n_filler]


def _run_one(variant: Variant, n_filler: int, seed: int, sweep: SweepConfig) -> dict[str, Any]:
    """Train one (variant, N, seed) in a worker; return plain data."""
    from ..kernels import load_kernel

    started = time.process_time()
    kernel = load_kernel(variant.cell)
    config = sweep.train
    task = config.task(n_filler)
    validation_seed, test_seed = held_out_seeds(n_filler)
    validation = task.sample(config.validation_size, np.random.default_rng(validation_seed))
    test = task.sample(config.test_size, np.random.default_rng(test_seed))
    result = train(kernel, n_filler, seed, config, validation, test, variant.init)
    record: dict[str, Any] = {
        "accuracy": result.accuracy,
        "final_loss": result.final_loss,
        "steps_run": result.steps_run,
        "curve_steps": result.curve_steps,
        "curve_accuracy": result.curve_accuracy,
    }
    if n_filler == sweep.diagnostic_filler:
        probe = task.sample(sweep.diagnostic_batch, np.random.default_rng([20_000, n_filler]))
        record["diagnostics"] = {
            moment: {
                "gradient_norms": gradient_norms_by_distance(
                    kernel, model["params"], model["readout"], probe
                ),
                "keep_gate": keep_gate_summary(kernel, model["params"], probe),
            }
            for moment, model in (("init", result.initial), ("trained", result.trained))
        }
    record["cpu_s"] = time.process_time() - started
    return record


class Progress:
    """A plain-text progress bar on a stream (one line per update when it is not a terminal).

    Parameters
    ----------
    total : int
        Number of units of work.
    stream : text stream
        Where to write (standard error by default).
    width : int
        Characters of the bar.
    """

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.done = 0
        self.width = width
        self.started = time.perf_counter()
        self.line = ProgressLine(stream)

    def update(self, label: str) -> None:
        """Count one unit of work as done and redraw with ``label``."""
        self.done += 1
        filled = self.width * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        self.line.update(f"[{bar}] {self.done}/{self.total} {elapsed:6.1f} s  {label}")
        if self.done == self.total:
            self.line.done()


@contextmanager
def _single_blas_thread() -> Iterator[None]:
    """Let spawned workers start with one BLAS/OpenMP thread each (tiny matrices, many steps)."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: "1" for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def summarise(per_seed: list[float]) -> dict[str, Any]:
    """Mean, 95 % t-interval, success rate and extremes of one point's per-seed accuracies."""
    array = np.asarray(per_seed, dtype=float)
    low, high = t_interval_95(per_seed)
    return {
        "per_seed": list(per_seed),
        "mean": float(array.mean()),
        "ci95": [low, high],
        "std": float(array.std(ddof=1)),
        "min": float(array.min()),
        "max": float(array.max()),
        "success_rate": success_rate(per_seed),
        "successes": int(np.sum(array >= SUCCESS_THRESHOLD)),
    }


@contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process while the block runs (processes started inherit it)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Drop the queued runs and end the running ones at once (Ctrl-C or a failed run)."""
    # The executor forgets its processes on shutdown: keep them to end them.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()


def run_sweep(
    sweep: SweepConfig,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train every (variant, N, seed) of ``sweep`` in worker processes and collect the results.

    Parameters
    ----------
    sweep : SweepConfig
    jobs : int, optional
        Worker processes; default ``min(os.cpu_count(), 2)``.
    progress : callable, optional
        Called with a label after every finished run.

    Returns
    -------
    dict
        The content of ``results.json`` (not yet rounded); its ``"timing"`` holds only the
        workers' CPU seconds, ``"cpu_s"``.
    """
    runs = [(v, n, s) for v in sweep.variants for n in sweep.fillers for s in sweep.seeds]
    # Longest sequences first, so that the workers finish together.
    runs.sort(key=lambda run: -run[1])
    jobs = jobs or min(os.cpu_count() or 1, 2)
    records: dict[tuple[str, int, int], dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context)
    try:
        # The workers start at the first submit; they inherit one BLAS thread and an ignored
        # Ctrl-C (the terminal sends it to them too), so only this process reacts to it.
        with _single_blas_thread(), _ctrl_c_ignored():
            futures: dict[Future[dict[str, Any]], tuple[Variant, int, int]] = {
                pool.submit(_run_one, v, n, s, sweep): (v, n, s) for v, n, s in runs
            }
        for future in as_completed(futures):
            v, n, s = futures[future]
            record = future.result()
            records[(v.name, n, s)] = record
            if progress is not None:
                progress(
                    f"{v.name} N={n} seed={s}: accuracy {record['accuracy']:.3f} "
                    f"after {record['steps_run']} steps"
                )
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown()
    results = _collect(sweep, records)
    # CPU seconds of the workers: what the sweep costs on an otherwise idle machine.
    results["timing"] = {"cpu_s": sum(r["cpu_s"] for r in records.values())}
    return results


def _collect(
    sweep: SweepConfig, records: dict[tuple[str, int, int], dict[str, Any]]
) -> dict[str, Any]:
    config = sweep.train
    accuracy: dict[str, dict[str, Any]] = {}
    curves: dict[str, dict[str, Any]] = {}
    diagnostics: dict[str, Any] = {}
    for v in sweep.variants:
        accuracy[v.name] = {}
        curves[v.name] = {}
        for n in sweep.fillers:
            per_seed = [records[(v.name, n, s)] for s in sweep.seeds]
            point = summarise([r["accuracy"] for r in per_seed])
            point["steps_run"] = [r["steps_run"] for r in per_seed]
            point["final_loss"] = [r["final_loss"] for r in per_seed]
            accuracy[v.name][str(n)] = point
            curves[v.name][str(n)] = {
                "steps": [r["curve_steps"] for r in per_seed],
                "accuracy": [r["curve_accuracy"] for r in per_seed],
            }
        if sweep.diagnostic_filler in sweep.fillers:
            diagnostics[v.name] = [
                records[(v.name, sweep.diagnostic_filler, s)]["diagnostics"] for s in sweep.seeds
            ]
    task = config.task(sweep.fillers[0])
    results: dict[str, Any] = {
        "experiment": "long-context",
        "command": "lstm-sym experiment long-context" + (" --quick" if sweep.quick else ""),
        "quick": sweep.quick,
        "variants": [dataclasses.asdict(v) for v in sweep.variants],
        "initialisations": {v.init: INITIALISATIONS[v.init] for v in sweep.variants},
        "task": {
            "description": (
                "one state token, N filler tokens, the query token; "
                "label: the language of the state"
            ),
            "states": list(STATES[: config.n_classes]),
            "languages": list(LANGUAGES[: config.n_classes]),
            "fillers": list(FILLERS[: config.n_fillers_vocab]),
            "query": QUERY,
            "n_classes": config.n_classes,
            "input_size": task.input_size,
            "sequence_length": "N + 2",
            "chance": 1 / config.n_classes,
            "encoding": "one-hot",
        },
        "sweep": {
            "fillers": list(sweep.fillers),
            "seeds": list(sweep.seeds),
            "diagnostic_filler": sweep.diagnostic_filler,
            "diagnostic_batch": sweep.diagnostic_batch,
        },
        "train": dataclasses.asdict(config)
        | {
            "optimizer": "Adam with bias correction",
            "clipping": "global gradient norm over all parameters",
            "loss": "mean softmax cross-entropy of the read-out after the last step",
            "readout_init": "uniform ±1/sqrt(H), zero bias",
            "data": (
                "a fresh batch every step; validation and test sets drawn from separate "
                "seeds, the same for every variant and seed"
            ),
            "early_stop": (
                f"stop once {config.stop_after} consecutive checkpoints (every "
                f"{config.check_every} steps) had accuracy 1.0 on the validation set"
            ),
        },
        "statistics": {
            "interval": (
                "95 % Student-t interval over seeds, mean ± t(0.975, n-1)·s/sqrt(n), "
                "clipped to [0, 1]"
            ),
            "success_threshold": SUCCESS_THRESHOLD,
            "success_rate": "fraction of seeds with test accuracy >= success_threshold",
        },
        "accuracy": accuracy,
        "curves": curves,
        "diagnostics": diagnostics,
    }
    results["expectations"] = expectations(results)
    return results


def _clue_gradient(results: dict[str, Any], variant: str, state: str, moment: str) -> float:
    """Median over seeds of ``‖∂ℓ/∂state‖`` at the clue (the farthest distance)."""
    values = [d[moment]["gradient_norms"][state][-1] for d in results["diagnostics"][variant]]
    return float(np.median(values))


def expectations(results: dict[str, Any]) -> list[dict[str, Any]]:
    """What we expected to see, each checked against the measurement.

    Returns
    -------
    list of dict
        ``"id"``, ``"claim"`` (plain words), ``"measured"`` (plain words with the numbers) and
        ``"held"`` (bool) per expectation whose variants were trained.
    """
    far = str(max(results["sweep"]["fillers"]))
    accuracy = results["accuracy"]
    checks: list[dict[str, Any]] = []

    def success(variant: str, claim: str, at_least: float | None, at_most: float | None) -> None:
        if variant not in accuracy:
            return
        point = accuracy[variant][far]
        rate = point["success_rate"]
        held = (at_least is None or rate >= at_least) and (at_most is None or rate <= at_most)
        checks.append(
            {
                "id": f"{variant}_at_{far}",
                "claim": claim,
                "measured": (
                    f"{point['successes']} of {len(point['per_seed'])} seeds reached "
                    f"{SUCCESS_THRESHOLD:g} at N = {far} (mean {point['mean']:.2f})"
                ),
                "held": bool(held),
            }
        )

    success(
        "lstm_chrono",
        f"the LSTM with chrono initialisation solves N = {far} (at least 80 % of seeds)",
        0.8,
        None,
    )
    success("rnn", f"the plain RNN fails at N = {far} (at most 20 % of seeds succeed)", None, 0.2)
    success(
        "lstm_bf1",
        f"the same LSTM with b_f = 1 fails at N = {far} (at most 20 % of seeds succeed)",
        None,
        0.2,
    )
    success(
        "gru_chrono",
        f"the GRU with chrono on its update gate solves N = {far} (at least 80 % of seeds)",
        0.8,
        None,
    )
    diagnostics = results["diagnostics"]
    if "lstm_chrono" in diagnostics and "lstm_bf1" in diagnostics:
        chrono = _clue_gradient(results, "lstm_chrono", "C", "init")
        bf1 = _clue_gradient(results, "lstm_bf1", "C", "init")
        n = results["sweep"]["diagnostic_filler"]
        checks.append(
            {
                "id": "clue_gradient_at_init",
                "claim": (
                    f"before training, at N = {n}, the gradient reaching the cell state at the "
                    "clue is at least 100 times larger with chrono than with b_f = 1"
                ),
                "measured": (
                    f"median ‖∂ℓ/∂C‖ at the clue: {chrono:.1e} (chrono) vs {bf1:.1e} (b_f = 1)"
                ),
                "held": bool(chrono >= 100 * bf1),
            }
        )
    return checks


def rounded(value: Any, digits: int = 4) -> Any:
    """Round every float in a JSON-like structure to ``digits`` significant digits.

    Tuples become lists; non-finite floats become ``None`` (JSON has no NaN).
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


def write_results(results: dict[str, Any], out: Path, page: Path | None = None) -> list[Path]:
    """Write ``results.json`` (sorted keys, rounded floats), every plot and the page.

    Parameters
    ----------
    results : dict
        From :func:`run_sweep`, plus ``"timing"`` if known.
    out : pathlib.Path
        Folder of ``results.json`` and the figures (created if missing).
    page : pathlib.Path, optional
        Where to write the Markdown page; default ``out / PAGE_FILE``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from .page import render_page
    from .plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_FILE
    text = json.dumps(rounded(results), indent=1, sort_keys=True, ensure_ascii=False)
    _write_text(path, text + "\n")
    stored = json.loads(text)
    written = [path, *write_plots(stored, out)]
    page = page if page is not None else out / PAGE_FILE
    figures = Path(os.path.relpath(out, page.parent)).as_posix()
    _write_text(page, render_page(stored, figures))
    return [*written, page]


def render_existing(out: Path, page: Path | None = None) -> list[Path]:
    """Redraw the figures and the page from the ``results.json`` already in ``out``.

    No training: for changes to the plots or the page's wording. The expectations are
    checked again against the stored numbers.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    results = json.loads((out / RESULTS_FILE).read_text(encoding="utf-8"))
    results["expectations"] = expectations(results)
    return write_results(results, out, page)


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half-written)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main(quick: bool, out: Path | None, jobs: int | None = None) -> int:
    """Run the sweep (full or quick), write the results, figures and page; return the status.

    Parameters
    ----------
    quick : bool
        Run :data:`QUICK` (a smoke test) instead of :data:`FULL`.
    out : pathlib.Path, optional
        Output folder; default ``docs/experiments/long-context`` of the checkout for the full
        sweep (the page then goes to ``docs/experiments/long-context.md``) and a new temporary
        folder for ``--quick`` (so a smoke test never overwrites the committed results).
    jobs : int, optional
        Worker processes.

    Returns
    -------
    int
        0, or 2 (with one line on standard error) when matplotlib is missing: checked before
        any training.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(MISSING_MATPLOTLIB, file=sys.stderr)
        return 2
    from ..regenerate import repository_root

    sweep = QUICK if quick else FULL
    docs_folder = repository_root() / "docs" / "experiments" / "long-context"
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="lstm_sym_long_context_")) if quick else docs_folder
    page = None
    if out.resolve() == docs_folder.resolve():
        page = docs_folder.parent / "long-context.md"
    if quick:
        print(SMOKE_TEST_WARNING)
    total = len(sweep.variants) * len(sweep.fillers) * len(sweep.seeds)
    bar = Progress(total)
    load_before = _load_average()
    started = time.perf_counter()
    results = run_sweep(sweep, jobs=jobs, progress=bar.update)
    elapsed = time.perf_counter() - started
    results["timing"] = results.get("timing", {}) | {
        "wall_s": elapsed,
        "jobs": jobs or min(os.cpu_count() or 1, 2),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": _load_average(),
        "runs": total,
    }
    files = write_results(results, out, page)
    print(_table(results))
    for path in files:
        print(f"wrote {path}")
    print(f"{total} runs in {elapsed:.1f} s")
    if quick:
        print(SMOKE_TEST_WARNING)
    return 0


def _table(results: dict[str, Any]) -> str:
    """Held-out accuracy per variant and N: mean [95 % interval] and successes."""
    fillers = results["sweep"]["fillers"]
    lines = [
        f"test accuracy (chance {results['task']['chance']:.3f}): mean [95 % t-interval] "
        f"successes/{len(results['sweep']['seeds'])} seeds",
        f"{'variant':<21}" + "".join(f"{'N=' + str(n):>22}" for n in fillers),
    ]
    for v in results["variants"]:
        row = results["accuracy"][v["name"]]
        parts = []
        for n in fillers:
            point = row[str(n)]
            low, high = point["ci95"]
            parts.append(f"{point['mean']:.2f} [{low:.2f}, {high:.2f}] {point['successes']:>2}")
        lines.append(f"{v['name']:<21}" + "".join(f"{p:>22}" for p in parts))
    return "\n".join(lines)
