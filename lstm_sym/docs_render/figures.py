"""Figures for the documentation, drawn from symbolic expressions and cell equations.

Both figures are deterministic SVG text (the same bytes on every run and under every
``PYTHONHASHSEED``), so the generated files can be committed and checked for staleness.

- :func:`activation_plots_svg`: σ, tanh and their derivatives, evaluated from SymPy expressions.
- :func:`cell_diagram_svg`: one step of a cell in colah's conventions, laid out from its spec.

``lstm-sym regenerate`` writes them into ``docs/assets/generated``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import sympy

__all__ = [
    "GATE_HIGHLIGHTS",
    "activation_plots_svg",
    "cell_diagram_svg",
    "figures",
]


def _activation_expressions() -> dict[str, sympy.Expr]:
    """σ, σ', tanh and tanh' as SymPy expressions of one symbol ``a``."""
    a = sympy.Symbol("a", real=True)
    try:
        from lstm_sym.spec.functions import sigmoid

        sig: sympy.Expr = sigmoid(a)
        sig_prime = sympy.diff(sig, a)
        sig_numeric = sig.rewrite(sympy.exp)
        sig_prime_numeric = sig_prime.rewrite(sympy.exp)
    except ImportError:  # the spec package is not there: fall back to the closed form
        sig_numeric = 1 / (1 + sympy.exp(-a))
        sig_prime_numeric = sympy.diff(sig_numeric, a)
    tanh = sympy.tanh(a)
    return {
        "sigmoid": sig_numeric,
        "sigmoid_prime": sig_prime_numeric,
        "tanh": tanh,
        "tanh_prime": sympy.diff(tanh, a),
        "a": a,
    }


def activation_plots_svg() -> str:
    """Plot σ, tanh and their derivatives from SymPy expressions, as deterministic SVG.

    The curves are SymPy expressions (σ from :class:`lstm_sym.spec.functions.sigmoid`, so σ'
    is the spec's own derivative rule σ(1 − σ)) turned into NumPy functions with
    :func:`sympy.lambdify`.

    Returns
    -------
    str
        An SVG document of two panels: σ with σ', tanh with tanh'.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    exprs = _activation_expressions()
    a = exprs["a"]
    xs = np.linspace(-6.0, 6.0, 241)

    def curve(name: str) -> object:
        return sympy.lambdify(a, exprs[name], modules="numpy")(xs)

    with matplotlib.rc_context(
        {
            "svg.hashsalt": "lstm_sym",
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
            "font.size": 10.0,
            "path.simplify": False,
        }
    ):
        fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), layout="constrained")
        panels = (
            ("σ(a): filters, 0 … 1", "sigmoid", "σ(a)", "sigmoid_prime", "σ'(a) = σ(1 − σ)"),
            (
                "tanh(a): adds or modifies, −1 … 1",
                "tanh",
                "tanh(a)",
                "tanh_prime",
                "tanh'(a) = 1 − tanh²",
            ),
        )
        for ax, (title, f, f_label, df, df_label) in zip(axes, panels, strict=True):
            ax.plot(xs, curve(f), color="#3949ab", linewidth=2.0, label=f_label)
            ax.plot(xs, curve(df), color="#e65100", linewidth=1.6, linestyle="--", label=df_label)
            ax.axhline(0.0, color="#9e9e9e", linewidth=0.6)
            ax.axvline(0.0, color="#9e9e9e", linewidth=0.6)
            ax.set_title(title)
            ax.set_xlabel("pre-activation a")
            ax.set_xlim(-6.0, 6.0)
            ax.set_ylim(-1.1, 1.1)
            ax.grid(True, linewidth=0.3)
            ax.legend(loc="lower right", frameon=False)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
        plt.close(fig)
    return buffer.getvalue()


#: Gate pages of the LSTM and the layers each highlights (the input page shows the gate and
#: the candidate it lets through).
GATE_HIGHLIGHTS: dict[str, tuple[str, ...]] = {
    "forget": ("f",),
    "input": ("i", "C_tilde"),
    "output": ("o",),
}


def cell_diagram_svg(spec: Any, highlight: Sequence[str] = (), *, ident: str = "cell") -> str:
    """Draw one step of a cell spec in colah's conventions (see :mod:`.cell_diagram`).

    Parameters
    ----------
    spec
        A :class:`lstm_sym.spec.CellSpec`.
    highlight
        Layers to show in colour (``("f",)``); the rest turn grey. Empty: all in colour.
    ident
        Prefix of the ids inside the SVG.

    Returns
    -------
    str
        A deterministic SVG document.
    """
    from .cell_diagram import cell_diagram

    return cell_diagram(spec, highlight, ident=ident)


def figures() -> dict[str, str]:
    """Every figure of the docs, by file name.

    The activation plots, one diagram per built-in cell (``<cell>-cell.svg``), the cell
    unrolled over three steps (``<cell>-unrolled.svg``) and, for the
    LSTM's gate pages, a copy with that gate highlighted (``lstm-cell-<gate page>.svg``).
    """
    from lstm_sym.spec import builtin_cell_names, load_builtin

    from .cell_diagram import unrolled_diagram

    out = {"activations.svg": activation_plots_svg()}
    for name in builtin_cell_names():
        spec = load_builtin(name)
        out[f"{name}-cell.svg"] = cell_diagram_svg(spec, ident=f"{name}-cell")
        out[f"{name}-unrolled.svg"] = unrolled_diagram(spec)
    lstm = load_builtin("lstm")
    for page, layers in GATE_HIGHLIGHTS.items():
        out[f"lstm-cell-{page}.svg"] = cell_diagram_svg(lstm, layers, ident=f"lstm-{page}")
    return out
