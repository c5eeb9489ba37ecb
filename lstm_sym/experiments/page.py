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
    for n in results["sweep"]["fillers"]:
        point = _point(results, variant, n)
        if point["success_rate"] < 0.5:
            seeds = len(point["per_seed"])
            failed = seeds - point["successes"]
            return f" {subject} already fails at N = {n} in {failed} of {seeds} seeds."
    return ""


def _lead(results: dict[str, Any]) -> list[str]:
    far = max(results["sweep"]["fillers"])
    lines = [
        "The lecture motivates the LSTM with two sentences: in *I live in Gujarat & I know …* "
        "the clue sits next to the blank; in *I live in Gujarat & I own a garment business "
        'here. I know …* it is far away, and a plain RNN is said to lose it — "∴ we go for '
        'LSTM". We turned the second sentence into a task: a state (Gujarat, Punjab, …), '
        "N filler words, then *I know*, and the model must name the state's language. "
        "We trained every cell below on it with the generated kernels, at "
        f"N = {', '.join(str(n) for n in results['sweep']['fillers'])}, with "
        f"{len(results['sweep']['seeds'])} seeds per point, changing nothing but the cell "
        "and how its gate biases start.",
        "",
    ]
    if not _has(results, "rnn", "lstm_bf1", "lstm_chrono"):
        return lines
    lines += [
        "**What was measured.** At the longest distance, N = "
        f"{far} filler words, a run counts as a success when it names the language of at "
        "least 95 % of unseen sequences:",
        "",
        f"- the LSTM whose forget gates start near 1 (*chrono* initialisation) succeeded in "
        f"{_outcome(results, 'lstm_chrono', far)};",
        f"- the same LSTM with the usual forget bias b_f = 1 succeeded in "
        f"{_outcome(results, 'lstm_bf1', far)};",
        f"- the plain RNN succeeded in {_outcome(results, 'rnn', far)}.",
        "",
    ]
    others = [
        (name, text)
        for name, text in (
            ("lstm_bf0", "the LSTM with b_f = 0"),
            ("gru_chrono", "the GRU with chrono on its update gate"),
            ("coupled_lstm_chrono", "the LSTM with coupled gates and chrono"),
        )
        if name in results["accuracy"]
    ]
    if others:
        lines += [
            "For comparison, "
            + "; ".join(
                f"{text} succeeded in {_outcome(results, name, far)}" for name, text in others
            )
            + ".",
            "",
        ]
    if _story_holds(results):
        lines += [
            "**What it means for the lecture's claim.** The claim holds, with one condition "
            "the lecture does not state: the forget gate must *start* open. The LSTM keeps "
            "the clue across "
            f"{far} words where the RNN loses it, and it does so for the reason the lecture "
            "gives — a forget gate held near 1 passes the cell state on almost unchanged, and "
            "the gradient flows back along the same path. With the common b_f = 1 the gate "
            "starts at σ(1) ≈ 0.73 instead; the part of the clue (and of its gradient) that "
            f"survives N steps shrinks like 0.73<sup>N</sup>, about {scientific(0.731**far)} at "
            f"N = {far}. That path is closed before training begins, and the LSTM then fails "
            f"at N = {far} as the RNN does (mean accuracy "
            f"{_point(results, 'lstm_bf1', far)['mean']:.2f} against the RNN's "
            f"{_point(results, 'rnn', far)['mean']:.2f}; chance is "
            f"{results['task']['chance']:.3f})."
            + _first_failure(results, "lstm_bf1", "With b_f = 1 the LSTM")
            + _first_failure(results, "rnn", "The RNN")
            + " The gradients and gates measured below show the mechanism.",
            "",
        ]
    else:
        failed = [e for e in results["expectations"] if not e["held"]]
        lines += [
            "**What it means for the lecture's claim.** Not everything went as we expected; "
            "the following expectations did **not** hold:",
            "",
            *[f"- {e['claim']}: measured {e['measured']}." for e in failed],
            "",
            "The sections below give the full table and what the gates and gradients did, so "
            "the reader can judge the claim on the measurement rather than on the slogan.",
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
        f"1/{results['task']['n_classes']} = {results['task']['chance']:.3f}.",
        "",
        "| cell, initialisation | " + " | ".join(f"N = {n}" for n in fillers) + " |",
        "|---|" + "---|" * len(fillers),
    ]
    for v in results["variants"]:
        cells = []
        for n in fillers:
            point = _point(results, v["name"], n)
            low, high = point["ci95"]
            cells.append(
                f"{point['mean']:.2f} ({low:.2f}–{high:.2f}) · {point['successes']}/{seeds}"
            )
        lines.append(f"| {v['label']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _mechanism(results: dict[str, Any], figures: str) -> list[str]:
    if not _has(results, "rnn", "lstm_bf1", "lstm_chrono") or not results["diagnostics"]:
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
    far = max(results["sweep"]["fillers"])
    return [
        "## How the runs learned",
        "",
        f"![Validation accuracy during training at N = {far}, one panel per cell, one line "
        f"per seed]({figures}/learning-curves.svg)",
        "",
        f"Validation accuracy during training at N = {far}, one line per seed. A run that "
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
    timing = results.get("timing") or {}
    load = timing.get("load_average_before")
    after = timing.get("load_average_after")
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
    if timing:
        lines += [
            f"**Cost.** The sweep of {timing['runs']} runs took "
            f"{_duration(timing['wall_s'])} of wall time with {timing['jobs']} worker "
            f"processes on a {timing['cpu_count']}-core machine"
            + (
                f" shared with other work (1-minute load average {load[0]:.1f} when it "
                f"started and {after[0]:.1f} when it ended; a load above {timing['jobs']} "
                "means the workers waited for the CPU)"
                if load and after
                else ""
            )
            + "."
            + (
                f" The workers used {_duration(timing['cpu_s'])} of CPU time in all, so on "
                f"{timing['jobs']} otherwise idle cores the sweep takes about "
                f"{_duration(timing['cpu_s'] / timing['jobs'])}."
                if "cpu_s" in timing
                else ""
            ),
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
            "bridges a gap that a plain RNN does not — when its forget gate starts open. The "
            "advantage is the forget gate; the initialisation decides whether the gate gets "
            "to use it."
        )
    else:
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
    command = results["command"]
    lines = [
        "<!-- Generated from results.json by `lstm-sym experiment long-context` — do not edit. -->",
        "",
        "# Far context, measured",
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
    lines += _expectations(results)
    lines += _mechanism(results, figures)
    lines += _curves(results, figures)
    lines += _setup(results)
    lines += _limits(results)
    lines += [
        "## Reproduce",
        "",
        "```bash",
        "lstm-sym experiment long-context            # this page, its figures and results.json",
        "lstm-sym experiment long-context --quick    # a smoke test in seconds, temporary folder",
        "```",
        "",
        f"The page was written by `{command}` from [`results.json`]({figures}/results.json), "
        "which also holds every per-seed accuracy, the learning curves, the diagnostics and "
        "all settings.",
        "",
    ]
    return "\n".join(lines)
