"""The kernel plan: what a cell's kernels compute, as data, built once from its derivation.

A plan holds no target syntax. Every backend prints it:

* **linear maps** (:class:`StackedGroup`): per group of maps sharing one concatenation, the
  stacked row order, the rows that hold half their pre-activation (sigmoid rows, so one tanh
  serves a block), the operand column layout, which columns are the input (hoisted out of the
  time loop), whether the pre-activations are cached for the backward pass, and the
  activation blocks;
* **elementwise stages** of the forward pass (:attr:`KernelPlan.stages`: target and SymPy
  expression) and of the backward pass (:attr:`KernelPlan.backward`, in execution order:
  stored adjoints, each group's row adjoints and ``δv += Wᵀ·δa``, the elementwise parameter
  sums, the carried state adjoints);
* **what is cached** (:attr:`KernelPlan.cached`, :attr:`KernelPlan.cached_groups`);
* **how adjoints accumulate** (:attr:`KernelPlan.adjoints`, the factor plan of
  :mod:`lstm_sym.plan.adjoint_factors`; :attr:`KernelPlan.chunked_parameters`; the linear
  rules of :mod:`lstm_sym.plan.linear_rules`).

Sizes are counted in units of ``H`` and ``D``: a column or row offset is a pair
``(n_h, n_d)`` meaning ``n_h·H + n_d·D``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy

from ..derive.model import Derivation, ForwardValue, LinearGroup, Stage
from ..spec.model import CellSpec, LinearMap, previous
from .adjoint_factors import AdjointPlan, LinearForm, plan_adjoints, row_sources, split_sign
from .linear_rules import LINEAR_REVERSE_RULES, LinearReverseRule
from .stack_layout import ActivationBlock, activation_blocks, activation_kinds, row_order

__all__ = [
    "CarriedAdjoint",
    "ChunkTerm",
    "ColumnBlock",
    "GroupBackward",
    "KernelPlan",
    "ParameterSum",
    "StackedGroup",
    "StoredAdjoint",
    "build_plan",
]

#: An offset or a size: ``(n_h, n_d)`` stands for ``n_h·H + n_d·D``.
Size = tuple[int, int]


@dataclass(frozen=True)
class ColumnBlock:
    """The columns of a stacked weight acting on one operand.

    Attributes
    ----------
    operand : str
        The operand (the input or a state, current or previous).
    start, stop : Size
        Column range, in units of ``(H, D)``.
    is_input : bool
        The operand is the sequence input: its product is hoisted out of the time loop.
    """

    operand: str
    start: Size
    stop: Size
    is_input: bool


@dataclass(frozen=True)
class StackedGroup:
    """One linear group as a stacked GEMM: ``a_stack = [v_1, …, v_k] · W_stackᵀ + b_stack``.

    Attributes
    ----------
    group : LinearGroup
        The derivation's group (maps in spec order).
    row_order : tuple of str
        Member targets in stacked-row order (each ``H`` rows).
    columns : tuple of ColumnBlock
        Operand columns, in the order of ``group.operands``.
    halved_rows : tuple of (int, int)
        Row ranges ``[first, stop)`` (in members) holding ``a / 2``: their weights and biases
        are halved once per call so that ``σ(a) = (1 + tanh(a / 2)) / 2`` needs one tanh.
    blocks : tuple of ActivationBlock
        Runs of rows whose activations are computed at once.
    cached : bool
        The backward pass reads these pre-activations: they are kept for every step.
    """

    group: LinearGroup
    row_order: tuple[str, ...]
    columns: tuple[ColumnBlock, ...]
    halved_rows: tuple[tuple[int, int], ...]
    blocks: tuple[ActivationBlock, ...]
    cached: bool

    @property
    def index(self) -> int:
        """The group's index in the derivation."""
        return self.group.index

    @property
    def members(self) -> int:
        """Number of stacked maps (the stack has ``members·H`` rows)."""
        return len(self.row_order)

    @property
    def maps(self) -> tuple[LinearMap, ...]:
        """The maps in stacked-row order."""
        by_target = {m.target: m for m in self.group.maps}
        return tuple(by_target[t] for t in self.row_order)

    @property
    def hoisted(self) -> ColumnBlock | None:
        """The input's columns, if the group reads the input."""
        return next((c for c in self.columns if c.is_input), None)

    @property
    def recurrent(self) -> tuple[ColumnBlock, ...]:
        """Columns of operands computed step by step (states): one product per step each."""
        return tuple(c for c in self.columns if not c.is_input)

    @property
    def width(self) -> Size:
        """Total column count of the stacked weight."""
        return self.columns[-1].stop

    def position(self, target: str) -> int:
        """Stacked-row position of member ``target``."""
        return self.row_order.index(target)


@dataclass(frozen=True)
class StoredAdjoint:
    """Backward statement: the adjoint of an elementwise value, ``d_<target> = form``."""

    target: str
    form: LinearForm


@dataclass(frozen=True)
class GroupBackward:
    """Backward statements of one group: its rows' adjoints, then ``δv += Wᵀ·δa``.

    ``rows`` are the stored adjoints of the members, in stacked-row order; rows in a run of
    :attr:`AdjointPlan.row_runs` are one source adjoint times adjacent factors.
    """

    group: StackedGroup
    rows: tuple[tuple[str, LinearForm], ...]


@dataclass(frozen=True)
class ParameterSum:
    """Backward statement: a parameter used elementwise, ``δp += Σ_batch form``.

    ``chunked`` when its terms are summed a block of steps at a time with the weight
    gradients instead (see :attr:`KernelPlan.chunked_parameters`).
    """

    name: str
    form: LinearForm
    chunked: bool


@dataclass(frozen=True)
class CarriedAdjoint:
    """Backward statement: the adjoint of ``<state>_prev``, carried to the step before."""

    state: str
    form: LinearForm


BackwardStatement = StoredAdjoint | GroupBackward | ParameterSum | CarriedAdjoint


@dataclass(frozen=True)
class ChunkTerm:
    """One term ``± Σ_{t,b} δa_row ⊙ value`` of a parameter summed with the weight gradients.

    ``value`` is a forward value with a history (a state or a cached value), or ``None`` for 1.
    """

    negative: bool
    row: str
    value: str | None


@dataclass(frozen=True)
class KernelPlan:
    """Everything a backend needs to print a cell's kernels (see the module docstring)."""

    derivation: Derivation
    groups: tuple[StackedGroup, ...]
    halved: frozenset[str]
    adjoints: AdjointPlan

    @property
    def spec(self) -> CellSpec:
        """The cell."""
        return self.derivation.spec

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Forward stages in execution order (a group runs at its first member)."""
        return self.derivation.stages

    @property
    def cached(self) -> tuple[str, ...]:
        """Forward values the backward pass reads (besides states and the input)."""
        return self.derivation.cached

    @property
    def linear_rules(self) -> tuple[LinearReverseRule[Any], ...]:
        """The reverse rules of every linear map (:mod:`lstm_sym.plan.linear_rules`)."""
        return LINEAR_REVERSE_RULES

    def group(self, index: int) -> StackedGroup:
        """The stacked group of derivation group ``index``."""
        return next(g for g in self.groups if g.index == index)

    @cached_property
    def linear_rows(self) -> dict[str, tuple[int, int]]:
        """Where each linear-map target lives: ``(group index, stacked-row position)``."""
        return {t: (g.index, p) for g in self.groups for p, t in enumerate(g.row_order)}

    @cached_property
    def cached_groups(self) -> list[int]:
        """Groups whose pre-activations the backward pass reads (kept for every step)."""
        return [g.index for g in self.groups if g.cached]

    @cached_property
    def block_outputs(self) -> frozenset[str]:
        """Values computed by an activation block (one tanh over several rows)."""
        return frozenset(o for g in self.groups for b in g.blocks for o in b.outputs)

    @cached_property
    def elementwise_parameters(self) -> list[str]:
        """Parameters used elementwise (peepholes): gradients summed over batch and time."""
        return [a.name for a in self.derivation.parameter_adjoints]

    @cached_property
    def free_parameters(self) -> list[str]:
        """Parameters that are neither a weight nor a bias of a linear map."""
        linear = set()
        for group in self.derivation.groups:
            for linear_map in group.maps:
                linear |= {linear_map.weight, linear_map.bias or ""}
        return [p for p in self.spec.parameter_names if p not in linear]

    def has_history(self, name: str) -> bool:
        """Whether the forward pass keeps ``name`` for every step (a state or a cached value)."""
        states = self.spec.state_names
        return name in states or name in map(previous, states) or name in self.cached

    def read_later(self, stage: ForwardValue) -> bool:
        """Whether a forward stage after ``stage`` reads its value."""
        stages = self.stages
        later = stages[stages.index(stage) + 1 :]
        return any(
            isinstance(s, ForwardValue)
            and sympy.Symbol(stage.target, real=True) in s.expr.free_symbols
            for s in later
        )

    def forward_order(self, name: str) -> tuple[int, str]:
        """Sort key: states first, then cached values in forward order."""
        cached = self.cached
        return (cached.index(name) + 1 if name in cached else 0, name)

    @cached_property
    def chunked_parameters(self) -> dict[str, tuple[ChunkTerm, ...]]:
        """Elementwise parameters whose every term reads a stacked row's adjoint.

        Such a term is ``δa_row`` times a forward value with a history, or ±1: it can be
        summed a block of steps at a time, with the weight gradients.
        """
        found = {}
        for adjoint in self.derivation.parameter_adjoints:
            terms = self._chunk_terms(adjoint.name)
            if terms is not None:
                found[adjoint.name] = terms
        return found

    def _chunk_terms(self, name: str) -> tuple[ChunkTerm, ...] | None:
        terms = []
        for term in self.adjoints.forms[name].terms:
            row = term.source.name[2:]
            if not term.source.name.startswith("d_") or row not in self.linear_rows:
                return None
            negative, bare = split_sign(term.coefficient)
            if bare == 1:
                terms.append(ChunkTerm(negative, row, None))
                continue
            if not (bare.is_Symbol and self.has_history(bare.name)):
                return None
            terms.append(ChunkTerm(negative, row, bare.name))
        return tuple(terms)

    @cached_property
    def backward(self) -> tuple[BackwardStatement, ...]:
        """The backward step's statements in execution order."""
        forms = self.adjoints.forms
        statements: list[BackwardStatement] = []
        for stage in reversed(self.stages):
            if isinstance(stage, LinearGroup):
                group = self.group(stage.index)
                rows = tuple((t, forms[t]) for t in group.row_order)
                statements.append(GroupBackward(group, rows))
            elif stage.equation is not None and stage.target in forms:
                statements.append(StoredAdjoint(stage.target, forms[stage.target]))
        for adjoint in self.derivation.parameter_adjoints:
            chunked = adjoint.name in self.chunked_parameters
            statements.append(ParameterSum(adjoint.name, forms[adjoint.name], chunked))
        for adjoint in self.derivation.previous_state_adjoints:
            state = adjoint.name[: -len("_prev")]
            statements.append(CarriedAdjoint(state, forms[adjoint.name]))
        return tuple(statements)

    def gradient_sources(self) -> dict[str, list[tuple[str, int, int]]]:
        """Per parameter, the stacked rows its gradient sums: ``(kind, group, position)``.

        ``kind`` is ``"weight"`` or ``"bias"`` (rows of ``δW_stack`` or ``δb_stack``); a bias
        shared by several maps has several entries. Elementwise parameters have none here
        (their sums are :class:`ParameterSum` statements).
        """
        sources: dict[str, list[tuple[str, int, int]]] = {p: [] for p in self.spec.parameter_names}
        for group in self.groups:
            for position, linear_map in enumerate(group.maps):
                sources[linear_map.weight].append(("weight", group.index, position))
                if linear_map.bias:
                    sources[linear_map.bias].append(("bias", group.index, position))
        return sources


def _columns(spec: CellSpec, group: LinearGroup) -> tuple[ColumnBlock, ...]:
    n_h = n_d = 0
    columns = []
    for operand in group.operands:
        is_input = operand == spec.input_name
        start = (n_h, n_d)
        if is_input:
            n_d += 1
        else:
            n_h += 1
        columns.append(ColumnBlock(operand, start, (n_h, n_d), is_input))
    return tuple(columns)


def build_plan(derivation: Derivation, *, halve_sigmoid_rows: bool = True) -> KernelPlan:
    """Plan the kernels of ``derivation``.

    Parameters
    ----------
    derivation : Derivation
        The cell's forward stages and adjoints.
    halve_sigmoid_rows : bool
        Hold ``a / 2`` in the sigmoid rows of activation blocks (weights and biases halved
        once per call), so one tanh computes a block: the NumPy kernels do. A backend that
        calls σ itself plans without it: no halved rows, and the stored adjoints of those
        rows are those of ``a``.

    Returns
    -------
    KernelPlan
    """
    # Rows ordered so gates of one activation, and adjoints fed by one adjoint, are adjacent.
    kinds = activation_kinds(derivation)
    sources = row_sources(derivation)
    orders = {g.index: row_order(g, kinds, sources) for g in derivation.groups}
    blocks = {g.index: activation_blocks(g, orders[g.index], kinds) for g in derivation.groups}
    halved_rows = {
        k: tuple(rows for block in found for rows in block.sigmoid_rows)
        if halve_sigmoid_rows
        else ()
        for k, found in blocks.items()
    }
    halved = frozenset(
        orders[k][position]
        for k, ranges in halved_rows.items()
        for first, stop in ranges
        for position in range(first, stop)
    )
    cached = set(derivation.cached)
    groups = tuple(
        StackedGroup(
            group=g,
            row_order=orders[g.index],
            columns=_columns(derivation.spec, g),
            halved_rows=halved_rows[g.index],
            blocks=tuple(blocks[g.index]),
            cached=any(m.target in cached for m in g.maps),
        )
        for g in derivation.groups
    )
    return KernelPlan(
        derivation=derivation,
        groups=groups,
        halved=halved,
        adjoints=plan_adjoints(derivation, orders, halved),
    )
