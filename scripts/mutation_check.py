#!/usr/bin/env python
"""Mutation check: mutate the generated kernels and run `lstm-sym gradcheck`'s checks on each.

Every mutant changes one operation in the computation of a built-in cell's committed file,
for every verifiable backend: ``_forward``, ``backward``, ``step`` or ``step_backward`` of
the NumPy kernel, ``SequenceFunction.forward`` or ``SequenceFunction.backward`` of the torch
module (see :mod:`lstm_sym.verify.mutation`). It is evaluated with exactly the checks
``lstm-sym gradcheck CELL`` runs on that backend
(:func:`lstm_sym.verify.gradcheck.check_kernel`, for torch also against the NumPy kernel),
nothing else. The score per cell is killed / (mutants − equivalent mutants); a survivor is
equivalent when it agrees with the original to 1e-12 on every block setting and on larger
shapes.

By default (CI) a fixed, seeded sample of each cell's mutants is evaluated (every mutation
operator keeps its share): :data:`DEFAULT_SAMPLE` per NumPy kernel, and
:data:`DEFAULT_OTHER_SAMPLE` per file of another backend; ``--sample N`` sets both, ``--all``
evaluates every mutant, ``--backend`` keeps one backend. Mutants run in ``--jobs`` worker
processes (default 2).

Usage: python scripts/mutation_check.py [CELL ...] [--backend NAME] [--all | --sample N]
       [--jobs N] [--goal 0.95] [--json PATH]
Exits 1 when the score is below the goal.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from lstm_sym.backends import verifiable
from lstm_sym.console import Progress
from lstm_sym.spec import builtin_cell_names
from lstm_sym.verify.gradcheck import default_backend, kernel_source
from lstm_sym.verify.mutation import (
    Mutant,
    MutantResult,
    equivalent,
    evaluate_mutant,
    mutants,
    mutation_operators,
)

#: Mutants per NumPy kernel in the default (sampled) mode.
DEFAULT_SAMPLE = 40
#: Mutants per cell of every other backend (torch) in the default mode: fewer, to keep CI's
#: run short; ``--all`` (or ``--backend torch --sample N``) checks more.
DEFAULT_OTHER_SAMPLE = 12
#: Seed of the sample: the same mutants at every run.
SAMPLE_SEED = 12

#: Original kernel source by (backend, cell).
_ORIGINALS: dict[tuple[str | None, str], str] = {}


def _sample(operators: list[str], size: int) -> list[int]:
    """Indices of a seeded sample of ``size`` mutants; each operator keeps its share."""
    if size >= len(operators):
        return list(range(len(operators)))
    by_operator: dict[str, list[int]] = defaultdict(list)
    for index, operator in enumerate(operators):
        by_operator[operator].append(index)
    rng = random.Random(SAMPLE_SEED)
    chosen: list[int] = []
    for operator in sorted(by_operator):
        group = by_operator[operator]
        share = max(1, round(size * len(group) / len(operators)))
        chosen += rng.sample(group, min(share, len(group)))
    return sorted(chosen)


def _category(killed_by: str | None) -> str:
    """The check that killed a mutant, without its shapes: "finite differences", "float32"."""
    if killed_by is None:
        return "survived"
    return killed_by.split(":")[0].split(",")[0].split(" vs ")[0]


def _initialise(originals: dict[tuple[str | None, str], str]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Mutants that resize an `out=` tensor make torch warn; the check's verdict is the output.
    warnings.simplefilter("ignore")
    _ORIGINALS.update(originals)


def _evaluate(mutant: Mutant) -> MutantResult:
    result = evaluate_mutant(mutant)
    original = _ORIGINALS[mutant.backend, mutant.cell]
    if result.killed_by is None and equivalent(mutant, original):
        result = replace(result, detail="equivalent: agrees with the original to 1e-12")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="*", help="built-in cells (default: all)")
    parser.add_argument("--goal", type=float, default=0.95, help="minimum score (0.95)")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--all", action="store_true", help="evaluate every mutant")
    size.add_argument(
        "--sample",
        type=int,
        help=f"mutants per cell, seeded sample (default {DEFAULT_SAMPLE} per NumPy kernel, "
        f"{DEFAULT_OTHER_SAMPLE} per file of another backend)",
    )
    names = [b.name for b in verifiable() if b.builtin_path is not None]
    parser.add_argument("--backend", choices=names, help="check one backend (default: all)")
    arguments = parser.parse_args()
    if arguments.jobs < 1 or (arguments.sample is not None and arguments.sample < 1):
        parser.error("--jobs and --sample must be at least 1")
    started = time.perf_counter()
    cells = arguments.cells or list(builtin_cell_names())
    # Every verifiable backend's committed files; with one backend, rows are named by cell.
    backends = [
        b
        for b in verifiable()
        if b.builtin_path is not None and arguments.backend in (None, b.name)
    ]
    for b in backends:
        reason = b.missing()
        if reason is not None:
            print(f"backend {b.name} skipped: {reason}", file=sys.stderr)
    backends = [b for b in backends if b.missing() is None]
    numpy = default_backend().name

    def sample_size(name: str) -> int:
        if arguments.sample is not None:
            return int(arguments.sample)
        return DEFAULT_SAMPLE if name == numpy else DEFAULT_OTHER_SAMPLE

    originals = {(b.name, c): kernel_source(c, b) for b in backends for c in cells}
    work: list[Mutant] = []
    offered: dict[tuple[str | None, str], int] = {}
    for (name, cell), original in originals.items():
        operators = mutation_operators(original)
        offered[name, cell] = len(operators)
        chosen = None if arguments.all else set(_sample(operators, sample_size(name or numpy)))
        work += mutants(original, cell, chosen, backend=name)
    mode = (
        "every mutant"
        if arguments.all
        else "a seeded sample per cell ("
        + ", ".join(f"{b.name}: {sample_size(b.name)}" for b in backends)
        + "), every operator; --all for all"
    )
    print(
        f"mutation check: {len(work)} of {sum(offered.values())} mutants ({mode}), "
        f"checks of `lstm-sym gradcheck`, {arguments.jobs} worker(s)"
    )
    progress = Progress(every=50)
    results: list[MutantResult] = []

    def record(result: MutantResult) -> None:
        results.append(result)
        progress.count(f"  {len(results)}/{len(work)} mutants", len(results), len(work))

    if arguments.jobs == 1:
        _initialise(originals)
        for mutant in work:
            record(_evaluate(mutant))
    else:
        with multiprocessing.Pool(arguments.jobs, _initialise, (originals,)) as pool:
            for result in pool.imap(_evaluate, work, chunksize=4):
                record(result)
    progress.done()
    by_cell: dict[tuple[str | None, str], list[MutantResult]] = defaultdict(list)
    for result in results:
        by_cell[result.mutant.backend, result.mutant.cell].append(result)

    def label(name: str | None, cell: str) -> str:
        return cell if len(backends) == 1 else f"{cell} ({name})"

    print(f"{'cell':<16} {'killed':>7} {'mutants':>8} {'equiv.':>7} {'score':>7}  killed by")
    for key in originals:
        cell_results = by_cell[key]
        killed = sum(r.killed_by is not None for r in cell_results)
        same = sum(r.killed_by is None and r.detail.startswith("equivalent") for r in cell_results)
        score = killed / max(1, len(cell_results) - same)
        by = Counter(_category(r.killed_by) for r in cell_results)
        print(
            f"{label(*key):<16} {killed:>7} {len(cell_results):>8} {same:>7} {score:>7.2%}  "
            + ", ".join(f"{k}: {v}" for k, v in sorted(by.items()))
        )
    if len(backends) > 1:
        for b in backends:
            mine = [r for r in results if r.mutant.backend == b.name]
            done = sum(r.killed_by is not None for r in mine)
            equal = sum(r.killed_by is None and r.detail.startswith("equivalent") for r in mine)
            print(
                f"{b.name}: {done}/{len(mine)} killed, {equal} equivalent; "
                f"score {done / max(1, len(mine) - equal):.2%}"
            )
    killed = sum(r.killed_by is not None for r in results)
    survivors = [r for r in results if r.killed_by is None]
    same = [r for r in survivors if r.detail.startswith("equivalent")]
    rate = killed / max(1, len(results) - len(same))
    print(
        f"total: {killed}/{len(results)} killed, {len(same)} of {len(survivors)} survivors "
        f"equivalent; mutation score (killed / non-equivalent): {rate:.2%} "
        f"in {time.perf_counter() - started:.0f} s"
    )
    for result in survivors:
        m = result.mutant
        print(
            f"  survived: {label(m.backend, m.cell)} line {m.line} {m.operator}: "
            f"{m.before!r} -> {m.after!r}"
            f"  [{result.detail}]"
        )
    if arguments.json:
        arguments.json.write_text(
            json.dumps(
                [
                    {
                        "cell": r.mutant.cell,
                        "backend": r.mutant.backend,
                        "operator": r.mutant.operator,
                        "line": r.mutant.line,
                        "before": r.mutant.before,
                        "after": r.mutant.after,
                        "killed_by": r.killed_by,
                        "detail": r.detail,
                    }
                    for r in results
                ],
                indent=1,
            )
        )
    if rate < arguments.goal:
        print(f"mutation score {rate:.1%} is below the goal {arguments.goal:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
