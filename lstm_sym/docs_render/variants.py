"""Render the *Variants* page (``docs/variants.md``): every built-in cell side by side.

Everything on the page comes from the specs and their derivations: the one-line comparison
with the lecture's LSTM (the spec's ``compare`` header), the states, the parameters with
their shapes and counts for given ``D`` and ``H``, and the forward equations of one step in
the lecture's notation (linear maps written out inside the gates, as in
:func:`~lstm_sym.docs_render.latex.inline_linear_maps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..derive.model import Derivation
from ..generated import html_header
from ..spec.model import CellSpec, Elementwise
from ..templating import template_environment
from .latex import LatexNames, inline_linear_maps

__all__ = ["REFERENCE_CELL", "VARIANTS_PAGE", "render_variants_page"]

#: Path of the page, relative to the repository root.
VARIANTS_PAGE = "docs/variants.md"
#: The cell every other is compared with.
REFERENCE_CELL = "lstm"
#: Sizes the parameter counts are given for.
_INPUT_SIZE, _HIDDEN_SIZE = 32, 64


@dataclass(frozen=True)
class _Cell:
    name: str
    title: str
    summary: str
    compare: str
    states: str
    count: int
    delta: str
    parameters: list[tuple[str, str, str, str]]
    equations: list[str]


def _forward_equations(derivation: Derivation) -> list[str]:
    """LaTeX lines of one forward step; linear maps feeding a function are written inline."""
    spec = derivation.spec
    names = LatexNames(derivation)
    inlined: set[str] = set()
    consumers: dict[str, list[Elementwise]] = {}
    for equation in spec.equations:
        if isinstance(equation, Elementwise):
            for symbol in equation.expr.free_symbols:
                consumers.setdefault(symbol.name, []).append(equation)
    for linear_map in spec.linear_maps:
        readers = consumers.get(linear_map.target, [])
        # A pre-activation read once, inside a function (σ, tanh): print it inside the gate.
        if (
            linear_map.target not in spec.state_names
            and len(readers) == 1
            and readers[0].expr.is_Function
        ):
            inlined.add(linear_map.target)
    lines = []
    for equation in spec.equations:
        if equation.target in inlined:
            continue
        if isinstance(equation, Elementwise):
            line = _inline_only(derivation, names, equation, inlined)
        else:
            line = f"{names.of(equation.target)} = {names.linear(equation)}"
        lines.append(line.replace(" = ", " &= ", 1))
    return lines


def _inline_only(
    derivation: Derivation, names: LatexNames, equation: Elementwise, inlined: set[str]
) -> str:
    """:func:`inline_linear_maps`, restricted to the maps chosen for inlining."""
    if not any(symbol.name in inlined for symbol in equation.expr.free_symbols):
        return f"{names.of(equation.target)} = {names.expr(equation.display)}"
    return inline_linear_maps(derivation, names, equation)


def _parameter_rows(spec: CellSpec) -> list[tuple[str, str, str, str]]:
    rows = []
    for name in spec.parameter_names:
        shape = spec.parameter_shape(name)
        text = f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(shape) + ")"
        declaration = spec.declaration(name)
        rows.append((declaration.latex, name, text, declaration.doc))
    return rows


def _delta(count: int, reference: int) -> str:
    if count == reference:
        return "±0 %"
    sign = "+" if count > reference else "−"
    return f"{sign}{abs(count - reference) / reference:.0%}".replace("%", " %")


def render_variants_page(
    derivations: Sequence[Derivation],
    command: str,
    *,
    source: str = "lstm_sym/spec/cells/",
    input_size: int = _INPUT_SIZE,
    hidden_size: int = _HIDDEN_SIZE,
) -> str:
    """Render the page comparing ``derivations``' cells (the first named ``lstm`` is the base).

    Parameters
    ----------
    derivations : sequence of Derivation
        One per cell, in the order the page lists them.
    command : str
        The command named in the generated-file header.
    source : str
        The spec folder named in the header.
    input_size, hidden_size : int
        ``D`` and ``H`` of the parameter counts.

    Returns
    -------
    str
        Markdown with LaTeX, ending in a newline.

    Raises
    ------
    ValueError
        If the lecture's ``lstm`` is not among the cells.
    """
    by_name = {d.spec.name: d for d in derivations}
    if REFERENCE_CELL not in by_name:
        raise ValueError(f"the variants page compares with {REFERENCE_CELL!r}, which is missing")
    reference = by_name[REFERENCE_CELL].spec.parameter_count(input_size, hidden_size)
    cells = []
    for derivation in derivations:
        spec = derivation.spec
        count = spec.parameter_count(input_size, hidden_size)
        names = LatexNames(derivation)
        states = ", ".join(f"${names.of(s)}$" for s in spec.state_names)
        cells.append(
            _Cell(
                name=spec.name,
                title=spec.title,
                summary=spec.summary,
                compare=spec.compare
                or ("The reference." if spec.name == REFERENCE_CELL else "See its derivation."),
                states=states,
                count=count,
                delta=_delta(count, reference),
                parameters=_parameter_rows(spec),
                equations=_forward_equations(derivation),
            )
        )
    template = template_environment(__package__).get_template("variants.md.jinja")
    return template.render(
        source=source,
        command=command,
        header=html_header(source, command),
        cells=cells,
        reference=REFERENCE_CELL,
        reference_count=reference,
        D=input_size,
        H=hidden_size,
    )
