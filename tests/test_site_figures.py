"""The site's figures come from the specs: deterministic, complete, no edge through a box."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

import pytest
from site_support import REPO

from lstm_sym.docs_render import cell_diagram, figures
from lstm_sym.spec import builtin_cell_names, load_builtin

SCRIPT = (
    "import hashlib, sys\n"
    "from lstm_sym.docs_render.figures import activation_plots_svg, cell_diagram_svg\n"
    "from lstm_sym.spec import load_builtin\n"
    "text = activation_plots_svg() + cell_diagram_svg(load_builtin('peephole_lstm'), ('f',))\n"
    "sys.stdout.write(hashlib.sha256(text.encode()).hexdigest())\n"
)

#: Half sizes of the drawn shapes, read from the module's geometry constants.
HALF = {
    "box": (cell_diagram.BOX_W / 2, cell_diagram.BOX_H / 2),
    "op": (cell_diagram.OP_R, cell_diagram.OP_R),
}


def _digest(seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def _crosses(
    a: tuple[float, float], b: tuple[float, float], cx: float, cy: float, hw: float, hh: float
) -> bool:
    """Whether segment a–b meets the open rectangle centred at (cx, cy), by sampling."""
    steps = max(2, int(max(abs(a[0] - b[0]), abs(a[1] - b[1]))))
    for k in range(steps + 1):
        x = a[0] + (b[0] - a[0]) * k / steps
        y = a[1] + (b[1] - a[1]) * k / steps
        if abs(x - cx) < hw - 0.5 and abs(y - cy) < hh - 0.5:
            return True
    return False


def _visible_text(svg: str) -> str:
    return re.sub(r"<[^>]+>", "", svg)


def _expected(name: str) -> str:
    """How a spec name reads once the SVG's subscript markup is stripped (``C_tilde`` → C̃t)."""
    stem = name.removesuffix("_tilde") + ("\u0303" if name.endswith("_tilde") else "")
    return stem.replace("_", "") + ("t" if "_" not in stem else "")


def test_figures_are_byte_identical_across_hash_seeds() -> None:
    """The activation plot and a highlighted diagram are the same bytes under two hash seeds."""
    assert _digest("0") == _digest("12345")


def test_activation_plot_is_svg_without_a_date() -> None:
    """The activation plot is an SVG document that carries no build date."""
    svg = figures.activation_plots_svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg


@pytest.mark.parametrize("cell", builtin_cell_names())
def test_no_edge_passes_through_a_box_or_operator(cell: str) -> None:
    """Every routed edge segment stays outside every box and circle except the two it joins."""
    layout = cell_diagram.layout_cell(load_builtin(cell))
    hits = []
    for edge in layout.edges:
        for a, b in itertools.pairwise(edge.points):
            for key, node in layout.nodes.items():
                if key in {edge.src, edge.dst} or node.kind not in HALF:
                    continue
                if _crosses(a, b, node.x, node.y, *HALF[node.kind]):
                    hits.append(f"{edge.src} → {edge.dst} crosses {key}")
    assert layout.edges and not hits, hits


@pytest.mark.parametrize("cell", builtin_cell_names())
def test_every_value_and_parameter_of_the_spec_is_labelled(cell: str) -> None:
    """Each equation's target and each parameter name appears as text in the cell's diagram."""
    spec = load_builtin(cell)
    linear = {m.target for m in spec.linear_maps}
    text = _visible_text(figures.cell_diagram_svg(spec))
    names = [e.target for e in spec.equations if e.target not in linear]
    missing = [n for n in [*names, *spec.parameter_names] if _expected(n) not in text]
    assert not missing, missing


def test_cell_state_runs_straight_through_the_top() -> None:
    """In the LSTM the cell state enters and leaves on one horizontal line above every box."""
    layout = cell_diagram.layout_cell(load_builtin("lstm"))
    ports = {k: n for k, n in layout.nodes.items() if k in {"in:C_prev", "out:C"}}
    boxes = [n for n in layout.nodes.values() if n.kind == "box"]
    assert len(ports) == 2 and ports["in:C_prev"].y == ports["out:C"].y
    assert all(ports["out:C"].y < box.y for box in boxes)
    ops = sorted(
        n.label for n in layout.nodes.values() if n.kind == "op" and n.y == ports["out:C"].y
    )
    assert ops == ["+", "×"]


def test_gate_pages_highlight_only_their_gate() -> None:
    """The forget-gate copy of the LSTM diagram draws the forget gate in colour, the input gate
    in grey."""
    svg = figures.figures()["lstm-cell-forget.svg"]
    assert cell_diagram.GATE_COLOURS["f"] in svg
    assert cell_diagram.GATE_COLOURS["i"] not in svg


def test_unroutable_spec_value_is_an_error() -> None:
    """A diagram of an equation that reads an undefined name fails with a message naming it."""
    import sympy

    class Eq:
        target = "y"
        expr = sympy.Symbol("nowhere") * 2

    class Spec:
        name, title, equations, linear_maps = "bad", "bad", (Eq(),), ()
        parameter_names, state_names, input_name, output_state = (), ("y",), "x", "y"

    with pytest.raises(ValueError, match="nowhere"):
        cell_diagram.layout_cell(Spec())
