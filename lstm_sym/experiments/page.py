"""The Markdown page of the far-context experiment, written from ``results.json`` alone.

Every number on the page is read from the results here, so the page, the JSON and the figures
always come from the same run (``lstm-sym experiment long-context`` writes all three).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["render_page", "scientific"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float) -> str:
    """Format a positive number for prose: ``0.42``, ``3.1 × 10⁻⁵``; zero as ``0``."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.2g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10**exponent
    if f"{mantissa:.1f}" == "10.0":
        mantissa, exponent = 1.0, exponent + 1
    power = f"10{str(exponent).translate(_SUPERSCRIPT)}"
    return power if f"{mantissa:.1f}" == "1.0" else f"{mantissa:.1f} × {power}"


def _point(results: dict[str, Any], variant: str, n: int | str) -> dict[str, Any]:
    return dict(results["accuracy"][variant][str(n)])


def _outcome(results: dict[str, Any], variant: str, n: int | str) -> str:
    point = _point(results, variant, n)
    low, high = point["ci95"]
    seeds = f"{point['successes']} of {len(point['per_seed'])} seeds"
    if point["min"] == point["max"]:
        return f"{seeds} (accuracy {point['mean']:.2f} in every seed)"
    return f"{seeds} (mean accuracy {point['mean']:.2f}, 95 % CI {low:.2f}–{high:.2f})"


def _median(values: list[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float)))


def _clue_gradient(results: dict[str, Any], variant: str, state: str, moment: str) -> float:
    return _median(
        [d[moment]["gradient_norms"][state][-1] for d in results["diagnostics"][variant]]
    )


def _decay_per_step(results: dict[str, Any], variant: str, state: str, moment: str) -> float:
    """Median over seeds of the per-step factor of the gradient norm over the filler steps.

    The geometric mean of ``‖∂ℓ/∂s‖`` at the clue over its value one step before the
    question, over the ``N`` steps in between.
    """
    factors = []
    for d in results["diagnostics"][variant]:
        norms = d[moment]["gradient_norms"][state]
        near, clue = norms[1], norms[-1]
        steps = len(norms) - 2
        if near > 0 and clue > 0:
            factors.append((clue / near) ** (1 / steps))
        else:
            factors.append(0.0)
    return _median(factors)


def _keep(results: dict[str, Any], variant: str, moment: str, key: str) -> list[float]:
    """Per rank of unit, the median over seeds of a keep-gate summary list."""
    rows = [d[moment]["keep_gate"][key] for d in results["diagnostics"][variant]]
    return [float(v) for v in np.median(np.asarray(rows, dtype=float), axis=0)]


def _units_keeping(results: dict[str, Any], variant: str, moment: str, level: float) -> float:
    """Median over seeds of the number of units that keep at least ``level`` of the clue."""
    counts = [
        sum(1 for v in d[moment]["keep_gate"]["log10_kept"] if v >= math.log10(level))
        for d in results["diagnostics"][variant]
    ]
    return _median([float(c) for c in counts])


def _has(results: dict[str, Any], *variants: str) -> bool:
    return all(v in results["accuracy"] for v in variants)


def _first_failure(results: dict[str, Any], variant: str, subject: str) -> str:
    """A sentence naming the shortest N at which most seeds of ``variant`` failed, if any."""
    for n in sorted(int(k) for k in results["accuracy"][variant]):
        point = _point(results, variant, n)
        if point["success_rate"] < 0.5:
            seeds = len(point["per_seed"])
            failed = seeds - point["successes"]
            return f" {subject} already fails at N = {n} in {failed} of {seeds} seeds."
    return ""


def _far(results: dict[str, Any]) -> int:
    return int(max(results["sweep"]["fillers"]))


def _seeds_line(results: dict[str, Any], variant: str, n: int | str) -> str:
    """``"4/5 (mean 0.97)"`` for a table cell; ``"—"`` where the point was not trained."""
    if str(n) not in results["accuracy"].get(variant, {}):
        return "—"
    point = _point(results, variant, n)
    return f"{point['successes']}/{len(point['per_seed'])} (mean {point['mean']:.2f})"


#: The ablation's lines: variant, what it keeps of chrono, in the order of the table.
_ABLATION = (
    ("lstm_bf1", "none: b_f = 1, b_i as drawn"),
    ("lstm_chrono_forget_only", "b_f = log u with T_max = N + 2; b_i as drawn"),
    ("lstm_chrono_fixed_tmax", "b_f = log u and b_i = −b_f, but T_max = {t_max} for every N"),
    ("lstm_chrono", "all three: b_f = log u, b_i = −b_f, T_max = N + 2"),
)


def _ablation_lengths(results: dict[str, Any]) -> list[int]:
    """The lengths at which the ablation's own variants (chrono taken apart) were trained."""
    names = [name for name, _ in _ABLATION if name.startswith("lstm_chrono_")]
    return sorted({int(n) for name in names for n in results["accuracy"].get(name, {})})


def _compare(results: dict[str, Any], full: str, ablated: str, part: str) -> str:
    """One sentence: what removing ``part`` (going from ``full`` to ``ablated``) changed."""
    lengths = [
        n
        for n in _ablation_lengths(results)
        if all(str(n) in results["accuracy"].get(name, {}) for name in (full, ablated))
    ]
    if not lengths:
        return "not measured yet (the sweep was interrupted before these runs)."
    pairs = [(n, _point(results, full, n), _point(results, ablated, n)) for n in lengths]
    numbers = "; ".join(
        f"N = {n}: {b['successes']} of {len(b['per_seed'])} seeds without it, "
        f"{a['successes']} with it (mean accuracy {b['mean']:.2f} against {a['mean']:.2f})"
        for n, a, b in pairs
    )
    drop = max((a["successes"] - b["successes"] for _, a, b in pairs), default=0)
    gain = max((b["successes"] - a["successes"] for _, a, b in pairs), default=0)
    if drop >= 2:
        verdict = f"**{part} is needed here**"
    elif gain >= 2:
        verdict = f"**{part} hurts here**"
    else:
        verdict = f"**{part} makes no difference we can measure with these seeds**"
    return f"{verdict} ({numbers})."


def _chrono_parts(results: dict[str, Any]) -> list[str]:
    """What chrono changes, and the ablation that takes it apart."""
    t_max = results.get("fixed_t_max", 100)
    lines = [
        "**What chrono changes.** Chrono (Tallec & Ollivier, 2018) is not one change but "
        "three, made together, on top of the kernel's default draw (every parameter uniform "
        "in ±1/√H, so every gate starts near σ(0) = 0.5):",
        "",
        "1. **b_f = log u**, with u drawn uniformly from [1, T_max − 1] for each unit: the "
        "forget gate of unit j starts at σ(log u<sub>j</sub>) = u<sub>j</sub>/(1 + "
        "u<sub>j</sub>), so the unit keeps its memory for about u<sub>j</sub> steps, and the "
        "units' time scales are spread from 1 step to T_max;",
        "2. **b_i = −b_f**: the input gate starts at 1/(1 + u<sub>j</sub>), so a unit that "
        "keeps for long writes little at each step and does not overwrite the clue with "
        "fillers;",
        "3. **T_max = N + 2**, the length of the sequences it is trained on: the longest time "
        "scales reach across the whole sequence, whatever N is.",
        "",
    ]
    if not _has(results, *(name for name, _ in _ABLATION)):
        return lines
    lengths = _ablation_lengths(results)
    if not lengths:
        return lines
    lines += [
        "**What each part contributes.** We took chrono apart on the LSTM, at "
        + " and ".join(f"N = {n}" for n in lengths)
        + f", {len(results['sweep']['seeds'])} seeds each (seeds reaching 0.95, and mean test "
        "accuracy):",
        "",
        "| LSTM initialisation | what it keeps of chrono | "
        + " | ".join(f"N = {n}" for n in lengths)
        + " |",
        "|---|---|" + "---|" * len(lengths),
    ]
    labels = {v["name"]: v["label"] for v in results["variants"]}
    for name, keeps in _ABLATION:
        cells = " | ".join(_seeds_line(results, name, n) for n in lengths)
        lines.append(f"| {labels[name]} | {keeps.format(t_max=t_max)} | {cells} |")
    lines += [
        "",
        "- Part 2, b_i = −b_f (chrono against *chrono b_f only*): "
        + _compare(results, "lstm_chrono", "lstm_chrono_forget_only", "b_i = −b_f"),
        f"- Part 3, T_max = N + 2 (chrono against chrono with T_max fixed at {t_max}, the "
        "setting for sequences of about 100 steps): "
        + _compare(results, "lstm_chrono", "lstm_chrono_fixed_tmax", "a length-aware T_max"),
        "- Part 1, the spread-out forget biases themselves (*chrono b_f only* against "
        "b_f = 1, both with b_i as drawn): "
        + _compare(results, "lstm_chrono_forget_only", "lstm_bf1", "b_f = log u"),
        "",
    ]
    return lines


def _lead(results: dict[str, Any]) -> list[str]:
    far = _far(results)
    lines = [
        "The lecture motivates the LSTM with two sentences: in *I live in Gujarat & I know …* "
        "the clue sits next to the blank; in *I live in Gujarat & I own a garment business "
        'here. I know …* it is far away, and a plain RNN is said to lose it — "∴ we go for '
        'LSTM". We turned the second sentence into a task: a state (Gujarat, Punjab, …), '
        "N filler words, then *I know*, and the model must name the state's language. "
        "We trained every cell below on it with the generated kernels, at "
        f"N = {', '.join(str(n) for n in results['sweep']['fillers'])}, with "
        f"{len(results['sweep']['seeds'])} seeds per point, changing nothing but the cell "
        "and how its gate biases start."
        + (
            f" Our longest gap, N = {far}, is the scale at which Hochreiter & Schmidhuber "
            "(1997) introduced the LSTM (a symbol kept across 1000 steps)."
            if far >= 1000
            else ""
        ),
        "",
    ]
    if not all(str(far) in results["accuracy"].get(v, {}) for v in ("rnn", "lstm_chrono")):
        return lines + _chrono_parts(results)
    lines += [
        f"**At N = {far}.** {far} filler words separate the clue from the question. A run "
        "counts as a success when it names the language of at least 95 % of unseen "
        "sequences:",
        "",
    ]
    for name, text in (
        ("lstm_chrono", "the LSTM with *chrono* initialisation"),
        ("gru_chrono", "the GRU with chrono on its update gate"),
        ("coupled_lstm_chrono", "the LSTM with coupled gates and chrono"),
        ("lstm_bf1", "the same LSTM with the usual forget bias b_f = 1"),
        ("rnn", "the plain RNN"),
    ):
        if str(far) in results["accuracy"].get(name, {}):
            lines.append(f"- {text} succeeded in {_outcome(results, name, far)};")
    lines[-1] = lines[-1][:-1] + "."
    lines.append("")
    if _story_holds(results):
        lines += [
            "**What it means for the lecture's claim.** The claim holds, with a condition "
            "the lecture does not state: the cell's memory path must *start* open. The LSTM "
            f"keeps the clue across {far} words where the RNN loses it. With the common "
            "b_f = 1 every forget gate starts at σ(1) ≈ 0.73; the part of the clue (and of "
            f"its gradient) that survives N steps shrinks like 0.73<sup>N</sup>, about "
            f"{scientific(0.731**far)} at N = {far}, and that LSTM fails as the RNN does "
            f"(mean accuracy {_point(results, 'lstm_bf1', far)['mean']:.2f} against the "
            f"RNN's {_point(results, 'rnn', far)['mean']:.2f}; chance is "
            f"{results['task']['chance']:.3f})."
            + _first_failure(results, "lstm_bf1", "With b_f = 1 the LSTM")
            + " So it is not the forget gate alone: it is the gate *and* how it starts, and "
            "chrono sets more than the forget gate, as follows.",
            "",
        ]
    elif any(not e["held"] for e in results["expectations"]):
        failed = [e for e in results["expectations"] if not e["held"]]
        lines += [
            "**What it means for the lecture's claim.** Not everything went as we expected; "
            "the following expectations did **not** hold:",
            "",
            *[f"- {e['claim']}: measured {e['measured']}." for e in failed],
            "",
        ]
    return lines + _chrono_parts(results)


def _saliency_section(results: dict[str, Any], figures: str) -> list[str]:
    saliency = results.get("saliency") or {}
    if not saliency:
        return []
    labels = {v["name"]: v["label"] for v in results["variants"]}
    fillers = sorted({int(n) for points in saliency.values() for n in points})
    lines = [
        "## What the trained cells read",
        "",
        "After training, we ran each model on "
        f"{results['sweep']['saliency_batch']} held-out sequences and took the gradient of "
        "the correct class's logit z<sub>y</sub> (the read-out after the last step) with "
        "respect to every input x<sub>t</sub>, through the kernel's own `backward` in "
        "float64. Its size ‖∂z<sub>y</sub>/∂x<sub>t</sub>‖ says how much the answer moves "
        "when the token at step t changes. A model that answers from the clue has a large "
        "value at t = 0 and small ones over the fillers.",
        "",
        "![The size of the gradient of the correct logit with respect to each input, against "
        "the input's step, at "
        + " and ".join(f"N = {n}" for n in fillers)
        + f", one line per cell]({figures}/saliency.svg)",
        "",
        "Lines are means over the held-out sequences and the seeds; values below 10⁻²⁰ are "
        "drawn on the lower edge. "
        "Per cell: the value at the clue, the mean over the fillers and their ratio, medians "
        "over seeds (the numbers of every seed are in `results.json`, under `saliency`):",
        "",
        "| cell, initialisation | "
        + " | ".join(f"N = {n}: clue · fillers · ratio" for n in fillers)
        + " |",
        "|---|" + "---|" * len(fillers),
    ]
    for name, label in labels.items():
        if name not in saliency:
            continue
        cells = []
        for n in fillers:
            point = saliency[name].get(str(n))
            if point is None:
                cells.append("—")
                continue
            seeds = point["per_seed"]
            clue = _median([p["clue"] for p in seeds])
            filler = _median([p["filler_mean"] for p in seeds])
            ratios = [p["clue_over_filler"] for p in seeds]
            ratio = _median([r if r is not None else math.inf for r in ratios])
            cells.append(f"{scientific(clue)} · {scientific(filler)} · {scientific(ratio)}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    far = str(max(fillers))
    if all(far in saliency.get(name, {}) for name in ("rnn", "lstm_chrono")):
        rnn = _median([p["clue_over_filler"] or 0.0 for p in saliency["rnn"][far]["per_seed"]])
        lstm = _median(
            [p["clue_over_filler"] or 0.0 for p in saliency["lstm_chrono"][far]["per_seed"]]
        )
        lines += [
            f"At N = {far} the chrono LSTM's answer depends {scientific(lstm)} times more on "
            f"the clue than on an average filler; the RNN's, {scientific(rnn)} times.",
            "",
        ]
    return lines


def _reproduce(results: dict[str, Any], figures: str) -> list[str]:
    from .long_context import check_runs

    command = results["command"]
    sha = results.get("fingerprint", {}).get("sha256", "")
    files = sorted(results.get("fingerprint", {}).get("files", {}))
    try:
        chosen = check_runs(results)
    except ValueError:
        chosen = []
    timing = results.get("timing") or {}
    lines = [
        "## Reproduce it",
        "",
        "```bash",
        f"{command:<44}# this page, its figures and results.json",
        f"{'lstm-sym experiment long-context --check':<44}# rerun a few stored runs, compare",
        f"{'lstm-sym experiment long-context --quick':<44}# a smoke test, temporary folder",
        "```",
        "",
        f"**Fingerprint.** `results.json` records the fingerprint `{sha[:16]}` (SHA-256 "
        f"`{sha}`): a hash of the code that decides every number — "
        + ", ".join(f"`lstm_sym/{f}`" for f in files)
        + " — and of the training settings. The page, the figures and the progress display "
        "are not part of it.",
        "",
        "**Cache.** Every finished run is stored under `build/long-context-runs/` in a folder "
        "named by the fingerprint, keyed by variant, N and seed: an interrupted sweep, or one "
        "with more lengths or seeds, trains only the runs that are missing, and a change to "
        "the fingerprinted code starts a new folder.",
        "",
        "**Check.** `--check` fails when the fingerprint of today's code differs from the "
        "stored one (and names the files that changed), when a stored mean, interval or "
        "success count is not what its per-seed accuracies give, or when a rerun differs. "
        "It reruns the cheapest stored plain-RNN run and the cheapest LSTM run whose accuracy "
        "lies strictly between chance and 1 — "
        + (
            " and ".join(f"{name}, N = {n}, seed {seed}" for name, n, seed in chosen)
            if chosen
            else "none qualifies"
        )
        + " — and compares every number it stored (accuracy, loss, steps, learning curve, "
        "diagnostics). CI runs it on every push.",
        "",
    ]
    if timing:
        load = timing.get("load_average_before")
        lines += [
            f"**Cost.** {timing['runs']} runs, "
            f"{_duration(timing['cpu_s'])} of CPU time in all"
            + (
                f"; this invocation trained {timing['runs_trained']} of them in "
                f"{_duration(timing['wall_s'])} of wall time with {timing['jobs']} worker "
                f"processes on a {timing['cpu_count']}-core machine"
                if "wall_s" in timing
                else ""
            )
            + (
                f" shared with other work (1-minute load average {load[0]:.1f} at the start)"
                if load
                else ""
            )
            + f". On {timing.get('jobs', 2)} idle cores the whole sweep takes about "
            f"{_duration(timing['cpu_s'] / timing.get('jobs', 2))}.",
            "",
        ]
    lines += [
        f"[`results.json`]({figures}/results.json) also holds every per-seed accuracy, the "
        "learning curves, the diagnostics, the saliency numbers and all settings.",
        "",
    ]
    return lines


def _expectations(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Expectations, checked",
        "",
        "We wrote these down before the sweep; the command checks each against the results.",
        "",
        "| expectation | measured | held? |",
        "|---|---|---|",
    ]
    for e in results["expectations"]:
        lines.append(f"| {e['claim']} | {e['measured']} | {'yes' if e['held'] else '**no**'} |")
    return [*lines, ""]


def _table(results: dict[str, Any]) -> list[str]:
    fillers = results["sweep"]["fillers"]
    seeds = len(results["sweep"]["seeds"])
    lines = [
        "## Accuracy against distance",
        "",
        f"Each entry: the mean test accuracy over {seeds} seeds (its 95 % interval: Student t, "
        "clipped to [0, 1]) · how many seeds reached "
        f"{results['statistics']['success_threshold']:g} (the success rate). "
        "Chance is "
        f"1/{results['task']['n_classes']} = {results['task']['chance']:.3f}; — marks a "
        "length at which that line is not trained.",
        "",
        "| cell, initialisation | " + " | ".join(f"N = {n}" for n in fillers) + " |",
        "|---|" + "---|" * len(fillers),
    ]
    for v in results["variants"]:
        cells = []
        for n in fillers:
            if str(n) not in results["accuracy"][v["name"]]:
                cells.append("—")
                continue
            point = _point(results, v["name"], n)
            low, high = point["ci95"]
            cells.append(
                f"{point['mean']:.2f} ({low:.2f}–{high:.2f}) · {point['successes']}/{seeds}"
            )
        lines.append(f"| {v['label']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _mechanism(results: dict[str, Any], figures: str) -> list[str]:
    if not all(v in results["diagnostics"] for v in ("rnn", "lstm_bf1", "lstm_chrono")):
        return []
    n = results["sweep"]["diagnostic_filler"]
    seeds = len(results["sweep"]["seeds"])
    g = {
        (v, m): _clue_gradient(results, v, s, m)
        for v, s in (("rnn", "h"), ("lstm_bf1", "C"), ("lstm_chrono", "C"))
        for m in ("init", "trained")
    }
    decay = {
        (v, m): _decay_per_step(results, v, s, m)
        for v, s in (("rnn", "h"), ("lstm_bf1", "C"), ("lstm_chrono", "C"))
        for m in ("init", "trained")
    }
    f_bf1 = _keep(results, "lstm_bf1", "init", "filler_mean")
    f_chrono = _keep(results, "lstm_chrono", "init", "filler_mean")
    f_chrono_trained = _keep(results, "lstm_chrono", "trained", "filler_mean")
    f_bf1_trained = _keep(results, "lstm_bf1", "trained", "filler_mean")
    level = 0.01
    units = {
        (v, m): _units_keeping(results, v, m, level)
        for v in ("lstm_bf1", "lstm_chrono")
        for m in ("init", "trained")
    }
    h = len(f_bf1)
    return [
        "## Why: the forget gate and the gradient",
        "",
        f"For the runs at N = {n} (all {seeds} seeds) we ran each cell on "
        f"{results['sweep']['diagnostic_batch']} held-out sequences before and after training, "
        "read the forget gates from the kernel's forward cache, and chained the kernel's "
        "one-step backward (`step_backward`) from the read-out back to the clue to get the "
        "gradient of one sequence's loss ℓ with respect to every state (float64, so that "
        "tiny values still show). Medians over seeds below; thin lines in the figures are "
        "single seeds.",
        "",
        f"![Gradient norm against distance from the question, before and after training, for "
        f"the RNN's hidden state and the LSTM's cell state with b_f = 1 and with chrono]"
        f"({figures}/gradient-norms.svg)",
        "",
        f"- **Before training**, the gradient that reaches the clue is "
        f"{scientific(g[('rnn', 'init')])} for the RNN (‖∂ℓ/∂h‖), "
        f"{scientific(g[('lstm_bf1', 'init')])} for the LSTM with b_f = 1 (‖∂ℓ/∂C‖) and "
        f"{scientific(g[('lstm_chrono', 'init')])} for the LSTM with chrono: going back one "
        f"step multiplies it by about {decay[('rnn', 'init')]:.2f}, "
        f"{decay[('lstm_bf1', 'init')]:.2f} and {decay[('lstm_chrono', 'init')]:.2f} "
        "respectively (geometric mean over the fillers), so with chrono "
        f"{scientific(g[('lstm_chrono', 'init')] / max(g[('lstm_bf1', 'init')], 1e-300))} "
        "times more gradient reaches the clue than with b_f = 1.",
        f"- **After training** it is {scientific(g[('rnn', 'trained')])} (RNN), "
        f"{scientific(g[('lstm_bf1', 'trained')])} (b_f = 1) and "
        f"{scientific(g[('lstm_chrono', 'trained')])} (chrono); per step "
        f"{decay[('rnn', 'trained')]:.2f}, {decay[('lstm_bf1', 'trained')]:.2f} and "
        f"{decay[('lstm_chrono', 'trained')]:.2f}.",
        "",
        f"![Mean forget gate over the filler steps per unit, and the product of the forget "
        f"gate over the fillers, before and after training, b_f = 1 and chrono]"
        f"({figures}/forget-gate.svg)",
        "",
        f"- **The forget gate over the filler steps.** With b_f = 1 every unit starts with "
        f"f between {min(f_bf1):.2f} and {max(f_bf1):.2f}, close to σ(1) ≈ 0.73, and "
        f"{units[('lstm_bf1', 'init')]:.0f} of {h} units keep at least 1 % of the clue across "
        f"the {n} fillers. Chrono starts the units at spread-out time scales, f from "
        f"{min(f_chrono):.2f} to {max(f_chrono):.2f}, and "
        f"{units[('lstm_chrono', 'init')]:.0f} units keep at least 1 % of the clue before any "
        "training (medians over seeds).",
        f"- **After training** the most-keeping unit has f = {max(f_chrono_trained):.3f} over "
        f"the fillers with chrono ({units[('lstm_chrono', 'trained')]:.0f} units keep ≥ 1 %), "
        f"and f = {max(f_bf1_trained):.3f} with b_f = 1 "
        f"({units[('lstm_bf1', 'trained')]:.0f} units keep ≥ 1 %). "
        + _after_training_reading(results, units),
        "",
    ]


def _after_training_reading(results: dict[str, Any], units: dict[tuple[str, str], float]) -> str:
    """One sentence on what training did to the b_f = 1 gates, chosen by the numbers."""
    n = results["sweep"]["diagnostic_filler"]
    bf1 = _point(results, "lstm_bf1", n)
    if units[("lstm_bf1", "trained")] == 0 and bf1["success_rate"] == 0:
        return (
            "Training did not open a gate that the initialisation had closed: with almost no "
            "gradient reaching the clue, nothing tells the forget gate to open, and none of "
            f"the b_f = 1 runs solved N = {n}."
        )
    if bf1["success_rate"] == 0:
        return f"None of the b_f = 1 runs solved N = {n}."
    return (
        f"With b_f = 1, {bf1['successes']} of {len(bf1['per_seed'])} runs solved N = {n}: "
        "there training opened the gate that the initialisation had left nearly closed."
    )


def _curves(results: dict[str, Any], figures: str) -> list[str]:
    train = results["train"]
    return [
        "## How the runs learned",
        "",
        "![Validation accuracy during training at the longest N of each cell, one panel per "
        f"cell, one line per seed]({figures}/learning-curves.svg)",
        "",
        "Validation accuracy during training at the longest N of each cell, one line per "
        "seed. A run that "
        "learns the task sits at chance and then jumps; one that does not stays near chance "
        f"for the whole budget of {train['steps']} steps. A line ends where its run stopped "
        f"early ({train['early_stop']}).",
        "",
    ]


def _duration(seconds: float) -> str:
    """``"42 s"`` below two minutes, ``"12.3 minutes"`` above."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} minutes"


def _setup(results: dict[str, Any]) -> list[str]:
    task = results["task"]
    train = results["train"]
    inits = results["initialisations"]
    states = ", ".join(task["states"])
    languages = ", ".join(task["languages"])
    fillers = ", ".join(f'"{w}"' for w in task["fillers"][:6])
    seeds = len(results["sweep"]["seeds"])
    threshold = results["statistics"]["success_threshold"]
    lines = [
        "## How it was measured",
        "",
        f"**The task.** A sequence opens with one of K = {task['n_classes']} states ({states}), "
        f"continues with N filler words drawn uniformly from {len(task['fillers'])} words of "
        f"the garment-business clause ({fillers}, …) and closes with *{task['query']}*. The "
        f"label is the state's language ({languages}). Fillers never name a state, so the only "
        f"clue is the first token, N + 1 steps before the answer. Tokens are one-hot (input "
        f"size {task['input_size']}).",
        "",
        f"**The model.** A generated kernel with H = {train['hidden_size']} units reads the "
        f"sequence from a zero state; a softmax layer reads the hidden state after the last "
        f"step. Training uses the kernels' own `forward` and `backward`.",
        "",
        f"**Training, the same for every cell.** Adam (step {train['lr']:g}, β = "
        f"({train['betas'][0]:g}, {train['betas'][1]:g}), ε = {train['eps']:g}), global "
        f"gradient norm clipped to {train['clip']:g}, {train['batch_size']} fresh sequences "
        f"per step, at most {train['steps']} steps, {train['dtype']}. Every "
        f"{train['check_every']} steps the accuracy on {train['validation_size']} held-out "
        f"validation sequences is recorded; a run stops early once {train['stop_after']} "
        "checkpoints in a row were perfect (1.0), since nothing is left to learn. The reported "
        f"accuracy is measured once at the end on {train['test_size']} other held-out test "
        "sequences (the same sets for every cell and seed).",
        "",
        "**Initialisations.** Every parameter first comes from the kernel's `init_params` "
        "(uniform in ±1/√H); then:",
        "",
    ]
    for name in dict.fromkeys(v["init"] for v in results["variants"]):
        lines.append(f"- `{name}`: {inits[name]}.")
    lines += [
        "",
        "Chrono (Tallec & Ollivier, 2018) gives each unit its own starting memory time scale "
        "of u steps, spread up to the sequence length. For the GRU we applied it to the gate "
        "that keeps the old state. In lstm_sym's `gru` (Cho et al.'s form) that is 1 − z, "
        "since h = (1 − z)·h_prev + z·h̃, so chrono sets b_z = −log u; in the torch form "
        "`gru_torch`, where z keeps, it would be b_z = +log u. The GRU's and the coupled "
        "LSTM's write gate is one minus the keep gate, so chrono's b_i = −b_f holds there by "
        "construction. The reset gate keeps its default bias.",
        "",
        f"**Statistics.** Per point, the {seeds} test accuracies give a mean and a 95 % "
        "Student-t interval, mean ± t(0.975, n − 1)·s/√n, clipped to [0, 1]; the success "
        f"rate is the fraction of seeds with accuracy ≥ {threshold:g}. With {seeds} seeds an "
        "interval is wide, and where every seed agrees it has zero width: read the success "
        "counts alongside.",
        "",
    ]
    return lines


def _story_holds(results: dict[str, Any]) -> bool:
    """Whether chrono solved the longest N while the RNN and the b_f = 1 LSTM failed."""
    far = max(results["sweep"]["fillers"])
    held = {e["id"]: e["held"] for e in results["expectations"]}
    return all(held.get(f"{name}_at_{far}", False) for name in ("lstm_chrono", "rnn", "lstm_bf1"))


def _limits(results: dict[str, Any]) -> list[str]:
    seeds = len(results["sweep"]["seeds"])
    lines = ["## What this does and does not show", ""]
    if _story_holds(results):
        lines.append(
            "- It shows that on this task, with the same small budget for every cell, an LSTM "
            "bridges a gap that a plain RNN does not — when its memory path starts open. The "
            "cell supplies the path (a cell state that a forget gate near 1 passes on "
            "unchanged); the initialisation decides whether training can find it, and the "
            "ablation above says which of chrono's three changes that takes."
        )
    elif any(not e["held"] for e in results["expectations"]):
        lines.append(
            "- It does not show the lecture's claim in the form we expected: see the "
            "expectations above that did not hold."
        )
    lines += [
        "- It does not rank cells in general: the network is small, the budget is fixed, and "
        f"{seeds} seeds per point give wide intervals. A cell that fails here might succeed "
        "with more steps or more units.",
        "- The b_f = 1 result is kept on purpose: it is the ablation that shows the "
        "mechanism. An earlier version of this page used b_f = 1 for every gated cell and "
        "found the LSTM no better than the RNN; the b_f = 1 row above is that finding, now "
        "next to the initialisation that changes it.",
        "",
    ]
    return lines


def render_page(results: dict[str, Any], figures: str) -> str:
    """Return the experiment page as Markdown.

    Parameters
    ----------
    results : dict
        The content of ``results.json`` (rounded, as stored).
    figures : str
        Path of the figures folder relative to the page, POSIX separators.

    Returns
    -------
    str
        The page, ending with a newline.
    """
    lines = [
        "<!-- Generated from results.json by `lstm-sym experiment long-context` — do not edit. -->",
        "",
        "# Far context, measured",
        "",
    ]
    missing = results.get("missing") or []
    if missing:
        lines += [
            '!!! warning "Incomplete sweep"',
            f"    This page was written from an interrupted sweep: {len(missing)} of "
            f"{results['timing']['runs']} runs are left out (for example "
            f"{', '.join(missing[:3])}), because not every seed of their (cell, N) point had "
            "finished; the table marks those points —. The full list is in `results.json` "
            f"under `missing`; `{results['command']}` trains only what the run cache lacks.",
            "",
        ]
    if results.get("quick"):
        lines += [
            '!!! warning "Smoke test"',
            "    This page was written by `--quick`: tiny models, a few dozen steps. Its numbers "
            "are a smoke test, not a result.",
            "",
        ]
    lines += _lead(results)
    lines += [
        f"![Test accuracy against the number of filler words, mean and 95 % interval over "
        f"seeds, one line per cell]({figures}/accuracy.svg)",
        "",
    ]
    lines += _table(results)
    lines += _saliency_section(results, figures)
    lines += _mechanism(results, figures)
    lines += _curves(results, figures)
    lines += _reproduce(results, figures)
    lines += _setup(results)
    lines += _expectations(results)
    lines += _limits(results)
    return "\n".join(lines)
