"""Order the rows of each stacked linear map so that gates can be processed in blocks.

A stacked buffer holds the pre-activations of several linear maps one after the other
(``[a_f, a_i, a_C, a_o]``). Two orderings pay off:

* rows whose pre-activation goes straight into the same kind of activation are adjacent,
  so one ``tanh`` call (with ``σ(a) = (1 + tanh(a/2)) / 2`` for the sigmoid rows) computes
  every gate of the block, written into one contiguous cache block;
* rows whose adjoint is the same incoming adjoint times a factor are adjacent, so one
  broadcast product writes all of them (see :mod:`lstm_sym.plan.adjoint_factors`).

:func:`row_order` picks, among all orders of a group's rows, one with the fewest runs of
both kinds (ties: closest to spec order). :func:`activation_blocks` then lists the runs of
two or more activation rows that the forward step computes at once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import sympy

from ..derive.model import Derivation, ForwardValue, LinearGroup
from ..spec.functions import sigmoid

__all__ = ["ActivationBlock", "activation_blocks", "activation_kinds", "row_order"]

#: Beyond this many members, rows keep spec order (the search is over all permutations).
_MAX_SEARCHED_MEMBERS = 7


@dataclass(frozen=True)
class ActivationBlock:
    """Rows ``first … stop − 1`` of a group, each computing ``output = kind(row)``.

    Attributes
    ----------
    group : int
        Index of the linear group.
    first, stop : int
        Row range (in member units of H) within the stacked buffer.
    outputs : tuple of str
        The activation outputs, one per row (``f``, ``i``, ...).
    sigmoid_rows : tuple of tuple of int
        Sub-ranges ``(first, stop)`` (absolute rows) whose activation is the sigmoid.
    """

    group: int
    first: int
    stop: int
    outputs: tuple[str, ...]
    sigmoid_rows: tuple[tuple[int, int], ...]


def activation_kinds(derivation: Derivation) -> dict[str, tuple[str, str]]:
    """Linear-map targets whose only use is ``output = sigmoid(a)`` or ``tanh(a)``.

    Returns
    -------
    dict of str to (str, str)
        Target ``a`` → (``"sigmoid"`` or ``"tanh"``, output name). Only targets the backward
        pass does not read, that are not states, and whose output is cached qualify: the
        forward step may then overwrite ``a`` while computing the whole block.
    """
    spec = derivation.spec
    states = set(spec.state_names)
    cached = set(derivation.cached)
    uses: Counter[str] = Counter()
    for stage in derivation.stages:
        if isinstance(stage, ForwardValue):
            uses.update(symbol.name for symbol in stage.expr.free_symbols)
    linear_targets = {m.target for group in derivation.groups for m in group.maps}
    kinds: dict[str, tuple[str, str]] = {}
    for stage in derivation.stages:
        if not isinstance(stage, ForwardValue) or stage.equation is None:
            continue
        expr = stage.expr
        if not isinstance(expr, (sigmoid, sympy.tanh)) or not expr.args[0].is_Symbol:
            continue
        target = expr.args[0].name
        if (
            target in linear_targets
            and uses[target] == 1
            and target not in cached
            and target not in states
            and stage.target in cached
            and stage.target not in states
        ):
            kinds[target] = ("sigmoid" if isinstance(expr, sigmoid) else "tanh", stage.target)
    return kinds


def _runs(labels: list[object]) -> int:
    """Number of maximal runs of equal labels (``None`` never joins a run)."""
    count = 0
    previous: object = object()
    for label in labels:
        if label is None or label != previous:
            count += 1
        previous = label
    return count


def row_order(
    group: LinearGroup,
    kinds: dict[str, tuple[str, str]],
    sources: dict[str, sympy.Symbol | None],
) -> tuple[str, ...]:
    """Order a group's rows: fewest activation runs plus source runs, then spec order.

    Parameters
    ----------
    group : LinearGroup
        The stacked maps.
    kinds : dict
        From :func:`activation_kinds`.
    sources : dict of str to sympy.Symbol or None
        Per member target, the single adjoint its adjoint is a multiple of (``None`` if it
        reads several).

    Returns
    -------
    tuple of str
        Member targets in stacked-row order.
    """
    spec_order = tuple(m.target for m in group.maps)
    if len(spec_order) > _MAX_SEARCHED_MEMBERS:
        return spec_order

    def cost(order: tuple[str, ...]) -> tuple[int, tuple[int, ...]]:
        kind_labels: list[object] = [kinds[t][0] if t in kinds else None for t in order]
        source_labels: list[object] = [sources.get(t) for t in order]
        position = tuple(spec_order.index(t) for t in order)
        return _runs(kind_labels) + _runs(source_labels), position

    return min(itertools.permutations(spec_order), key=cost)


def activation_blocks(
    group: LinearGroup,
    order: tuple[str, ...],
    kinds: dict[str, tuple[str, str]],
    minimum_rows: int = 2,
) -> list[ActivationBlock]:
    """Runs of ``minimum_rows`` or more adjacent activation rows of a group, in row order.

    NumPy gains from a block only when it joins rows (one call instead of several); torch
    also gains from a single row, computed in place instead of into a buffer of its own.
    """
    blocks: list[ActivationBlock] = []
    position = 0
    while position < len(order):
        if order[position] not in kinds:
            position += 1
            continue
        stop = position
        while stop < len(order) and order[stop] in kinds:
            stop += 1
        if stop - position >= minimum_rows:
            rows = order[position:stop]
            sigmoid_rows: list[tuple[int, int]] = []
            for offset, target in enumerate(rows, start=position):
                if kinds[target][0] != "sigmoid":
                    continue
                if sigmoid_rows and sigmoid_rows[-1][1] == offset:
                    sigmoid_rows[-1] = (sigmoid_rows[-1][0], offset + 1)
                else:
                    sigmoid_rows.append((offset, offset + 1))
            outputs = tuple(kinds[t][1] for t in rows)
            blocks.append(
                ActivationBlock(group.index, position, stop, outputs, tuple(sigmoid_rows))
            )
        position = stop
    return blocks
