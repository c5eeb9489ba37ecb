"""The lecture's claim, measured: does the LSTM remember a clue that the plain RNN forgets?

``lstm-sym experiment long-context [--quick] [--out DIR] [--jobs J]`` trains every run of
:data:`~lstm_sym.experiments.runs.FULL` (a variant — a cell and a gate-bias initialisation —,
a filler length ``N`` and a seed) on :class:`~lstm_sym.experiments.task.LongContextTask`,
then writes ``results.json``, the SVG plots of :mod:`lstm_sym.experiments.plots` and the page
of :mod:`lstm_sym.experiments.page`.

- Every finished run is cached under ``build/long-context-runs/<fingerprint>/`` (see
  :mod:`lstm_sym.experiments.fingerprint`), so an interrupted or extended sweep trains only
  the runs that are missing, and a change to the code that decides the numbers starts afresh.
- ``lstm-sym experiment long-context --check`` reruns a few stored runs (:func:`check`) and
  fails on any difference, or when the stored fingerprint is not the code's.

Runs are independent and seeded, so the results do not depend on how many worker processes
share them out (``--jobs``); each worker uses a single BLAS thread.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..console import Progress
from .fingerprint import fingerprint
from .initialisation import FIXED_T_MAX, INITIALISATIONS
from .runs import FULL, QUICK, VARIANTS, SweepConfig, Variant, held_out_seeds, run_one
from .stats import SUCCESS_THRESHOLD, success_rate, t_interval_95
from .task import FILLERS, LANGUAGES, QUERY, STATES

__all__ = [
    "FULL",
    "QUICK",
    "SMOKE_TEST_WARNING",
    "VARIANTS",
    "SweepConfig",
    "Variant",
    "check",
    "held_out_seeds",
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


#: Folder, under the checkout, of the cached run records (one sub-folder per fingerprint).
CACHE_FOLDER = Path("build") / "long-context-runs"


def _cache_file(folder: Path, variant: Variant, n_filler: int, seed: int) -> Path:
    return folder / f"{variant.name}.{variant.cell}.{variant.init}.N{n_filler}.seed{seed}.json"


def _read_cached(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "accuracy" in record else None


def _priority(variant: str, n_filler: int) -> tuple[int, int]:
    """Order of the runs still to train: what an interrupted sweep should have first.

    The short lengths of every variant first (cheap, and they hold the N = 100 diagnostics),
    then the chrono and b_f = 1 LSTMs at the longest length (the headline), the ablation at
    N = 300, the ablation at N = 1000, the other cells at N = 1000, and the rest; within a
    tier, the longer sequences first.
    """
    if n_filler <= 100:
        tier = 0
    elif variant in ("lstm_chrono", "lstm_bf1", "rnn") and n_filler >= 1000:
        tier = 1
    elif variant.startswith("lstm_chrono") and n_filler == 300:
        tier = 2
    elif variant.startswith("lstm_chrono_"):
        tier = 3
    elif n_filler >= 1000:
        tier = 4
    else:
        tier = 5
    return tier, -n_filler


def run_sweep(
    sweep: SweepConfig,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    cache: Path | None = None,
    train_missing: bool = True,
) -> dict[str, Any]:
    """Train every (variant, N, seed) of ``sweep`` that is not cached and collect the results.

    Parameters
    ----------
    sweep : SweepConfig
    jobs : int, optional
        Worker processes; default ``min(os.cpu_count(), 2)``.
    progress : callable, optional
        Called with a status line after every finished or cached run.
    cache : pathlib.Path, optional
        Folder of cached run records for this sweep's fingerprint: records found there are
        used as they are, every run trained is written there as soon as it finishes. None
        trains everything and keeps nothing.
    train_missing : bool
        False trains nothing: the results hold the (variant, N) points whose every seed is
        cached, and ``"missing"`` lists the runs that are not.

    Returns
    -------
    dict
        The content of ``results.json`` (not yet rounded); its ``"timing"`` holds the CPU
        seconds of every run (``"cpu_s"``, cached ones as they were measured) and of the runs
        trained now (``"cpu_s_trained"``), and how many runs were trained and cached.
    """
    runs = sweep.runs()
    total = len(runs)
    records: dict[tuple[str, int, int], dict[str, Any]] = {}
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for v, n, s in runs:
            record = _read_cached(_cache_file(cache, v, n, s))
            if record is not None:
                records[(v.name, n, s)] = record
    cached = len(records)
    todo = [(v, n, s) for v, n, s in runs if (v.name, n, s) not in records]
    missing = [f"{v.name} N={n} seed={s}" for v, n, s in todo]
    if not train_missing:
        todo = []
    todo.sort(key=lambda run: _priority(run[0].name, run[1]))
    jobs = jobs or min(os.cpu_count() or 1, 2)
    started = time.perf_counter()
    cpu_trained = 0.0

    def report(label: str) -> None:
        if progress is not None:
            elapsed = time.perf_counter() - started
            progress(
                f"[{len(records)}/{total} runs, {cached} cached] {elapsed:7.1f} s wall, "
                f"{cpu_trained:7.1f} CPU-s  {label}"
            )

    if cached:
        report("from the cache")
    if todo:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(jobs, mp_context=context)
        try:
            # The workers start at the first submit; they inherit one BLAS thread and an ignored
            # Ctrl-C (the terminal sends it to them too), so only this process reacts to it.
            with _single_blas_thread(), _ctrl_c_ignored():
                futures: dict[Future[dict[str, Any]], tuple[Variant, int, int]] = {
                    pool.submit(run_one, v, n, s, sweep): (v, n, s) for v, n, s in todo
                }
            for future in as_completed(futures):
                v, n, s = futures[future]
                record = future.result()
                records[(v.name, n, s)] = record
                cpu_trained += record["cpu_s"]
                if cache is not None:
                    _write_text(_cache_file(cache, v, n, s), json.dumps(record) + "\n")
                report(
                    f"{v.name} N={n} seed={s}: accuracy {record['accuracy']:.3f} "
                    f"after {record['steps_run']} steps, {record['cpu_s']:.0f} CPU-s"
                )
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown()
    results = _collect(sweep, records)
    if not train_missing and missing:
        # A point is left out unless every seed of it is there: list every run of those.
        results["missing"] = [
            f"{v.name} N={n} seed={s}"
            for v, n, s in runs
            if str(n) not in results["accuracy"].get(v.name, {})
        ]
    results["timing"] = {
        "cpu_s": sum(r["cpu_s"] for r in records.values()),
        "cpu_s_trained": cpu_trained,
        "runs": total,
        "runs_trained": len(todo),
        "runs_cached": cached,
        "cpu_s_by_run": {
            v.name: {
                str(n): [records[(v.name, n, s)]["cpu_s"] for s in sweep.seeds]
                for n in sweep.fillers_of(v.name)
                if all((v.name, n, s) in records for s in sweep.seeds)
            }
            for v in sweep.variants
        },
    }
    return results


def _collect(
    sweep: SweepConfig, records: dict[tuple[str, int, int], dict[str, Any]]
) -> dict[str, Any]:
    config = sweep.train
    accuracy: dict[str, dict[str, Any]] = {}
    curves: dict[str, dict[str, Any]] = {}
    diagnostics: dict[str, Any] = {}
    saliency: dict[str, dict[str, Any]] = {}
    for v in sweep.variants:
        fillers = sweep.fillers_of(v.name)
        accuracy[v.name] = {}
        curves[v.name] = {}
        for n in fillers:
            if not all((v.name, n, s) in records for s in sweep.seeds):
                continue  # an incomplete sweep (train_missing=False) leaves the point out
            per_seed = [records[(v.name, n, s)] for s in sweep.seeds]
            point = summarise([r["accuracy"] for r in per_seed])
            point["steps_run"] = [r["steps_run"] for r in per_seed]
            point["final_loss"] = [r["final_loss"] for r in per_seed]
            accuracy[v.name][str(n)] = point
            curves[v.name][str(n)] = {
                "steps": [r["curve_steps"] for r in per_seed],
                "accuracy": [r["curve_accuracy"] for r in per_seed],
            }
            if n in sweep.saliency_fillers:
                saliency.setdefault(v.name, {})[str(n)] = _saliency_point(per_seed)
        if str(sweep.diagnostic_filler) in accuracy[v.name]:
            diagnostics[v.name] = [
                records[(v.name, sweep.diagnostic_filler, s)]["diagnostics"] for s in sweep.seeds
            ]
    task = config.task(sweep.fillers[0])
    results: dict[str, Any] = {
        "experiment": "long-context",
        "command": "lstm-sym experiment long-context" + (" --quick" if sweep.quick else ""),
        "check_command": "lstm-sym experiment long-context --check",
        "quick": sweep.quick,
        "fingerprint": fingerprint(sweep),
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
        },
        "variants": [dataclasses.asdict(v) for v in sweep.variants],
        "initialisations": {v.init: INITIALISATIONS[v.init] for v in sweep.variants},
        "fixed_t_max": FIXED_T_MAX,
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
            "fillers_of": {v.name: list(sweep.fillers_of(v.name)) for v in sweep.variants},
            "seeds": list(sweep.seeds),
            "diagnostic_filler": sweep.diagnostic_filler,
            "diagnostic_batch": sweep.diagnostic_batch,
            "saliency_fillers": list(sweep.saliency_fillers),
            "saliency_batch": sweep.saliency_batch,
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
        "saliency": saliency,
    }
    results["expectations"] = expectations(results)
    return results


def _saliency_point(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-seed saliency numbers of one (variant, N), and the profile averaged over seeds."""
    keys = ("clue", "filler_mean", "query", "clue_over_filler")
    profiles = np.array([r["saliency"]["profile"] for r in per_seed], dtype=float)
    return {
        "per_seed": [{key: r["saliency"][key] for key in keys} for r in per_seed],
        "positions": per_seed[0]["saliency"]["positions"],
        "profile_mean": [float(x) for x in profiles.mean(axis=0)],
    }


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
        if far not in accuracy.get(variant, {}):
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


def main(
    quick: bool,
    out: Path | None,
    jobs: int | None = None,
    check_only: bool = False,
    from_cache: bool = False,
) -> int:
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
    check_only : bool
        Train nothing but :func:`check` the ``results.json`` in ``out`` (default: the
        committed one).
    from_cache : bool
        Train nothing: write the results, figures and page from the cached runs alone (an
        interrupted sweep), listing the missing runs in ``results.json`` and on the page.

    Returns
    -------
    int
        0; 1 when the check fails; or 2 (with one line on standard error) when matplotlib is
        missing: checked before any training.
    """
    from ..regenerate import repository_root

    docs_folder = repository_root() / "docs" / "experiments" / "long-context"
    if check_only:
        return check(out if out is not None else docs_folder)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(MISSING_MATPLOTLIB, file=sys.stderr)
        return 2
    sweep = QUICK if quick else FULL
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="lstm_sym_long_context_")) if quick else docs_folder
    page = None
    if out.resolve() == docs_folder.resolve():
        page = docs_folder.parent / "long-context.md"
    if quick:
        print(SMOKE_TEST_WARNING)
    cache = None
    if not quick:
        cache = repository_root() / CACHE_FOLDER / fingerprint(sweep)["sha256"][:16]
        print(f"run cache: {cache}")
    line = Progress()
    load_before = _load_average()
    started = time.perf_counter()
    results = run_sweep(
        sweep, jobs=jobs, progress=line.update, cache=cache, train_missing=not from_cache
    )
    line.done()
    elapsed = time.perf_counter() - started
    results["timing"] = results["timing"] | {
        "wall_s": elapsed,
        "jobs": jobs or min(os.cpu_count() or 1, 2),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": _load_average(),
    }
    files = write_results(results, out, page)
    print(_table(results))
    for path in files:
        print(f"wrote {path}")
    timing = results["timing"]
    print(
        f"{timing['runs']} runs ({timing['runs_trained']} trained, {timing['runs_cached']} "
        f"from the cache) in {elapsed:.1f} s wall; {timing['cpu_s_trained']:.0f} CPU-s now, "
        f"{timing['cpu_s']:.0f} CPU-s for every run"
    )
    if quick:
        print(SMOKE_TEST_WARNING)
    return 0


def stored_run(results: dict[str, Any], variant: str, n_filler: int, seed: int) -> dict[str, Any]:
    """The record of one run as ``results.json`` stores it (rounded), for :func:`check`."""
    index = results["sweep"]["seeds"].index(seed)
    point = results["accuracy"][variant][str(n_filler)]
    curve = results["curves"][variant][str(n_filler)]
    stored: dict[str, Any] = {
        "accuracy": point["per_seed"][index],
        "final_loss": point["final_loss"][index],
        "steps_run": point["steps_run"][index],
        "curve_steps": curve["steps"][index],
        "curve_accuracy": curve["accuracy"][index],
    }
    if n_filler == results["sweep"]["diagnostic_filler"]:
        stored["diagnostics"] = results["diagnostics"][variant][index]
    saliency = results.get("saliency", {}).get(variant, {}).get(str(n_filler))
    if saliency is not None:
        stored["saliency"] = saliency["per_seed"][index]
    return stored


def _comparable(record: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The fields of a fresh run record that ``results.json`` stores, rounded as it rounds."""
    view = {key: record[key] for key in stored if key != "saliency"}
    if "saliency" in stored:
        view["saliency"] = {key: record["saliency"][key] for key in stored["saliency"]}
    return dict(json.loads(json.dumps(rounded(view))))


def check_runs(results: dict[str, Any]) -> list[tuple[str, int, int]]:
    """The stored runs that :func:`check` reruns: the cheapest plain RNN run and the cheapest
    LSTM run whose accuracy lies strictly between chance and 1.

    Raises
    ------
    ValueError
        If no run of one of those two cells lies strictly between chance and 1.
    """
    chance = results["task"]["chance"]
    cells = {v["name"]: v["cell"] for v in results["variants"]}
    costs = results.get("timing", {}).get("cpu_s_by_run", {})
    chosen = []
    for cell in ("rnn", "lstm"):
        candidates = []
        for name, points in results["accuracy"].items():
            if cells[name] != cell:
                continue
            for n, point in points.items():
                for i, seed in enumerate(results["sweep"]["seeds"]):
                    if chance < point["per_seed"][i] < 1:
                        cost = costs.get(name, {}).get(n, [float(n)] * (i + 1))[i]
                        candidates.append((cost, name, int(n), seed))
        if not candidates:
            raise ValueError(f"no stored {cell} run has an accuracy strictly between chance and 1")
        _, name, n, seed = min(candidates)
        chosen.append((name, n, seed))
    return chosen


def check(out: Path, stream: TextIO | None = None) -> int:
    """Check that ``out/results.json`` is what the code produces; return 0 or 1.

    Three checks, each reported on ``stream`` (standard output by default):

    1. the stored fingerprint is the fingerprint of the code and settings now (a stale one is
       reported with the files that changed);
    2. every run of the sweep is there, and every mean, interval and success count is what the
       stored per-seed accuracies give;
    3. the runs of :func:`check_runs` are trained again, in a worker process with one BLAS
       thread as in the sweep, and every stored number of theirs is reproduced exactly
       (to the 4 significant digits stored).
    """
    stream = stream if stream is not None else sys.stdout
    path = out / RESULTS_FILE
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"check: cannot read {path}: {error}", file=stream)
        return 1
    sweep = QUICK if results.get("quick") else FULL
    failures = 0
    now = fingerprint(sweep)
    stored = results.get("fingerprint", {})
    if stored.get("sha256") == now["sha256"]:
        print(f"fingerprint {now['sha256'][:16]}: current", file=stream)
    else:
        failures += 1
        changed = sorted(
            name
            for name in set(now["files"]) | set(stored.get("files", {}))
            if now["files"].get(name) != stored.get("files", {}).get(name)
        )
        if now["settings"] != stored.get("settings"):
            changed.append("settings")
        print(
            f"STALE fingerprint: results.json has {str(stored.get('sha256'))[:16]}, the code "
            f"gives {now['sha256'][:16]}; changed: {', '.join(changed) or 'nothing listed'}. "
            f"Rerun: {results.get('command', 'lstm-sym experiment long-context')}",
            file=stream,
        )
    missing = [
        f"{v.name} N={n} seed={s}"
        for v, n, s in sweep.runs()
        if str(n) not in results["accuracy"].get(v.name, {})
    ]
    if missing and missing == results.get("missing"):
        print(
            f"INCOMPLETE: results.json says that {len(missing)} runs of the sweep are missing "
            f"(e.g. {missing[0]}); resume with: {results.get('command')}",
            file=stream,
        )
    elif missing:
        failures += 1
        print(f"MISSING {len(missing)} runs of the sweep, e.g. {missing[0]}", file=stream)
    for name, points in results["accuracy"].items():
        for n, point in points.items():
            expected = json.loads(json.dumps(rounded(summarise(point["per_seed"]))))
            if any(point.get(key) != value for key, value in expected.items()):
                failures += 1
                print(f"DIFFERENT summary of {name} N={n}: not what its seeds give", file=stream)
    try:
        chosen = check_runs(results)
    except ValueError as error:
        print(f"check: {error}", file=stream)
        return 1
    variants = {v.name: v for v in sweep.variants}
    # Rerun as the sweep ran: in a spawned worker that starts with one BLAS thread (the worker
    # starts at the first submit, inside the block).
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    with pool:
        with _single_blas_thread():
            futures = [
                pool.submit(run_one, variants[name], n, seed, sweep) for name, n, seed in chosen
            ]
        for (name, n, seed), future in zip(chosen, futures, strict=True):
            expected = stored_run(results, name, n, seed)
            record = future.result()
            got = _comparable(record, expected)
            seconds = record["cpu_s"]
            label = f"{name} N={n} seed={seed}"
            if got == expected:
                print(
                    f"same: {label}, accuracy {expected['accuracy']} after "
                    f"{expected['steps_run']} steps ({seconds:.1f} CPU-s)",
                    file=stream,
                )
            else:
                failures += 1
                keys = [key for key in expected if got.get(key) != expected[key]]
                print(
                    f"DIFFERENT: {label}: {', '.join(keys)} (stored accuracy "
                    f"{expected['accuracy']}, rerun {got['accuracy']})",
                    file=stream,
                )
    print("check passed" if failures == 0 else f"check FAILED ({failures} problems)", file=stream)
    return 0 if failures == 0 else 1


def _table(results: dict[str, Any]) -> str:
    """Held-out accuracy per variant and N: mean [95 % interval] and successes."""
    fillers = results["sweep"]["fillers"]
    lines = [
        f"test accuracy (chance {results['task']['chance']:.3f}): mean [95 % t-interval] "
        f"successes/{len(results['sweep']['seeds'])} seeds",
        f"{'variant':<24}" + "".join(f"{'N=' + str(n):>22}" for n in fillers),
    ]
    for v in results["variants"]:
        row = results["accuracy"][v["name"]]
        parts = []
        for n in fillers:
            if str(n) not in row:
                parts.append("—")
                continue
            point = row[str(n)]
            low, high = point["ci95"]
            parts.append(f"{point['mean']:.2f} [{low:.2f}, {high:.2f}] {point['successes']:>2}")
        lines.append(f"{v['name']:<24}" + "".join(f"{p:>22}" for p in parts))
    return "\n".join(lines)
