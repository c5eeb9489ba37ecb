"""Render one unit of every built-in cell as JavaScript for the cell explorer page.

For ``H = 1`` and ``D = 1`` every quantity of a step is a number: the derivation's forward
stages and adjoint equations print unchanged with SymPy's JavaScript printer, and each linear
map ``a = W @ [v_1, …, v_k] + b`` becomes a dot product over the operand columns, with the
reverse rules of :mod:`lstm_sym.plan.linear_rules` (``δW += δa·vᵀ``, ``δb += Σ δa``,
``δv += Wᵀ·δa``) applied to numbers.

Hygiene: every printed identifier is either the generated code's own (``v``, ``d``, ``seed``,
``lin``, ``grad``, ``sigmoid``) or a property of one of those objects named by the spec
(``v.a_f``, ``d.C``); the objects are created with ``Object.create(null)``, so a spec name can
shadow nothing. Spec text that is not a validated name (title, summary, docs, LaTeX) enters the
file only JSON-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from ...derive.model import Derivation, ForwardValue, LinearGroup, local_derivative
from ...derive.reverse import seed_symbol
from ...generated import header
from ...plan.kernel_plan import KernelPlan, build_plan
from ...plan.linear_rules import BIAS_RULE, OPERAND_RULE, WEIGHT_RULE
from ...spec.functions import sigmoid
from ...spec.model import LinearMap, previous
from ...templating import template_environment

__all__ = ["EXPLORER_SCRIPT", "ExplorerPrinter", "explorer_files", "render_explorer_script"]

#: Path of the generated script, relative to the repository root.
EXPLORER_SCRIPT = "docs/javascripts/explorer-cells.js"


class ExplorerPrinter(JavascriptCodePrinter):  # type: ignore[misc]
    """JavaScript printer whose symbols are looked up in a fixed table, and σ as ``sigmoid``.

    Parameters
    ----------
    symbols : Mapping of sympy.Symbol to str
        JavaScript for every symbol the printed expressions may contain; any other symbol
        raises ``KeyError`` (nothing unvetted reaches the output).
    """

    def __init__(self, symbols: Mapping[sympy.Symbol, str]) -> None:
        super().__init__({"strict": True})
        self.symbol_table: dict[sympy.Symbol, str] = dict(symbols)

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        try:
            return self.symbol_table[expr]
        except KeyError:
            raise KeyError(f"no JavaScript name for symbol {expr.name!r}") from None

    def _print_sigmoid(self, expr: sympy.Expr) -> str:
        return f"sigmoid({self._print(expr.args[0])})"


class _JavascriptAlgebra:
    """The linear reverse rules for one unit (``H = D = 1``): every quantity is a number."""

    def outer(self, delta: str, operand: str) -> str:
        return f"{delta} * {operand}"

    def transposed_product(self, weight: str, delta: str) -> str:
        return f"{weight} * {delta}"

    def batch_sum(self, delta: str) -> str:
        return delta


_ALGEBRA = _JavascriptAlgebra()


def _symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def _placeholder_key(operand: str, group: LinearGroup) -> str:
    return f"{operand}__stack{group.index}"


def _symbol_table(derivation: Derivation) -> dict[sympy.Symbol, str]:
    """JavaScript of every symbol a step's expressions use: ``v.<name>``, ``d.<name>``, …"""
    spec = derivation.spec
    forward_names = [d.name for d in spec.declarations]
    forward_names += [previous(s) for s in spec.state_names]
    forward_names += list(derivation.auxiliary)
    table = {_symbol(name): f"v.{name}" for name in forward_names}
    adjoints = (
        *derivation.adjoints,
        *derivation.parameter_adjoints,
        *derivation.previous_state_adjoints,
    )
    for adjoint in adjoints:
        table[adjoint.symbol] = f"d.{adjoint.name}"
    for state in spec.state_names:
        table[seed_symbol(state)] = f"seed.{state}"
    for operand in derivation.linear_operands:
        table[operand.symbol] = f"lin.{_placeholder_key(operand.operand, operand.group)}"
    return table


@dataclass(frozen=True)
class _Stage:
    """One forward statement group: its targets, what it reads, and its JavaScript lines."""

    kind: str
    targets: tuple[str, ...]
    reads: tuple[str, ...]
    lines: tuple[str, ...]


def _dot(weight: str, operands: Sequence[str], bias: str | None) -> str:
    terms = [f"v.{weight}[0][{k}] * v.{operand}" for k, operand in enumerate(operands)]
    if bias:
        terms.append(f"v.{bias}[0]")
    return " + ".join(terms)


def _forward_stages(plan: KernelPlan, printer: ExplorerPrinter) -> list[_Stage]:
    stages = []
    for stage in plan.stages:
        if isinstance(stage, LinearGroup):
            lines = [f"v.{m.target} = {_dot(m.weight, m.operands, m.bias)};" for m in stage.maps]
            reads = list(stage.operands)
            for m in stage.maps:
                reads += [m.weight] + ([m.bias] if m.bias else [])
            targets = tuple(m.target for m in stage.maps)
            stages.append(_Stage("linear", targets, tuple(reads), tuple(lines)))
            continue
        assert isinstance(stage, ForwardValue)
        kind = "auxiliary" if stage.equation is None else "value"
        if stage.target in plan.spec.state_names:
            kind = "state"
        arguments = tuple(sorted(s.name for s in stage.expr.free_symbols))
        line = f"v.{stage.target} = {printer.doprint(stage.expr)};"
        stages.append(_Stage(kind, (stage.target,), arguments, (line,)))
    return stages


def _backward_lines(derivation: Derivation, printer: ExplorerPrinter) -> list[str]:
    """Adjoint statements in backward order, each group's ``Wᵀ δa`` once its ``δa`` are known."""
    lines: list[str] = []
    pending = {g.index: {m.target for m in g.maps} for g in derivation.groups}
    operands_of = {
        g.index: [o for o in derivation.linear_operands if o.group is g] for g in derivation.groups
    }
    group_of = {m.target: g for g in derivation.groups for m in g.maps}
    for adjoint in derivation.adjoints:
        lines.append(f"d.{adjoint.name} = {printer.doprint(adjoint.expr)};")
        group = group_of.get(adjoint.name)
        if group is None:
            continue
        pending[group.index].discard(adjoint.name)
        if pending[group.index]:
            continue
        for operand in operands_of[group.index]:
            column = group.operands.index(operand.operand)
            terms = [
                OPERAND_RULE.apply(
                    _ALGEBRA, f"d.{m.target}", f"v.{m.weight}[0][{column}]", f"v.{operand.operand}"
                )
                for m in group.maps
            ]
            key = _placeholder_key(operand.operand, group)
            lines.append(f"lin.{key} = {' + '.join(terms)};")
    for adjoint in (*derivation.parameter_adjoints, *derivation.previous_state_adjoints):
        lines.append(f"d.{adjoint.name} = {printer.doprint(adjoint.expr)};")
    return lines


def _gradient_lines(derivation: Derivation) -> list[str]:
    """``grad.<param>`` in the kernel's shapes, ``grad.<input>`` and ``grad.<state>_prev``."""
    spec = derivation.spec
    elementwise = {a.name for a in derivation.parameter_adjoints}
    weight_columns: dict[str, list[list[str]]] = {}
    bias_terms: dict[str, list[str]] = {}
    for linear_map in spec.linear_maps:
        columns = weight_columns.setdefault(linear_map.weight, [[] for _ in linear_map.operands])
        delta = f"d.{linear_map.target}"
        for k, operand in enumerate(linear_map.operands):
            weight = f"v.{linear_map.weight}[0][{k}]"
            columns[k].append(WEIGHT_RULE.apply(_ALGEBRA, delta, weight, f"v.{operand}"))
        if linear_map.bias:
            bias = BIAS_RULE.apply(_ALGEBRA, delta, "", "")
            bias_terms.setdefault(linear_map.bias, []).append(bias)
    for name in elementwise:
        bias_terms.setdefault(name, []).append(f"d.{name}")
    lines = []
    for name in spec.parameter_names:
        if name in weight_columns:
            row = ", ".join(" + ".join(terms) for terms in weight_columns[name])
            lines.append(f"grad.{name} = [[{row}]];")
        elif name in bias_terms:
            lines.append(f"grad.{name} = [{' + '.join(bias_terms[name])}];")
        else:  # pragma: no cover - the parser rejects unused parameters
            lines.append(f"grad.{name} = [0];")
    into_input = [
        f"lin.{_placeholder_key(o.operand, o.group)}"
        for o in derivation.linear_operands
        if o.operand == spec.input_name
    ]
    lines.append(f"grad.{spec.input_name} = {' + '.join(into_input) or '0'};")
    for state in spec.state_names:
        lines.append(f"grad.{previous(state)} = d.{previous(state)};")
    return lines


def _local_derivatives(derivation: Derivation, printer: ExplorerPrinter) -> list[dict[str, str]]:
    """``∂y/∂v`` of every elementwise equation and argument, and of every linear map."""
    found = []
    for stage in derivation.stages:
        if isinstance(stage, LinearGroup):
            for linear_map in stage.maps:
                for k, operand in enumerate(linear_map.operands):
                    found.append(
                        _local(linear_map.target, operand, f"v.{linear_map.weight}[0][{k}]")
                    )
            continue
        if stage.equation is None:
            continue
        expr = stage.equation.expr
        for argument in sorted(expr.free_symbols, key=lambda s: s.name):
            local = local_derivative(expr, argument, derivation.cached_forms)
            found.append(_local(stage.target, argument.name, printer.doprint(local)))
    return found


def _local(of: str, wrt: str, code: str) -> dict[str, str]:
    return {"of": json.dumps(of), "wrt": json.dumps(wrt), "code": code}


def _shapes(derivation: Derivation) -> dict[str, list[int]]:
    spec = derivation.spec
    shapes: dict[str, list[int]] = {}
    weights = {m.weight: len(m.operands) for m in spec.linear_maps}
    for name in spec.parameter_names:
        shapes[name] = [1, weights[name]] if name in weights else [1]
    return shapes


def _linear_maps(maps: Sequence[LinearMap]) -> list[dict[str, object]]:
    return [
        {"target": m.target, "weight": m.weight, "bias": m.bias, "operands": list(m.operands)}
        for m in maps
    ]


def _cell_context(plan: KernelPlan, source: str) -> dict[str, object]:
    derivation = plan.derivation
    spec = plan.spec
    printer = ExplorerPrinter(_symbol_table(derivation))
    stages = _forward_stages(plan, printer)
    roles = {d.name: str(d.role) for d in spec.declarations}
    docs = {d.name: d.doc for d in spec.declarations}
    for name, expr in derivation.auxiliary.items():
        roles[name] = "auxiliary"
        docs[name] = f"cached value {expr}"
    meta = {
        "name": spec.name,
        "title": spec.title,
        "summary": spec.summary,
        "input": spec.input_name,
        "states": list(spec.state_names),
        "output": spec.output_state,
        "parameters": _shapes(derivation),
        "linearMaps": _linear_maps(spec.linear_maps),
        "roles": roles,
        "docs": docs,
        "values": [t for s in stages for t in s.targets],
        "gates": [
            s.target
            for s in derivation.stages
            if isinstance(s, ForwardValue) and isinstance(s.expr, sigmoid)
        ],
    }
    return {
        "source": _comment_text(source),
        "key": json.dumps(spec.name),
        "meta": {key: json.dumps(value, ensure_ascii=True) for key, value in meta.items()},
        "stages": [
            {
                "kind": json.dumps(s.kind),
                "targets": json.dumps(list(s.targets)),
                "reads": json.dumps(list(s.reads)),
                "lines": s.lines,
            }
            for s in stages
        ],
        "backward": _backward_lines(derivation, printer),
        "gradients": _gradient_lines(derivation),
        "locals": _local_derivatives(derivation, printer),
    }


def _comment_text(text: str) -> str:
    """``text`` safe inside a ``//`` comment: one line, ASCII (JSON escapes, no quotes)."""
    return json.dumps(text, ensure_ascii=True)[1:-1]


def render_explorer_script(
    plans: Sequence[KernelPlan | Derivation], sources: Sequence[str], command: str
) -> str:
    """Render the explorer's arithmetic for the given cells as one JavaScript file.

    Parameters
    ----------
    plans : sequence of KernelPlan or Derivation
        The cells (planned here from a derivation), in the order the page's cell picker lists them.
    sources : sequence of str
        The spec path of each cell, as named in the generated comments.
    command : str
        The command named in the header.

    Returns
    -------
    str
        A script registering ``window.lstmSymCells[<cell>]`` for every cell: metadata, the
        forward stages, ``backward(v, seed)`` and the local derivatives, for ``H = D = 1``.
    """
    planned = [build_plan(p) if isinstance(p, Derivation) else p for p in plans]
    cells = [_cell_context(p, s) for p, s in zip(planned, sources, strict=True)]
    shown = _comment_text(command)
    for cell in cells:
        cell["header"] = header(str(cell["source"]), shown)
    template = template_environment(__package__).get_template("explorer-cells.js.jinja")
    return template.render(cells=cells, header=header(_comment_text(", ".join(sources)), shown))


def explorer_files(plans: Sequence[KernelPlan], command: str) -> dict[str, str]:
    """The explorer's script for the built-in cells (specs in ``lstm_sym/spec/cells/``)."""
    sources = [f"lstm_sym/spec/cells/{p.spec.source.name}" for p in plans]
    return {EXPLORER_SCRIPT: render_explorer_script(plans, sources, command)}
