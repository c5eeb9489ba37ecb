"""SVG plots of ``results.json`` (matplotlib, deterministic bytes: fixed hash salt, no date)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PLOT_FILES", "write_plots"]

#: The plots written into the output folder.
PLOT_FILES = ("accuracy.svg", "learning-curves.svg", "gradient-norms.svg", "forget-gate.svg")

_STYLE = {
    "rnn": {"color": "#d62728", "marker": "o"},
    "lstm": {"color": "#1f77b4", "marker": "s"},
    "gru": {"color": "#2ca02c", "marker": "^"},
    "peephole_lstm": {"color": "#9467bd", "marker": "D"},
    "coupled_lstm": {"color": "#ff7f0e", "marker": "v"},
}
_RC: Any = {
    "svg.hashsalt": "lstm_sym",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _style(cell: str) -> dict[str, str]:
    return _STYLE.get(cell, {"color": "#7f7f7f", "marker": "x"})


def _save(figure: Any, path: Path) -> Path:
    figure.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return path


def _accuracy(results: dict[str, Any], path: Path) -> Path:
    from matplotlib.figure import Figure

    fillers = results["sweep"]["fillers"]
    figure = Figure(figsize=(6.4, 3.8))
    axes = figure.add_subplot()
    for cell in results["cells"]:
        rows = [results["accuracy"][cell][str(n)] for n in fillers]
        means = np.array([r["mean"] for r in rows])
        style = _style(cell)
        axes.plot(fillers, means, label=cell, color=style["color"], marker=style["marker"])
        for n, row in zip(fillers, rows, strict=True):
            axes.scatter(
                [n] * len(row["per_seed"]), row["per_seed"], color=style["color"], s=8, alpha=0.4
            )
    axes.axhline(results["task"]["chance"], color="black", linestyle=":", label="chance")
    axes.set_xscale("log")
    axes.set_xticks(fillers, [str(n) for n in fillers])
    axes.minorticks_off()
    axes.set_ylim(0, 1.03)
    axes.set_xlabel("filler tokens N between the clue and the question")
    axes.set_ylabel("held-out accuracy")
    axes.set_title("Naming the language: mean over seeds (dots: single seeds)")
    axes.legend(loc="lower left", frameon=False)
    return _save(figure, path)


def _learning_curves(results: dict[str, Any], path: Path) -> Path:
    from matplotlib.figure import Figure

    fillers = results["sweep"]["fillers"]
    figure = Figure(figsize=(3.0 * len(fillers), 2.8))
    axes_list = figure.subplots(1, len(fillers), sharey=True, squeeze=False)[0]
    for axes, n in zip(axes_list, fillers, strict=True):
        for cell in results["cells"]:
            curve = results["curves"][cell][str(n)]
            style = _style(cell)
            for k, accuracy in enumerate(curve["accuracy"]):
                axes.plot(
                    curve["steps"],
                    accuracy,
                    color=style["color"],
                    alpha=0.8,
                    linewidth=1,
                    label=cell if k == 0 else None,
                )
        axes.axhline(results["task"]["chance"], color="black", linestyle=":")
        axes.set_title(f"N = {n}")
        axes.set_xlabel("training step")
        axes.set_ylim(0, 1.03)
    axes_list[0].set_ylabel("held-out accuracy")
    axes_list[-1].legend(loc="lower right", frameon=False, fontsize=7)
    return _save(figure, path)


def _gradient_norms(results: dict[str, Any], path: Path) -> Path:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 3.6))
    panels = figure.subplots(1, 2, sharey=True)
    norms = results["gradient_norms"]
    n = results["sweep"]["diagnostic_filler"]
    seeds = results["sweep"]["seeds"]
    shown = [c for c in ("rnn", "lstm") if c in norms] or list(norms)
    for axes, moment, title in zip(
        panels, ("init", "trained"), ("at initialisation", "after training"), strict=True
    ):
        for cell in shown:
            style = _style(cell)
            scores = results["accuracy"][cell][str(n)]["per_seed"]
            for k, per_seed in enumerate(norms[cell]):
                values = np.asarray(per_seed[moment]["h"], dtype=float)
                label = f"{cell}, seed {seeds[k]}"
                if moment == "trained":
                    label += f" (accuracy {scores[k]:.2f})"
                axes.semilogy(
                    np.arange(values.size),
                    values,
                    color=style["color"],
                    linestyle=("-", "--", ":", "-.")[k % 4],
                    linewidth=1,
                    label=label,
                )
        axes.set_title(title)
        axes.set_xlabel("distance from the question (steps)")
        axes.legend(loc="lower left", frameon=False, fontsize=6)
    panels[0].set_ylabel("mean ‖∂ℓ/∂h_t‖ (log scale)")
    figure.suptitle(f"Gradient reaching h_t, N = {n}")
    return _save(figure, path)


def _forget_gate(results: dict[str, Any], path: Path) -> Path:
    from matplotlib.figure import Figure

    summaries = results["forget_gate"].get("lstm")
    if not summaries:
        figure = Figure(figsize=(4.0, 2.0))
        figure.add_subplot().text(0.5, 0.5, "no LSTM forget gate recorded", ha="center")
        return _save(figure, path)
    n = results["sweep"]["diagnostic_filler"]
    seeds = results["sweep"]["seeds"]
    scores = results["accuracy"]["lstm"][str(n)]["per_seed"]
    columns = len(summaries)
    figure = Figure(figsize=(3.2 * columns + 1.2, 5.0))
    grid = figure.subplots(2, columns, sharex=True, squeeze=False, height_ratios=(3, 2))
    image: Any = None
    for k, summary in enumerate(summaries):
        top, bottom = grid[0][k], grid[1][k]
        mean_f = np.asarray(summary["mean_f"], dtype=float)
        H, T = mean_f.shape
        image = top.imshow(
            mean_f,
            aspect="auto",
            vmin=0,
            vmax=1,
            cmap="viridis",
            extent=(0.5, T + 0.5, H - 0.5, -0.5),
        )
        top.set_title(f"seed {seeds[k]}: accuracy {scores[k]:.2f}")
        for c, values in enumerate(np.asarray(summary["top_unit_C_by_class"], dtype=float)):
            bottom.plot(
                np.arange(1, T + 1), values, linewidth=1, label=results["task"]["states"][c]
            )
        bottom.set_xlabel("step t")
    grid[0][0].set_ylabel("unit (best memory on top)")
    grid[1][0].set_ylabel("C_t of the best unit,\nmean per state")
    grid[1][-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=6)
    figure.colorbar(image, ax=list(grid[0]), label="mean forget gate f_t")
    figure.suptitle(f"Trained LSTM, N = {n}: step 1 is the state, 2..T-1 fillers, T the question")
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
        ]
