"""Render a derivation as Markdown + LaTeX: the derivation page and per-equation snippets.

Notation follows the lecture (colah's post): ``σ``, ``tanh``, ``⊙`` for elementwise
products, ``[h_{t−1}, x_t]`` for the concatenation, ``\\tilde{C}_t`` for the candidate, and
``δv = ∂L/∂v`` for adjoints. ``W^{(v)}`` is the block of columns of ``W`` acting on ``v``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ..derive.model import Adjoint, Derivation, LinearGroup, local_derivative
from ..derive.reverse import adjoint_symbol, seed_symbol
from ..generated import html_header
from ..plan.linear_rules import BIAS_RULE, OPERAND_RULE, WEIGHT_RULE
from ..spec.model import CellSpec, Elementwise, LinearMap, Role, previous
from ..templating import template_environment
from .latex_printer import LectureLatexPrinter

__all__ = [
    "LatexNames",
    "inline_linear_maps",
    "render_derivation_page",
    "render_snippets",
    "with_time",
]


def with_time(latex: str, index: str) -> str:
    """Attach a time index: ``f`` → ``f_{t}``, ``W_f``-like ``a_{f}`` → ``a_{f,t}``."""
    match = re.fullmatch(r"(.*)_\{([^{}]*)\}", latex) or re.fullmatch(r"(.*)_([A-Za-z0-9])", latex)
    if match:
        return f"{match.group(1)}_{{{match.group(2)},{index}}}"
    return f"{latex}_{{{index}}}"


class _LatexAlgebra:
    """The linear reverse rules in the lecture's LaTeX, for one sequence (no batch).

    A weight is the block of its columns acting on one operand (``{W_f}^{(h)}``, from
    :meth:`LatexNames.block`); its transpose is written into the block's superscript.
    """

    def outer(self, delta: str, operand: str) -> str:
        return rf"{delta} \, {operand}^{{\top}}"

    def transposed_product(self, weight: str, delta: str) -> str:
        if not weight.endswith(")}"):  # pragma: no cover - blocks always end so
            raise ValueError(f"not a weight block: {weight!r}")
        return rf"{weight[:-1]}\top}} {delta}"

    def batch_sum(self, delta: str) -> str:
        return delta


LATEX_ALGEBRA = _LatexAlgebra()


class LatexNames:
    """LaTeX of every symbol a derivation uses, with time indices.

    Parameters
    ----------
    derivation : Derivation
        The derivation whose symbols are named.
    """

    def __init__(self, derivation: Derivation) -> None:
        spec = derivation.spec
        self.spec = spec
        names: dict[sympy.Symbol, str] = {}
        for declaration in spec.declarations:
            symbol = sympy.Symbol(declaration.name, real=True)
            if declaration.role is Role.PARAM:
                names[symbol] = declaration.latex
                names[adjoint_symbol(declaration.name)] = rf"\delta {declaration.latex}"
                continue
            names[symbol] = with_time(declaration.latex, "t")
            names[adjoint_symbol(declaration.name)] = rf"\delta {with_time(declaration.latex, 't')}"
        for state in spec.state_names:
            latex = spec.declaration(state).latex
            names[sympy.Symbol(previous(state), real=True)] = with_time(latex, "t-1")
            names[adjoint_symbol(previous(state))] = rf"\delta {with_time(latex, 't-1')}"
            names[seed_symbol(state)] = rf"\delta {with_time(latex, 't')}^{{\mathrm{{in}}}}"
        self.base = dict(names)
        printer = LectureLatexPrinter(names)
        for name, expr in derivation.auxiliary.items():
            names[sympy.Symbol(name, real=True)] = printer.doprint(expr)
        for operand in derivation.linear_operands:
            terms = [
                OPERAND_RULE.apply(
                    LATEX_ALGEBRA,
                    names[adjoint_symbol(m.target)],
                    self.block(m.weight, operand.operand),
                    "",
                )
                for m in operand.group.maps
            ]
            names[operand.symbol] = r"\left(" + " + ".join(terms) + r"\right)"
        self.symbols = names
        self.printer = LectureLatexPrinter(names)

    def block(self, weight: str, operand: str) -> str:
        """LaTeX of the columns of ``weight`` acting on ``operand`` (``W_f^{(h)}``).

        Its transpose is written by the linear reverse rules (:data:`LATEX_ALGEBRA`).
        """
        latex = self.spec.declaration(weight).latex
        operand_latex = self.spec.declaration(operand).latex
        return f"{{{latex}}}^{{({operand_latex})}}"

    def of(self, name: str) -> str:
        """LaTeX of quantity ``name`` at step t."""
        return self.symbols[sympy.Symbol(name, real=True)]

    def expr(self, expr: sympy.Expr) -> str:
        """LaTeX of an expression."""
        return str(self.printer.doprint(expr))

    def concatenation(self, operands: tuple[str, ...]) -> str:
        """``[h_{t-1}, x_{t}]``; a single operand stands alone (``x_{t}``)."""
        if len(operands) == 1:
            return self.of(operands[0])
        return "[" + ", ".join(self.of(op) for op in operands) + "]"

    def linear(self, linear_map: LinearMap) -> str:
        """Right-hand side of a linear map: ``W_f \\cdot [h_{t-1}, x_t] + b_f``."""
        weight = self.spec.declaration(linear_map.weight).latex
        text = rf"{weight} \cdot {self.concatenation(linear_map.operands)}"
        if linear_map.bias:
            text += f" + {self.spec.declaration(linear_map.bias).latex}"
        return text


def inline_linear_maps(derivation: Derivation, names: LatexNames, equation: Elementwise) -> str:
    r"""LaTeX of an elementwise equation with its linear-map operands written out.

    ``f = σ(a_f)`` with ``a_f = W_f @ [h_prev, x] + b_f`` prints as
    ``f_{t} = \sigma\left(W_f \cdot [h_{t-1}, x_{t}] + b_f\right)``, the lecture's form. A
    written-out map is parenthesised where it is a factor or a base (``r_t ⊙ (W h + b)``) and
    left bare in a sum or as the argument of a function.
    """
    linear = {m.target: m for m in derivation.spec.linear_maps}
    factors: set[str] = set()
    for node in sympy.preorder_traversal(equation.display):
        if isinstance(node, (sympy.Mul, sympy.Pow)):
            factors |= {arg.name for arg in node.args if isinstance(arg, sympy.Symbol)}
    lecture = dict(names.symbols)
    for symbol in equation.expr.free_symbols:
        if symbol.name in linear:
            text = names.linear(linear[symbol.name])
            lecture[symbol] = rf"\left({text}\right)" if symbol.name in factors else text
    printer = LectureLatexPrinter(lecture)
    return f"{names.of(equation.target)} = {printer.doprint(equation.display)}"


@dataclass(frozen=True)
class _Row:
    lhs: str
    rhs: str
    label: str
    note: str = ""


def _label(spec: CellSpec, kind: str, name: str) -> str:
    return f"{spec.name}-{kind}-{name.replace('_', '-')}"


def _forward_rows(derivation: Derivation, names: LatexNames) -> list[_Row]:
    rows = []
    spec = derivation.spec
    for equation in spec.equations:
        doc = _doc(spec, equation.target)
        if isinstance(equation, LinearMap):
            rows.append(
                _Row(
                    names.of(equation.target),
                    names.linear(equation),
                    _label(spec, "fwd", equation.target),
                    doc,
                )
            )
        else:
            rows.append(
                _Row(
                    names.of(equation.target),
                    names.expr(equation.display),
                    _label(spec, "fwd", equation.target),
                    doc,
                )
            )
    return rows


def _doc(spec: CellSpec, name: str) -> str:
    try:
        return spec.declaration(name).doc
    except KeyError:
        return ""


def _loc_label(spec: CellSpec, target: str, argument: str) -> str:
    return _label(spec, "loc", f"{target}-{argument}")


def _split_sum(first: str, terms: list[str]) -> str:
    """``first &= t1 + t2`` with a line break before every further term (phones wrap nothing)."""
    if not terms:
        return f"{first} &= 0"
    lines = [f"{first} &= {terms[0]}"]
    lines += [rf"&\quad + {term}" for term in terms[1:]]
    return " \\\\\n".join(lines)


def _adjoint_row(spec: CellSpec, adjoint: Adjoint, names: LatexNames) -> tuple[_Row, list[str]]:
    """The adjoint as a sum of ``δy ⊙ ∂y/∂v`` terms, then evaluated, with what each term cites."""
    var = names.symbols[sympy.Symbol(adjoint.name, real=True)]
    chain: list[str] = []
    via = []
    if adjoint.seed is not None:
        chain.append(names.symbols[adjoint.seed])
        # Only the output state is read by the loss; every other state only by step t+1.
        sources = (
            "the loss at $t$ and step $t+1$"
            if adjoint.name == spec.output_state
            else ("step $t+1$ only: no loss reads it")
        )
        via.append(rf"${names.symbols[adjoint.seed]}$: from outside the step ({sources})")
    linear_only = True
    for term in adjoint.terms:
        if term.linear is not None:
            operand = term.linear.operand
            for m in term.linear.group.maps:
                delta = rf"\delta {names.of(m.target)}"
                block = names.block(m.weight, operand)
                chain.append(OPERAND_RULE.apply(LATEX_ALGEBRA, delta, block, ""))
            source = ", ".join(names.of(m.target) for m in term.linear.group.maps)
            ref = _label(spec, "lin", "z")
            via.append(
                rf"back through the linear maps of ${source}$: "
                rf"$\partial a / \partial {var} = W^{{({spec.declaration(operand).latex})}}$, "
                rf"transposed, eq. $\eqref{{{ref}}}$"
            )
            continue
        linear_only = False
        source = names.of(term.source)
        chain.append(rf"\delta {source} \odot \frac{{\partial {source}}}{{\partial {var}}}")
        ref = _label(spec, "fwd", term.source)
        loc = _loc_label(spec, term.source, adjoint.name)
        via.append(rf"from ${source}$, eq. $\eqref{{{ref}}}$, local derivative $\eqref{{{loc}}}$")
    lhs = names.symbols[adjoint.symbol]
    body = _split_sum(lhs, chain)
    if not linear_only:
        parts = [names.symbols[adjoint.seed]] if adjoint.seed is not None else []
        parts += [names.expr(term.expr) for term in adjoint.terms]
        body += " \\\\\n" + _split_sum("", parts)
    label = _label(spec, "adj", adjoint.name)
    return _Row(lhs, body, label), via


def _local_derivatives(
    equation: Elementwise, derivation: Derivation, names: LatexNames
) -> list[_Row]:
    rows = []
    for argument in sorted(equation.expr.free_symbols, key=lambda s: s.name):
        local = local_derivative(equation.expr, argument, derivation.cached_forms)
        lhs = (
            rf"\frac{{\partial {names.of(equation.target)}}}{{\partial {names.symbols[argument]}}}"
        )
        label = _loc_label(derivation.spec, equation.target, argument.name)
        rows.append(_Row(lhs, names.expr(local), label))
    return rows


def _backward_sections(derivation: Derivation, names: LatexNames) -> list[tuple[_Row, list[str]]]:
    spec = derivation.spec
    sections = []
    for stage in reversed(derivation.stages):
        if isinstance(stage, LinearGroup):
            for linear_map in stage.maps:
                sections.append(_adjoint_row(spec, derivation.adjoint(linear_map.target), names))
            continue
        if stage.equation is not None:
            sections.append(_adjoint_row(spec, derivation.adjoint(stage.target), names))
    for adjoint in derivation.previous_state_adjoints:
        sections.append(_adjoint_row(spec, adjoint, names))
    return sections


def _parameter_rows(derivation: Derivation, names: LatexNames) -> list[_Row]:
    spec = derivation.spec
    rows = []
    for group in derivation.groups:
        for m in group.maps:
            delta = names.of(m.target).join([r"\delta ", ""])
            concat = names.concatenation(group.operands)
            weight = spec.declaration(m.weight).latex
            rows.append(
                _Row(
                    rf"\delta {weight}",
                    r"\sum_{t=1}^{T} " + WEIGHT_RULE.apply(LATEX_ALGEBRA, delta, "", concat),
                    _label(spec, "grad", m.weight),
                )
            )
            if m.bias:
                bias = spec.declaration(m.bias).latex
                rows.append(
                    _Row(
                        rf"\delta {bias}",
                        r"\sum_{t=1}^{T} " + BIAS_RULE.apply(LATEX_ALGEBRA, delta, "", ""),
                        _label(spec, "grad", m.bias),
                    )
                )
    for adjoint in derivation.parameter_adjoints:
        latex = spec.declaration(adjoint.name).latex
        rows.append(
            _Row(
                rf"\delta {latex}",
                rf"\sum_{{t=1}}^{{T}} \left({names.expr(adjoint.expr)}\right)",
                _label(spec, "grad", adjoint.name),
            )
        )
    x = spec.input_name
    terms = []
    for group in derivation.groups:
        if x in group.operands:
            terms += [
                OPERAND_RULE.apply(
                    LATEX_ALGEBRA, rf"\delta {names.of(m.target)}", names.block(m.weight, x), ""
                )
                for m in group.maps
            ]
    # One term per line: four W^T δa products do not fit a phone's width.
    rhs = " \\notag \\\\\n&\\quad + ".join(terms)
    rows.append(_Row(rf"\delta {names.of(x)}", rhs, _label(spec, "grad", x)))
    return rows


def _symbol_rows(derivation: Derivation, names: LatexNames) -> list[tuple[str, str, str, str, str]]:
    spec = derivation.spec
    rows = []
    for declaration in spec.declarations:
        if declaration.role is Role.PARAM:
            dims = spec.parameter_shape(declaration.name)
            shape = f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"
            latex = declaration.latex
        elif declaration.role is Role.INPUT:
            shape, latex = "(D,)", names.of(declaration.name)
        else:
            shape, latex = "(H,)", names.of(declaration.name)
        role = {Role.VALUE: "value"}.get(declaration.role, declaration.role.value)
        rows.append(
            (
                f"${latex}$",
                f"`{declaration.name}`",
                shape,
                role + (" (output)" if declaration.output else ""),
                declaration.doc,
            )
        )
    return rows


def render_derivation_page(derivation: Derivation, source: str, command: str) -> str:
    """Render ``docs/derivations/<cell>.md``: forward, local derivatives, BPTT.

    Parameters
    ----------
    derivation : Derivation
        The cell's derivation.
    source, command : str
        Spec file and command named in the generated-file header.
    """
    names = LatexNames(derivation)
    spec = derivation.spec
    local = []
    for equation in spec.equations:
        if isinstance(equation, Elementwise):
            local.append(
                (
                    names.of(equation.target),
                    _label(spec, "fwd", equation.target),
                    _local_derivatives(equation, derivation, names),
                )
            )
    output = spec.output_state
    template = template_environment(__package__).get_template("derivation.md.jinja")
    group = derivation.groups[0]
    first = group.maps[0]
    z = names.concatenation(group.operands)
    blocks = " + ".join(rf"{names.block(first.weight, op)} {names.of(op)}" for op in group.operands)
    paths = []
    for adjoint in derivation.previous_state_adjoints:
        state = adjoint.name.removesuffix("_prev")
        own = [t for t in adjoint.terms if t.linear is None and t.source == state]
        factor = None
        if own:
            equation = next(
                e for e in spec.equations if isinstance(e, Elementwise) and e.target == state
            )
            slope = local_derivative(
                equation.expr, sympy.Symbol(adjoint.name, real=True), derivation.cached_forms
            )
            factor = names.expr(slope)
        paths.append(
            (
                with_time(spec.declaration(state).latex, "t"),
                with_time(spec.declaration(state).latex, "t-1"),
                factor,
                _label(spec, "adj", adjoint.name),
            )
        )
    return template.render(
        spec=spec,
        source=source,
        command=command,
        header=html_header(source, command),
        forward=_forward_rows(derivation, names),
        local=local,
        backward=_backward_sections(derivation, names),
        parameters=_parameter_rows(derivation, names),
        symbols=_symbol_rows(derivation, names),
        auxiliary=[(names.of(n), names.expr(e)) for n, e in derivation.auxiliary.items()],
        states=[
            (
                s,
                names.symbols[seed_symbol(s)],
                with_time(spec.declaration(s).latex, "t"),
                with_time(spec.declaration(s).latex, "T"),
                with_time(spec.declaration(s).latex, "0"),
                s == output,
            )
            for s in spec.state_names
        ],
        input_latex=names.of(spec.input_name),
        label=lambda kind, name: _label(spec, kind, name),
        output_latex=names.of(output),
        linear_example=(
            names.of(first.target),
            spec.declaration(first.weight).latex,
            spec.declaration(first.bias).latex if first.bias else "",
            z,
            blocks,
        ),
        state_paths=paths,
        example=spec.name == "lstm" and source == "lstm_sym/spec/cells/lstm.cell",
        builtin=source.startswith("lstm_sym/spec/cells/"),
    )


def render_snippets(derivation: Derivation, source: str, command: str) -> dict[str, str]:
    """Render per-equation snippets for the teaching pages.

    Returns
    -------
    dict of str to str
        File name (``forward-f.md``, ``local-f.md``, ``symbols.md``) to content.
    """
    names = LatexNames(derivation)
    spec = derivation.spec
    header = html_header(source, command)
    snippets: dict[str, str] = {}
    for equation in spec.equations:
        if not isinstance(equation, Elementwise):
            continue
        body = inline_linear_maps(derivation, names, equation)
        snippets[f"forward-{equation.target}.md"] = f"{header}\n$$\n{body}\n$$\n"
        rows = _local_derivatives(equation, derivation, names)
        lines = " \\\\\n".join(f"{row.lhs} &= {row.rhs}" for row in rows)
        snippets[f"local-{equation.target}.md"] = (
            f"{header}\n$$\n\\begin{{aligned}}\n{lines}\n\\end{{aligned}}\n$$\n"
        )
    table = ["| symbol | name in code | shape | role | meaning |", "|---|---|---|---|---|"]
    for latex, code, shape, role, doc in _symbol_rows(derivation, names):
        table.append(f"| {latex} | {code} | {shape} | {role} | {doc} |")
    snippets["symbols.md"] = header + "\n" + "\n".join(table) + "\n"
    return snippets
