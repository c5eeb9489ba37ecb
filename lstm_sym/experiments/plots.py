"""SVG plots of ``results.json`` (matplotlib, deterministic bytes: fixed hash salt, no date).

Every figure is at most :data:`WIDTH_IN` inches wide with 12 pt text, so that on a 390 px phone
(about 360 px of content) the text is still about 11 px high, and every legend sits outside
the axes, below them, so no line crosses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PLOT_FILES", "WIDTH_IN", "write_plots"]

#: The plots written into the output folder.
PLOT_FILES = (
    "accuracy.svg",
    "learning-curves.svg",
    "gradient-norms.svg",
    "forget-gate.svg",
    "saliency.svg",
)
#: Saliency values below this are drawn on the lower edge of the saliency figure.
SALIENCY_FLOOR = 1e-20
#: Width of every figure in inches (the SVG's natural width is 72 pt per inch = 96 px).
WIDTH_IN = 5.0

_STYLE = {
    "rnn": {"color": "#d62728", "marker": "o"},
    "lstm_bf0": {"color": "#7f7f7f", "marker": "v"},
    "lstm_bf1": {"color": "#ff7f0e", "marker": "P"},
    "lstm_chrono": {"color": "#1f77b4", "marker": "s"},
    "gru_chrono": {"color": "#2ca02c", "marker": "^"},
    "coupled_lstm_chrono": {"color": "#9467bd", "marker": "D"},
    "lstm_chrono_forget_only": {"color": "#17becf", "marker": "X"},
    "lstm_chrono_fixed_tmax": {"color": "#8c564b", "marker": "*"},
}
_RC: Any = {
    "svg.hashsalt": "lstm_sym",
    "svg.fonttype": "path",
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _style(name: str) -> dict[str, str]:
    return _STYLE.get(name, {"color": "#17becf", "marker": "x"})


def _labels(results: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["label"] for v in results["variants"]}


def _fillers_of(results: dict[str, Any], name: str) -> list[int]:
    """The lengths at which ``name`` was trained, in increasing order."""
    return sorted(int(n) for n in results["accuracy"][name])


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height), layout="constrained")


def _legend_below(figure: Any, columns: int = 2) -> None:
    figure.legend(loc="outside lower center", ncol=columns, frameon=False)


def _save(figure: Any, path: Path) -> Path:
    figure.savefig(path, format="svg", metadata={"Date": None})
    return path


def _accuracy(results: dict[str, Any], path: Path) -> Path:
    fillers = results["sweep"]["fillers"]
    labels = _labels(results)
    names = list(labels)
    figure = _figure(6.4)
    axes = figure.add_subplot()
    chance = results["task"]["chance"]
    axes.axhline(chance, color="black", linestyle=":", linewidth=1)
    axes.text(fillers[0] * 0.8, chance + 0.02, "chance", va="bottom", ha="left")
    for k, name in enumerate(names):
        own = _fillers_of(results, name)
        if not own:
            continue
        points = [results["accuracy"][name][str(n)] for n in own]
        shift = 1.06 ** (k - (len(names) - 1) / 2)  # side by side on the log axis
        xs = np.array(own, dtype=float) * shift
        means = np.array([p["mean"] for p in points])
        low = means - np.array([p["ci95"][0] for p in points])
        high = np.array([p["ci95"][1] for p in points]) - means
        style = _style(name)
        axes.errorbar(
            xs,
            means,
            yerr=np.vstack([low, high]),
            color=style["color"],
            marker=style["marker"],
            markersize=6,
            capsize=3,
            linewidth=1.5,
            label=labels[name],
        )
    axes.set_xscale("log")
    axes.set_xticks(fillers, [str(n) for n in fillers])
    axes.minorticks_off()
    axes.set_xlim(fillers[0] * 0.75, fillers[-1] * 1.3)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("filler tokens N between clue and question")
    axes.set_ylabel("test accuracy (mean, 95 % CI)")
    _legend_below(figure, columns=1 if len(names) > 6 else 2)
    return _save(figure, path)


def _learning_curves(results: dict[str, Any], path: Path) -> Path:
    labels = {k: v for k, v in _labels(results).items() if _fillers_of(results, k)}
    rows = (len(labels) + 1) // 2
    figure = _figure(1.9 * rows + 0.8)
    panels = figure.subplots(rows, 2, sharex=True, sharey=True, squeeze=False)
    for k, (name, label) in enumerate(labels.items()):
        axes = panels[k // 2][k % 2]
        axes.axhline(results["task"]["chance"], color="black", linestyle=":", linewidth=1)
        n = _fillers_of(results, name)[-1]
        curve = results["curves"][name][str(n)]
        style = _style(name)
        for steps, accuracy in zip(curve["steps"], curve["accuracy"], strict=True):
            axes.plot(steps, accuracy, color=style["color"], alpha=0.8, linewidth=1.3)
        axes.set_title(f"{label}\nN = {n}", loc="left", fontsize=10.5)
        axes.set_ylim(0, 1.05)
        axes.set_yticks([0, 0.5, 1])
    for k in range(len(labels), rows * 2):
        panels[k // 2][k % 2].set_visible(False)
    figure.supylabel("validation accuracy", fontsize=12)
    figure.supxlabel("training step at the longest N (one line per seed)", fontsize=12)
    return _save(figure, path)


#: Variant, state and line style of every line of the gradient figure (the GRU dashed, so
#: that the chrono LSTM's line stays visible where the two coincide).
_GRADIENT_LINES = (
    ("rnn", "h", "-"),
    ("lstm_bf1", "C", "-"),
    ("lstm_chrono", "C", "-"),
    ("gru_chrono", "h", "--"),
)


def _gradient_norms(results: dict[str, Any], path: Path) -> Path:
    labels = _labels(results)
    diagnostics = results["diagnostics"]
    n = results["sweep"]["diagnostic_filler"]
    lines = [(v, s, dash) for v, s, dash in _GRADIENT_LINES if v in diagnostics]
    figure = _figure(7.0)
    panels = figure.subplots(2, 1, sharex=True, sharey=True)
    for axes, moment, title in zip(
        panels, ("init", "trained"), ("before training", "after training"), strict=True
    ):
        for name, state, dash in lines:
            style = _style(name)
            per_seed = np.array(
                [d[moment]["gradient_norms"][state] for d in diagnostics[name]], dtype=float
            )
            # Distance 0 is left out: the cell state after the last step feeds the read-out
            # only through h of the same step, so its step-to-step adjoint there is 0.
            per_seed = per_seed[:, 1:]
            distance = np.arange(1, per_seed.shape[1] + 1)
            floor = np.finfo(float).tiny
            for values in per_seed:
                axes.semilogy(
                    distance, np.maximum(values, floor), color=style["color"], alpha=0.3, lw=0.8
                )
            axes.semilogy(
                distance,
                np.maximum(np.median(per_seed, axis=0), floor),
                color=style["color"],
                linestyle=dash,
                linewidth=2,
                label=f"{labels[name]}: ‖∂ℓ/∂{state}‖" if moment == "init" else None,
            )
        axes.set_title(title, loc="left")
        axes.set_ylabel("gradient norm")
    panels[-1].set_xlabel(f"steps back from the question (clue: {n + 1})")
    _legend_below(figure, columns=1)
    return _save(figure, path)


def _forget_gate(results: dict[str, Any], path: Path) -> Path:
    labels = _labels(results)
    diagnostics = results["diagnostics"]
    n = results["sweep"]["diagnostic_filler"]
    shown = [v for v in ("lstm_bf1", "lstm_chrono") if v in diagnostics]
    figure = _figure(7.0)
    top, bottom = figure.subplots(2, 1, sharex=True)
    for name in shown:
        style = _style(name)
        for moment, dash, word in (("init", "--", "before"), ("trained", "-", "after")):
            summaries = [d[moment]["keep_gate"] for d in diagnostics[name]]
            mean_f = np.median([s["filler_mean"] for s in summaries], axis=0)
            kept = np.median([s["log10_kept"] for s in summaries], axis=0)
            units = np.arange(1, mean_f.size + 1)
            label = f"{labels[name]}, {word} training"
            top.plot(units, mean_f, color=style["color"], linestyle=dash, lw=2, label=label)
            bottom.semilogy(
                units,
                np.maximum(10.0**kept, np.finfo(float).tiny),
                color=style["color"],
                linestyle=dash,
                lw=2,
            )
    top.set_ylim(0, 1.02)
    top.set_ylabel("mean f over fillers")
    top.set_title(f"forget gate per unit, N = {n}", loc="left")
    bottom.set_ylabel(f"product of f\nover the {n} fillers")
    bottom.set_title("how much of the clue a unit keeps", loc="left")
    bottom.set_xlabel("unit, sorted from most to least keeping")
    _legend_below(figure, columns=1)
    return _save(figure, path)


def _saliency(results: dict[str, Any], path: Path) -> Path:
    labels = _labels(results)
    saliency = results.get("saliency", {})
    fillers = sorted({int(n) for points in saliency.values() for n in points})
    figure = _figure(3.0 * max(1, len(fillers)) + 2.6)
    panels = figure.subplots(max(1, len(fillers)), 1, squeeze=False)[:, 0]
    floor = SALIENCY_FLOOR
    for axes, n in zip(panels, fillers, strict=False):
        for name, label in labels.items():
            point = saliency.get(name, {}).get(str(n))
            if point is None:
                continue
            style = _style(name)
            axes.semilogy(
                point["positions"],
                np.maximum(np.asarray(point["profile_mean"], dtype=float), floor),
                color=style["color"],
                linewidth=1.6,
                label=label if n == fillers[0] else None,
            )
        axes.axvline(0, color="black", linestyle=":", linewidth=1)
        axes.set_ylim(bottom=floor / 3)
        axes.set_title(f"N = {n} (clue at t = 0)", loc="left")
        axes.set_ylabel("‖∂z_correct/∂x_t‖")
    panels[-1].set_xlabel("input step t")
    _legend_below(figure, columns=1)
    return _save(figure, path)


def write_plots(results: dict[str, Any], out: Path) -> list[Path]:
    """Draw every plot of :data:`PLOT_FILES` from ``results`` into ``out``.

    Parameters
    ----------
    results : dict
        The content of ``results.json``.
    out : pathlib.Path
        Existing output folder.

    Returns
    -------
    list of pathlib.Path
        The SVG files written.
    """
    import matplotlib

    with matplotlib.rc_context(_RC):
        return [
            _accuracy(results, out / PLOT_FILES[0]),
            _learning_curves(results, out / PLOT_FILES[1]),
            _gradient_norms(results, out / PLOT_FILES[2]),
            _forget_gate(results, out / PLOT_FILES[3]),
            _saliency(results, out / PLOT_FILES[4]),
        ]
