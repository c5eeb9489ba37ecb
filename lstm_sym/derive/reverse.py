"""Symbolic reverse mode for one step of a cell, unit by unit.

Pre-activations, gates and states are scalar SymPy symbols standing for one unit; the local
derivatives come from :func:`sympy.diff` and broadcast over arrays unchanged. The only
coupling between units is a cell's linear maps ``a = W·[v_1, …, v_k] + b``, whose reverse
rules are fixed by structure (``δW += δa·vᵀ``, ``δb += Σ δa``, ``δv += Wᵀ·δa``), so they enter
the derivation as one placeholder per (stacked group, operand).

Every derivative is rewritten through values the forward pass caches: ``σ(a_f)`` becomes
``f`` and a function application inside a larger expression (``tanh(C)`` in
``h = o·tanh(C)``) becomes an auxiliary cached value.
"""

from __future__ import annotations

from collections import defaultdict

import sympy

from ..spec.functions import ALLOWED_FUNCTIONS
from ..spec.model import CellSpec, Elementwise, LinearMap, previous
from .limits import DerivationLimitError
from .model import (
    Adjoint,
    AdjointTerm,
    Derivation,
    ForwardValue,
    LinearGroup,
    LinearOperandAdjoint,
    Stage,
    combine_exponentials,
    local_derivative,
)

__all__ = ["adjoint_symbol", "derive", "seed_symbol"]

_FUNCTION_TYPES = tuple(ALLOWED_FUNCTIONS.values())


def symbol(name: str) -> sympy.Symbol:
    """Return the SymPy symbol the spec parser uses for quantity ``name``."""
    return sympy.Symbol(name, real=True)


def adjoint_symbol(name: str) -> sympy.Symbol:
    """Return the symbol of ``δname`` (``d_<name>``)."""
    return sympy.Symbol(f"d_{name}", real=True)


def seed_symbol(state: str) -> sympy.Symbol:
    """Return the symbol of the gradient arriving at a state's new value from outside the step."""
    return sympy.Symbol(f"d_{state}_in", real=True)


def _is_application(expr: sympy.Expr) -> bool:
    return isinstance(expr, _FUNCTION_TYPES)


def _sorted_symbols(expr: sympy.Expr) -> list[sympy.Symbol]:
    return sorted(expr.free_symbols, key=lambda s: s.name)


def _linear_groups(spec: CellSpec) -> dict[tuple[str, ...], LinearGroup]:
    members: dict[tuple[str, ...], list[LinearMap]] = {}
    for equation in spec.linear_maps:
        members.setdefault(equation.operands, []).append(equation)
    return {
        operands: LinearGroup(index, tuple(maps), operands)
        for index, (operands, maps) in enumerate(members.items())
    }


def _auxiliary_name(application: sympy.Expr, taken: set[str]) -> str:
    argument = application.args[0]
    stem = f"{type(application).__name__}_{argument.name if argument.is_Symbol else 'arg'}"
    name, counter = stem, 2
    while name in taken:
        name, counter = f"{stem}{counter}", counter + 1
    taken.add(name)
    return name


def forward_stages(
    spec: CellSpec,
) -> tuple[tuple[Stage, ...], dict[str, sympy.Expr], dict[sympy.Expr, sympy.Symbol]]:
    """Order the forward pass and name the cached values.

    Returns
    -------
    stages : tuple of Stage
        Forward pass; a linear group runs where its first member is written.
    auxiliary : dict of str to sympy.Expr
        Auxiliary values introduced for function applications inside larger expressions.
    cache_map : dict of sympy.Expr to sympy.Symbol
        Every function application of the step mapped to the symbol holding its value.
    """
    groups = _linear_groups(spec)
    emitted: set[int] = set()
    stages: list[Stage] = []
    auxiliary: dict[str, sympy.Expr] = {}
    cache_map: dict[sympy.Expr, sympy.Symbol] = {}
    taken = {d.name for d in spec.declarations} | {previous(s) for s in spec.state_names}
    for equation in spec.equations:
        if isinstance(equation, LinearMap):
            group = groups[equation.operands]
            if group.index not in emitted:
                emitted.add(group.index)
                stages.append(group)
            continue
        expr = combine_exponentials(equation.expr)
        for application in sympy.postorder_traversal(expr):
            if not _is_application(application) or application in cache_map:
                continue
            if application == expr:
                continue
            name = _auxiliary_name(application, taken)
            computed = application.func(*(a.xreplace(cache_map) for a in application.args))
            auxiliary[name] = application
            stages.append(ForwardValue(name, computed, None))
            cache_map[application] = symbol(name)
        if _is_application(expr):
            computed = expr.func(*(a.xreplace(cache_map) for a in expr.args))
            cache_map.setdefault(expr, symbol(equation.target))
        else:
            computed = expr.xreplace(cache_map)
        stages.append(ForwardValue(equation.target, computed, equation))
    return tuple(stages), auxiliary, cache_map


def derive(spec: CellSpec) -> Derivation:
    """Derive the forward stages and every adjoint equation of one step of ``spec``.

    Parameters
    ----------
    spec : CellSpec
        The cell to differentiate.

    Returns
    -------
    Derivation
        Adjoints of every value, of the vector parameters used elementwise and of the
        previous states, expressed through cached forward values.
    """
    stages, auxiliary, cache_map = forward_stages(spec)
    states = set(spec.state_names)
    contributions: dict[str, list[AdjointTerm]] = defaultdict(list)
    adjoints: list[Adjoint] = []
    operand_adjoints: list[LinearOperandAdjoint] = []

    def close(name: str) -> Adjoint:
        seed = seed_symbol(name) if name in states else None
        adjoint = Adjoint(name, adjoint_symbol(name), seed, tuple(contributions.pop(name, [])))
        adjoints.append(adjoint)
        return adjoint

    for stage in reversed(stages):
        if isinstance(stage, LinearGroup):
            for linear_map in stage.maps:
                close(linear_map.target)
            for operand in stage.operands:
                placeholder = sympy.Symbol(f"d_{operand}__stack{stage.index}", real=True)
                operand_adjoint = LinearOperandAdjoint(stage, operand, placeholder)
                operand_adjoints.append(operand_adjoint)
                term = AdjointTerm(stage.maps[0].target, placeholder, operand_adjoint)
                contributions[operand].append(term)
            continue
        if stage.equation is None:
            continue
        equation: Elementwise = stage.equation
        adjoint = close(equation.target)
        try:
            expr = combine_exponentials(equation.expr)
            for argument in _sorted_symbols(expr):
                local = local_derivative(expr, argument, cache_map)
                term = AdjointTerm(equation.target, adjoint.symbol * local)
                contributions[argument.name].append(term)
        except DerivationLimitError as error:
            error.line = error.line or equation.line  # name the equation it stopped in
            raise

    parameter_adjoints = tuple(
        Adjoint(name, adjoint_symbol(name), None, tuple(contributions.pop(name)))
        for name in spec.parameter_names
        if name in contributions
    )
    previous_adjoints = tuple(
        Adjoint(
            previous(s),
            adjoint_symbol(previous(s)),
            None,
            tuple(contributions.pop(previous(s), [])),
        )
        for s in spec.state_names
    )
    contributions.pop(spec.input_name, None)
    if contributions:  # pragma: no cover - the parser rejects unused values
        raise AssertionError(f"adjoints left unassigned: {sorted(contributions)}")
    cached = _cached_values(spec, stages, adjoints, parameter_adjoints, previous_adjoints)
    return Derivation(
        spec=spec,
        stages=stages,
        auxiliary=auxiliary,
        cached=cached,
        adjoints=tuple(adjoints),
        linear_operands=tuple(operand_adjoints),
        parameter_adjoints=parameter_adjoints,
        previous_state_adjoints=previous_adjoints,
        cached_forms=cache_map,
    )


def _cached_values(
    spec: CellSpec,
    stages: tuple[Stage, ...],
    adjoints: list[Adjoint],
    parameter_adjoints: tuple[Adjoint, ...],
    previous_adjoints: tuple[Adjoint, ...],
) -> tuple[str, ...]:
    """Forward values the backward pass reads, in forward order.

    States and previous states live in the state history and parameters in ``params``, so
    neither is listed; operands of linear maps are (the weight gradient needs them).
    """
    needed: set[str] = set()
    for adjoint in (*adjoints, *parameter_adjoints, *previous_adjoints):
        needed |= {s.name for s in adjoint.expr.free_symbols}
    for stage in stages:
        if isinstance(stage, LinearGroup):
            needed |= set(stage.operands)
    skip = set(spec.state_names) | {previous(s) for s in spec.state_names}
    skip |= set(spec.parameter_names) | {spec.input_name}
    order: list[str] = []
    for stage in stages:
        targets = (
            [m.target for m in stage.maps] if isinstance(stage, LinearGroup) else [stage.target]
        )
        order += [t for t in targets if t in needed and t not in skip]
    return tuple(order)
