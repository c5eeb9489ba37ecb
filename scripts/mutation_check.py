#!/usr/bin/env python
"""Mutation check: apply systematic mutations to every generated backward pass, run the
finite-difference check and the torch oracle on each mutant, and report the kill rate.

Usage: python scripts/mutation_check.py [CELL ...] [--goal 0.95] [--json PATH]
Exits 1 when the kill rate is below the goal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from lstm_sym.spec import builtin_cell_names
from lstm_sym.verify.mutation import evaluate_mutant, identical_gradients, mutants


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="*", help="built-in cells (default: all)")
    parser.add_argument("--goal", type=float, default=0.95, help="minimum kill rate (0.95)")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome here")
    parser.add_argument("--no-torch", action="store_true", help="finite differences only")
    arguments = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    started = time.perf_counter()
    results = []
    for cell in arguments.cells or builtin_cell_names():
        source = (root / "lstm_sym" / "kernels" / f"{cell}.py").read_text()
        cell_results = []
        for mutant in mutants(source, cell):
            result = evaluate_mutant(mutant, use_torch=not arguments.no_torch)
            if result.killed_by is None and identical_gradients(mutant, source):
                result = replace(result, detail="equivalent: bit-identical gradients")
            cell_results.append(result)
            print(f"\r  {cell}: {len(cell_results)} mutants", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        results += cell_results
        killed = sum(r.killed_by is not None for r in cell_results)
        by = Counter(r.killed_by or "survived" for r in cell_results)
        print(
            f"{cell:<16} {killed:>4}/{len(cell_results):<4} killed "
            f"({killed / len(cell_results):.1%})  "
            + ", ".join(f"{k}: {v}" for k, v in sorted(by.items()))
        )
    killed = sum(r.killed_by is not None for r in results)
    survivors = [r for r in results if r.killed_by is None]
    equivalent = [r for r in survivors if r.detail.startswith("equivalent")]
    # The mutation score: killed among the mutants that are not equivalent to the original.
    rate = killed / max(1, len(results) - len(equivalent))
    print(
        f"{len(equivalent)} of {len(survivors)} survivors are equivalent mutants "
        f"(bit-identical gradients); mutation score (killed / non-equivalent): {rate:.1%}"
    )
    print(
        f"\ntotal: {killed}/{len(results)} mutants killed ({killed / len(results):.1%} of all) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    for result in survivors:
        m = result.mutant
        print(
            f"  survived: {m.cell} line {m.line} {m.operator}: {m.before!r} -> {m.after!r}"
            f"  [{result.detail}]"
        )
    if arguments.json:
        arguments.json.write_text(
            json.dumps(
                [
                    {
                        "cell": r.mutant.cell,
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
