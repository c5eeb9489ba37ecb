"""The lecture's claim, measured: does the LSTM remember a clue that the plain RNN forgets?

``lstm-sym experiment long-context [--quick] [--out DIR]`` trains every available cell on
:class:`~lstm_sym.experiments.task.LongContextTask` for every filler length ``N`` and seed,
then writes ``results.json`` and the SVG plots of :mod:`lstm_sym.experiments.plots`.

Runs are independent and seeded, so the results do not depend on how many worker processes
share them out (``--jobs``); each worker uses a single BLAS thread.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .diagnostics import forget_gate_summary, gradient_norms_by_distance
from .task import FILLERS, LANGUAGES, QUERY, STATES
from .train import TrainConfig, train

__all__ = [
    "FULL",
    "QUICK",
    "Progress",
    "SweepConfig",
    "available_cells",
    "rounded",
    "run_sweep",
    "write_results",
]

#: Cells every sweep trains, in plotting order.
CORE_CELLS = ("rnn", "lstm", "gru")
#: LSTM variants trained when their kernels exist.
VARIANT_CELLS = ("peephole_lstm", "coupled_lstm")
#: Name of the results file in the output folder.
RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class SweepConfig:
    """Which runs a sweep makes.

    Attributes
    ----------
    fillers : tuple of int
        Filler lengths ``N``.
    seeds : tuple of int
        Seeds per (cell, N); each seeds the initial parameters and the training batches.
    train : TrainConfig
        Sizes and optimiser settings, the same for every cell.
    diagnostic_filler : int
        ``N`` of the runs (every seed) whose gradient norms and forget gates are recorded.
    diagnostic_batch : int
        Held-out sequences used for those diagnostics.
    cells : tuple of str
        Cells to train if their kernels exist.
    """

    fillers: tuple[int, ...] = (5, 10, 20, 50, 100)
    seeds: tuple[int, ...] = (0, 1, 2)
    train: TrainConfig = field(default_factory=TrainConfig)
    diagnostic_filler: int = 50
    diagnostic_batch: int = 256
    cells: tuple[str, ...] = CORE_CELLS + VARIANT_CELLS


#: The committed sweep.
FULL = SweepConfig()
#: A small sweep for CI: two lengths, two seeds, few steps.
QUICK = SweepConfig(
    fillers=(5, 20),
    seeds=(0, 1),
    train=TrainConfig(steps=60, test_size=200, checkpoints=3),
    diagnostic_filler=20,
    diagnostic_batch=64,
    cells=CORE_CELLS,
)


def available_cells(names: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """Split ``names`` into cells whose kernels load and the others, with the reason.

    Returns
    -------
    found : list of str
        Loadable cells, in the order given.
    skipped : dict of str to str
        Cell name to the reason it was skipped.
    """
    from ..kernels import load_kernel

    found: list[str] = []
    skipped: dict[str, str] = {}
    for name in names:
        try:
            load_kernel(name)
        except (KeyError, ImportError) as error:
            skipped[name] = f"no built-in kernel ({type(error).__name__})"
        else:
            found.append(name)
    return found, skipped


def test_batch_seed(n_filler: int) -> list[int]:
    """Seed of the held-out set of length ``N``: the same for every cell and training seed."""
    return [10_000, n_filler]


def _run_one(
    cell: str, n_filler: int, seed: int, sweep: SweepConfig, diagnose: bool
) -> dict[str, Any]:
    """Train one (cell, N, seed) in a worker; return plain data."""
    from ..kernels import load_kernel

    kernel = load_kernel(cell)
    config = sweep.train
    task = config.task(n_filler)
    test = task.sample(config.test_size, np.random.default_rng(test_batch_seed(n_filler)))
    result = train(kernel, n_filler, seed, config, test)
    record: dict[str, Any] = {
        "accuracy": result.accuracy,
        "final_loss": result.final_loss,
        "curve_steps": result.curve_steps,
        "curve_accuracy": result.curve_accuracy,
    }
    if diagnose:
        probe = task.sample(sweep.diagnostic_batch, np.random.default_rng([20_000, n_filler]))
        record["gradient_norms"] = {
            "init": gradient_norms_by_distance(
                kernel, result.initial["params"], result.initial["readout"], probe
            ),
            "trained": gradient_norms_by_distance(
                kernel, result.trained["params"], result.trained["readout"], probe
            ),
        }
        record["forget_gate"] = forget_gate_summary(
            kernel, result.trained["params"], probe, config.n_classes
        )
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
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, label: str) -> None:
        """Count one unit of work as done and redraw with ``label``."""
        self.done += 1
        filled = self.width * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        line = f"[{bar}] {self.done}/{self.total} {elapsed:6.1f} s  {label}"
        if self.interactive:
            self.stream.write("\r" + line.ljust(100))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


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


def _summary(values: list[float]) -> dict[str, Any]:
    array = np.asarray(values)
    return {
        "per_seed": values,
        "mean": float(array.mean()),
        "std": float(array.std(ddof=1)) if array.size > 1 else 0.0,
        "min": float(array.min()),
        "max": float(array.max()),
    }


def run_sweep(
    sweep: SweepConfig,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train every (cell, N, seed) of ``sweep`` and gather the results.

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
        The content of ``results.json`` (not yet rounded).
    """
    cells, skipped = available_cells(sweep.cells)
    if "lstm" not in cells:
        raise RuntimeError("the lstm kernel is missing; run `lstm-sym regenerate`")
    diag_n = sweep.diagnostic_filler
    runs = [(c, n, s) for c in cells for n in sweep.fillers for s in sweep.seeds]
    # Longest sequences first so that the workers finish together.
    runs.sort(key=lambda run: -run[1])
    jobs = jobs or min(os.cpu_count() or 1, 2)
    records: dict[tuple[str, int, int], dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")
    with _single_blas_thread(), ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures: dict[Future[dict[str, Any]], tuple[str, int, int]] = {
            pool.submit(_run_one, c, n, s, sweep, n == diag_n): (c, n, s) for c, n, s in runs
        }
        for future in as_completed(futures):
            c, n, s = futures[future]
            records[(c, n, s)] = future.result()
            if progress is not None:
                score = records[(c, n, s)]["accuracy"]
                progress(f"{c} N={n} seed={s}: accuracy {score:.3f}")

    config = sweep.train
    accuracy: dict[str, dict[str, Any]] = {}
    curves: dict[str, dict[str, Any]] = {}
    gradients: dict[str, Any] = {}
    forget: dict[str, Any] = {}
    for c in cells:
        accuracy[c] = {}
        curves[c] = {}
        for n in sweep.fillers:
            per_seed = [records[(c, n, s)] for s in sweep.seeds]
            accuracy[c][str(n)] = _summary([r["accuracy"] for r in per_seed])
            accuracy[c][str(n)]["final_loss"] = [r["final_loss"] for r in per_seed]
            curves[c][str(n)] = {
                "steps": per_seed[0]["curve_steps"],
                "accuracy": [r["curve_accuracy"] for r in per_seed],
            }
        if diag_n in sweep.fillers:
            diagnosed = [records[(c, diag_n, s)] for s in sweep.seeds]
            gradients[c] = [r["gradient_norms"] for r in diagnosed]
            if diagnosed[0]["forget_gate"] is not None:
                forget[c] = [r["forget_gate"] for r in diagnosed]

    task = config.task(sweep.fillers[0])
    chance = 1 / config.n_classes
    expectation: dict[str, Any] = {"filler": 50, "lstm_at_least": 0.95, "rnn_at_most": 2 * chance}
    if "50" in accuracy["lstm"] and "rnn" in accuracy:
        lstm_mean = accuracy["lstm"]["50"]["mean"]
        rnn_mean = accuracy["rnn"]["50"]["mean"]
        expectation.update(
            lstm_mean=lstm_mean,
            rnn_mean=rnn_mean,
            held=bool(lstm_mean >= 0.95 and rnn_mean <= 2 * chance),
        )
    return {
        "experiment": "long-context",
        "command": "lstm-sym experiment long-context" + (" --quick" if sweep == QUICK else ""),
        "cells": cells,
        "skipped_cells": skipped,
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
            "chance": chance,
            "encoding": "one-hot",
        },
        "sweep": {
            "fillers": list(sweep.fillers),
            "seeds": list(sweep.seeds),
            "diagnostic_filler": diag_n,
            "diagnostic_batch": sweep.diagnostic_batch,
        },
        "train": dataclasses.asdict(config)
        | {
            "optimizer": "Adam with bias correction",
            "clipping": "global gradient norm over all parameters",
            "loss": "mean softmax cross-entropy of the read-out after the last step",
            "init": (
                "kernel init_params (uniform ±1/sqrt(H)); b_f set to forget_bias in cells "
                "that have it; read-out uniform ±1/sqrt(H), zero bias"
            ),
            "data": "a fresh batch every step; held-out set drawn from a separate seed",
        },
        "accuracy": accuracy,
        "curves": curves,
        "gradient_norms": gradients,
        "forget_gate": forget,
        "expectation": expectation,
    }


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


def write_results(results: dict[str, Any], out: Path) -> list[Path]:
    """Write ``results.json`` (sorted keys, rounded floats) and every plot into ``out``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from .plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_FILE
    text = json.dumps(rounded(results), indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return [path, *write_plots(json.loads(text), out)]


def main(quick: bool, out: Path | None, jobs: int | None = None) -> int:
    """Run the sweep (full or quick), write the results and report where; return 0.

    Parameters
    ----------
    quick : bool
        Run :data:`QUICK` instead of :data:`FULL`.
    out : pathlib.Path, optional
        Output folder; default ``docs/experiments/long-context`` of the checkout for the full
        sweep and a new temporary folder for ``--quick`` (so CI never overwrites the committed
        results).
    jobs : int, optional
        Worker processes.
    """
    import tempfile

    from ..regenerate import repository_root

    sweep = QUICK if quick else FULL
    if out is None:
        if quick:
            out = Path(tempfile.mkdtemp(prefix="lstm_sym_long_context_"))
        else:
            out = repository_root() / "docs" / "experiments" / "long-context"
    cells, skipped = available_cells(sweep.cells)
    for name, reason in skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    total = len(cells) * len(sweep.fillers) * len(sweep.seeds)
    bar = Progress(total)
    started = time.perf_counter()
    results = run_sweep(sweep, jobs=jobs, progress=bar.update)
    files = write_results(results, out)
    elapsed = time.perf_counter() - started
    print(_table(results))
    for path in files:
        print(f"wrote {path}")
    print(f"{total} runs in {elapsed:.1f} s")
    return 0


def _table(results: dict[str, Any]) -> str:
    """Held-out accuracy, mean ± standard deviation over seeds, one row per cell."""
    fillers = results["sweep"]["fillers"]
    lines = [
        f"held-out accuracy (chance {results['task']['chance']:.3f}), "
        f"mean ± std over {len(results['sweep']['seeds'])} seeds",
        f"{'cell':<15}" + "".join(f"{'N=' + str(n):>15}" for n in fillers),
    ]
    for cell in results["cells"]:
        row = results["accuracy"][cell]
        cells = "".join(f"{row[str(n)]['mean']:>8.3f} ± {row[str(n)]['std']:.2f}" for n in fillers)
        lines.append(f"{cell:<15}{cells}")
    return "\n".join(lines)
