"""The figures of the site are drawn from symbolic expressions and equations, deterministically."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from site_support import REPO

from lstm_sym.render import figures

SCRIPT = (
    "import hashlib, sys\n"
    "from lstm_sym.render.figures import activation_plots_svg, cell_diagram_svg\n"
    "text = activation_plots_svg() + cell_diagram_svg()\n"
    "sys.stdout.write(hashlib.sha256(text.encode()).hexdigest())\n"
)


def _digest(seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_figures_are_byte_identical_across_hash_seeds() -> None:
    """Both figures come out byte for byte the same under two different PYTHONHASHSEEDs."""
    assert _digest("0") == _digest("12345")


def test_activation_plot_is_svg_without_a_date() -> None:
    """The activation plot is an SVG document that carries no build date."""
    svg = figures.activation_plots_svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg


def test_cell_diagram_has_a_box_per_value() -> None:
    """The diagram draws one labelled box for every input and every equation's target."""
    svg = figures.cell_diagram_svg()
    assert svg.count("<rect") == 1 + 3 + len(figures.LSTM_EQUATIONS)  # background, inputs, values
    for label in ("σ(W", "tanh(W", "o ⊙ tanh(C)"):
        assert label in svg


def test_cell_diagram_rejects_an_undefined_operand() -> None:
    """An equation that reads a name no earlier equation defines is an error, not a bad figure."""
    with pytest.raises(ValueError, match="before they are defined"):
        figures.cell_diagram_svg([("y", ("x",), "y = x"), ("z", ("w", "y"), "z")][::-1])


def test_lstm_diagram_from_the_spec_matches_the_lecture_equations() -> None:
    """Reading the LSTM spec yields exactly the lecture's six equations, pre-activations merged."""
    from lstm_sym.spec import load_builtin

    assert figures.equations_from_spec(load_builtin("lstm")) == figures.LSTM_EQUATIONS


def test_spec_parameters_are_not_drawn_as_inputs() -> None:
    """Peephole weights (parameters inside an elementwise equation) do not become diagram nodes."""
    from lstm_sym.spec import builtin_cell_names, load_builtin

    for name in builtin_cell_names():
        spec = load_builtin(name)
        drawn = {t for t, _, _ in figures.equations_from_spec(spec)} | {
            o for _, ops, _ in figures.equations_from_spec(spec) for o in ops
        }
        params = set(spec.parameter_names)
        assert not {d.split("_t")[0] for d in drawn} & params, name
