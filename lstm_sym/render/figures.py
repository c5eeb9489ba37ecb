"""Figures for the documentation, drawn from symbolic expressions and cell equations.

Both figures are deterministic SVG text (the same bytes on every run and under every
``PYTHONHASHSEED``), so the generated files can be committed and checked for staleness.

- :func:`activation_plots_svg`: σ, tanh and their derivatives, evaluated from SymPy expressions.
- :func:`cell_diagram_svg`: a data-flow diagram of one cell step, laid out from its equations.

``lstm-sym regenerate`` writes them into ``docs/assets/generated``.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from typing import Any

import sympy

__all__ = [
    "LSTM_EQUATIONS",
    "Equation",
    "activation_plots_svg",
    "cell_diagram_svg",
    "equations_from_spec",
    "figures",
]

#: One equation of a cell step: (target, operand names, label of the operation).
Equation = tuple[str, Sequence[str], str]

#: The LSTM step of the lecture notes, as (target, operands, operation) triples. A stand-in until
#: the cell spec provides the same triples: f, i, C̃ and o read [h_{t-1}, x_t].
LSTM_EQUATIONS: tuple[Equation, ...] = (
    ("f_t", ("h_{t-1}", "x_t"), "σ(W_f·[h, x] + b_f)"),
    ("i_t", ("h_{t-1}", "x_t"), "σ(W_i·[h, x] + b_i)"),
    ("C̃_t", ("h_{t-1}", "x_t"), "tanh(W_C·[h, x] + b_C)"),
    ("C_t", ("f_t", "C_{t-1}", "i_t", "C̃_t"), "f ⊙ C_{t-1} + i ⊙ C̃"),
    ("o_t", ("h_{t-1}", "x_t"), "σ(W_o·[h, x] + b_o)"),
    ("h_t", ("o_t", "C_t"), "o ⊙ tanh(C)"),
)


def _display_name(name: str) -> str:
    """``h_prev`` → ``h_{t-1}``, ``C_tilde`` → ``C̃_t``, ``x`` → ``x_t``: the lecture's names."""
    if name.endswith("_prev"):
        return f"{name[: -len('_prev')]}_{{t-1}}"
    if name.endswith("_tilde"):
        return f"{name[: -len('_tilde')]}\u0303_t"
    return f"{name}_t"


def _display_expr(text: str) -> str:
    """Spell a SymPy ``sstr`` the way the pages do: σ, ⊙ and short state names."""
    text = text.replace("sigmoid", "σ").replace("*", " ⊙ ")
    text = re.sub(r"\b(\w+)_prev\b", r"\1_{t-1}", text)
    return re.sub(r"\b(\w+)_tilde\b", "\\1\u0303", text)


def equations_from_spec(spec: Any) -> tuple[Equation, ...]:
    """Turn a :class:`lstm_sym.spec.CellSpec` into the triples :func:`cell_diagram_svg` draws.

    A linear map ``a = W @ [u, v] + b`` read only by the activation right after it is merged
    into that node (``f = σ(W_f·[h, x] + b_f)`` reads ``h_{t-1}`` and ``x_t`` directly), so the
    diagram shows the gates, not their pre-activations.

    Parameters
    ----------
    spec
        A cell spec: ``equations`` holding linear maps (``target``, ``weight``, ``bias``,
        ``operands``) and elementwise equations (``target``, ``expr``, optional ``display``).

    Returns
    -------
    tuple of Equation
        ``(target, operands, label)`` with the lecture's names (``h_{t-1}``, ``C̃_t``).
    """
    linear: dict[str, tuple[tuple[str, ...], str]] = {}
    out: list[tuple[str, tuple[str, ...], str]] = []
    reads: dict[str, int] = {}
    for eq in spec.equations:
        for symbol in getattr(eq, "expr", sympy.Integer(0)).free_symbols:
            reads[str(symbol)] = reads.get(str(symbol), 0) + 1
        for name in getattr(eq, "operands", ()):
            reads[name] = reads.get(name, 0) + 1

    def is_parameter(name: str) -> bool:
        try:
            return str(getattr(spec.declaration(name).role, "value", "")) == "param"
        except (AttributeError, KeyError):
            return False

    for eq in spec.equations:
        if hasattr(eq, "operands"):
            args = ", ".join(op.removesuffix("_prev") for op in eq.operands)
            label = f"{eq.weight}·[{args}]" + (f" + {eq.bias}" if eq.bias else "")
            linear[eq.target] = (tuple(eq.operands), label)
            continue
        display = getattr(eq, "display", None)
        expr = display if isinstance(display, sympy.Basic) and display != 0 else eq.expr
        text = sympy.sstr(expr, order="none")
        names = sorted(
            {str(symbol) for symbol in expr.free_symbols if not is_parameter(str(symbol))},
            key=lambda n: (m.start() if (m := re.search(rf"\b{n}\b", text)) else 0, n),
        )
        merge = [n for n in names if n in linear and reads.get(n, 0) == 1]
        operands: list[str] = []
        for name in names:
            if name in merge and len(merge) == 1:
                ops, inner = linear.pop(name)
                text = re.sub(rf"\b{name}\b", inner, text)
                operands += [op for op in ops if op not in operands]
                continue
            if name in linear:
                ops, label = linear.pop(name)
                out.append((name, ops, label))
            if name not in operands:
                operands.append(name)
        out.append((eq.target, tuple(operands), _display_expr(text)))
    return tuple(
        (_display_name(t), tuple(_display_name(o) for o in ops), label) for t, ops, label in out
    )


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


def _layers(equations: Sequence[Equation]) -> tuple[list[list[str]], list[str]]:
    """Place every value in a column: inputs in column 0, each result right of its operands."""
    targets = [target for target, _, _ in equations]
    inputs: list[str] = []
    for _, operands, _ in equations:
        for name in operands:
            if name not in targets and name not in inputs:
                inputs.append(name)
    depth = dict.fromkeys(inputs, 0)
    for target, operands, _ in equations:
        missing = [name for name in operands if name not in depth]
        if missing:
            raise ValueError(f"{target} uses {missing} before they are defined")
        depth[target] = 1 + max(depth[name] for name in operands)
    columns: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for name in [*inputs, *targets]:
        columns[depth[name]].append(name)
    return columns, inputs


def cell_diagram_svg(equations: Any = LSTM_EQUATIONS) -> str:
    """Draw one step of a cell as an SVG data-flow diagram laid out from its equations.

    Parameters
    ----------
    equations
        A cell spec (see :func:`equations_from_spec`), or ``(target, operand names, operation
        label)`` triples in evaluation order, e.g.
        ``("f_t", ("h_{t-1}", "x_t"), "σ(W_f·[h, x] + b_f)")``. Names that are never a target
        are the step's inputs.

    Returns
    -------
    str
        An SVG document: inputs on the left, each result in the first column right of all its
        operands, one arrow per operand, the last two results marked as the step's outputs.

    Raises
    ------
    ValueError
        If an equation uses a name that no earlier equation defines and that is not an input.
    """
    if hasattr(equations, "equations"):
        equations = equations_from_spec(equations)
    columns, inputs = _layers(equations)
    labels = {target: label for target, _, label in equations}
    box_w, box_h, col_gap, row_gap, margin = 170.0, 46.0, 70.0, 22.0, 20.0
    rows = max(len(column) for column in columns)
    out_len = 34.0
    height = margin * 2 + rows * box_h + (rows - 1) * row_gap + 2 * out_len
    width = margin * 2 + len(columns) * box_w + (len(columns) - 1) * col_gap
    pos: dict[str, tuple[float, float]] = {}
    for c, column in enumerate(columns):
        offset = (height - (len(column) * box_h + (len(column) - 1) * row_gap)) / 2
        for r, name in enumerate(column):
            pos[name] = (margin + c * (box_w + col_gap), offset + r * (box_h + row_gap))

    def esc(text: str) -> str:
        """Escape text for SVG and typeset ``x_t`` / ``h_{t-1}`` subscripts as lowered tspans."""
        parts = re.split(r"_(\{[^}]*\}|[A-Za-z0-9])", text)
        pieces = [html.escape(parts[0], quote=True)]
        for sub, rest in zip(parts[1::2], parts[2::2], strict=True):
            pieces.append(
                '<tspan baseline-shift="sub" font-size="75%">'
                f"{html.escape(sub.strip('{}'), quote=True)}</tspan>"
                f"{html.escape(rest, quote=True)}"
            )
        return "".join(pieces)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, sans-serif" '
        'font-size="12" role="img" aria-labelledby="cell-diagram-title">',
        '<title id="cell-diagram-title">Data flow of one cell step</title>',
        "<defs>",
        '<marker id="cell-diagram-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#455a64"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    for target, operands, _ in equations:
        tx, ty = pos[target]
        for k, name in enumerate(operands):
            sx, sy = pos[name]
            spread = (k - (len(operands) - 1) / 2) * 8.0
            out.append(
                f'<path d="M {sx + box_w:.1f} {sy + box_h / 2:.1f} '
                f"C {sx + box_w + col_gap / 2:.1f} {sy + box_h / 2:.1f} "
                f"{tx - col_gap / 2:.1f} {ty + box_h / 2 + spread:.1f} "
                f'{tx:.1f} {ty + box_h / 2 + spread:.1f}" fill="none" stroke="#455a64" '
                'stroke-width="1.2" marker-end="url(#cell-diagram-arrow)"/>'
            )
    outputs = {"C_t", "h_t"} & set(labels) or {equations[-1][0]}
    for name, (x, y) in pos.items():
        is_input = name in inputs
        fill = "#eceff1" if is_input else ("#c5cae9" if name in outputs else "#e8eaf6")
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w:.0f}" height="{box_h:.0f}" rx="6" '
            f'fill="{fill}" stroke="#3949ab" stroke-width="1.2"/>'
        )
        title_y = y + (box_h / 2 + 4 if is_input else 19)
        out.append(
            f'<text x="{x + box_w / 2:.1f}" y="{title_y:.1f}" text-anchor="middle" '
            f'font-weight="bold" fill="#1a237e">{esc(name)}</text>'
        )
        if not is_input:
            out.append(
                f'<text x="{x + box_w / 2:.1f}" y="{y + 36:.1f}" text-anchor="middle" '
                f'fill="#263238">{esc(labels[name])}</text>'
            )
        if name in outputs:
            out.append(
                f'<path d="M {x + box_w / 2:.1f} {y + box_h:.1f} v {out_len:.0f}" '
                'stroke="#3949ab" stroke-width="1.6" marker-end="url(#cell-diagram-arrow)"/>'
            )
            out.append(
                f'<text x="{x + box_w / 2 + 6:.1f}" y="{y + box_h + out_len - 4:.1f}" '
                f'fill="#3949ab" font-style="italic">to step t+1</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def figures() -> dict[str, str]:
    """Every figure of the docs, by file name: the activation plots and one diagram per cell.

    The diagrams are drawn from the built-in cell specs when :mod:`lstm_sym.spec` is
    available, otherwise the LSTM is drawn from :data:`LSTM_EQUATIONS`.
    """
    out = {"activations.svg": activation_plots_svg()}
    try:
        from lstm_sym.spec import builtin_cell_names, load_builtin
    except ImportError:
        out["lstm-cell.svg"] = cell_diagram_svg(LSTM_EQUATIONS)
        return out
    for name in builtin_cell_names():
        out[f"{name}-cell.svg"] = cell_diagram_svg(load_builtin(name))
    return out
