"""Render a derivation into a NumPy kernel module (``lstm_sym/kernels/<cell>.py``).

The Python side works out every cell-specific line (stacked weights, hoisted projections,
the per-step forward and backward statements printed from SymPy); the Jinja2 template
``kernel.py.jinja`` holds the fixed structure (validation, public API, docstrings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ...derive.model import Derivation, ForwardValue, LinearGroup
from ...derive.reverse import seed_symbol
from ...plan.adjoint_factors import LinearForm
from ...plan.kernel_plan import (
    ChunkTerm,
    GroupBackward,
    KernelPlan,
    ParameterSum,
    StackedGroup,
    StoredAdjoint,
    build_plan,
)
from ...plan.linear_rules import BIAS_RULE, OPERAND_RULE, WEIGHT_RULE
from ...plan.stack_layout import ActivationBlock
from ...spec.model import previous
from ...templating import template_environment
from ..python_text import module_preamble
from .code import numpy_code
from .inplace import InPlaceEmitter

__all__ = ["render_kernel"]


def _size(n_h: int, n_d: int) -> str:
    """Format ``n_h·H + n_d·D`` as Python source (``"2 * H + D"``, ``"0"``)."""
    parts = []
    if n_h:
        parts.append("_H" if n_h == 1 else f"{n_h} * _H")
    if n_d:
        parts.append("_D" if n_d == 1 else f"{n_d} * _D")
    return " + ".join(parts) if parts else "0"


def _shape_size(match: re.Match[str]) -> str:
    """``2H`` → ``2 * _H``, ``D`` → ``_D``: a spec's shape text as kernel source."""
    count, size = match.groups()
    return f"{count} * _{size}" if count else f"_{size}"


@dataclass(frozen=True)
class _Columns:
    operand: str
    start: str
    stop: str
    width: str
    is_input: bool


@dataclass(frozen=True)
class _StackView:
    """Rows of one member (or one parameter) inside a stacked buffer."""

    name: str
    start: str
    stop: str


def _columns(group: StackedGroup) -> list[_Columns]:
    return [
        _Columns(
            c.operand, _size(*c.start), _size(*c.stop), "_D" if c.is_input else "_H", c.is_input
        )
        for c in group.columns
    ]


def _rows(order: tuple[str, ...]) -> list[_StackView]:
    """Row ranges of the members ``order`` (targets) inside a stacked buffer."""
    return [_StackView(target, _size(k, 0), _size(k + 1, 0)) for k, target in enumerate(order)]


#: Slices of a forward value's history: at step ``t`` (``<state>_prev``, then ``<state>``), for
#: a block of adjoint factors ``t0 … t``, and for a chunk of weight gradients ``t … t_end − 1``.
_STEP = ("_t", "_t + 1")
_FACTOR_BLOCK = ("_t0:_t + 1", "_t0 + 1:_t + 2")
_CHUNK = ("_t:_t_end", "_t + 1:_t_end + 1")


def _spec_order(group: LinearGroup) -> tuple[str, ...]:
    return tuple(m.target for m in group.maps)


class _NumPyAlgebra:
    """The linear reverse rules in NumPy source (rows are batch entries).

    A product is written as the two arguments of a matrix product (``"a.T, b"``), which the
    printer hands to ``np.matmul`` or ``_matmul_into`` with its output buffer.
    """

    def outer(self, delta: str, operand: str) -> str:
        return f"{delta}.T, {operand}"

    def transposed_product(self, weight: str, delta: str) -> str:
        return f"{delta}, {weight}"

    def batch_sum(self, delta: str) -> str:
        return f"{delta}.sum(axis=0)"


_ALGEBRA = _NumPyAlgebra()


class _KernelBuilder:
    """Print a :class:`~lstm_sym.plan.kernel_plan.KernelPlan` as the lines of a NumPy kernel.

    Planning (row order, halved rows, factors, what is cached) is the plan's; this class only
    chooses buffer names and writes NumPy statements, handing line lists to the template.
    """

    def __init__(self, plan: KernelPlan) -> None:
        self.plan = plan
        self.adjoints = plan.adjoints
        self.derivation = plan.derivation
        self.spec = plan.spec
        self.cached = set(plan.cached)
        self.states = set(self.spec.state_names)
        self.elementwise_params = plan.elementwise_parameters
        self.free_params = plan.free_parameters
        self.row_orders = {g.index: g.row_order for g in plan.groups}
        self.maps = {m.target: m for g in plan.groups for m in g.maps}
        self.blocks = {g.index: list(g.blocks) for g in plan.groups}
        self.halved_rows = {g.index: list(g.halved_rows) for g in plan.groups}
        self.halved = plan.halved
        self.block_outputs = plan.block_outputs
        self.linear_rows: dict[str, tuple[int, _StackView]] = {
            row.name: (group.index, row) for group in plan.groups for row in self.rows(group)
        }
        self.cached_groups = plan.cached_groups
        # Parameter adjoints summed a block of steps at a time with the weight gradients.
        self.chunked_parameters = {
            name: [self.chunk_term(term) for term in terms]
            for name, terms in plan.chunked_parameters.items()
        }
        self.forward_emitter = InPlaceEmitter()
        self.backward_emitter = InPlaceEmitter()
        self.factor_emitter = InPlaceEmitter("_block_work")
        self.adjoint_buffers: list[str] = []
        self.aliased_seeds: set[str] = set()
        self.parameter_step_buffers: list[str] = []
        self.operand_buffers: list[str] = []

    def columns(self, k: int) -> list[_Columns]:
        """Operand columns of group ``k`` as kernel source."""
        return _columns(self.plan.group(k))

    def rows(self, group: LinearGroup | StackedGroup) -> list[_StackView]:
        """The group's members in stacked-row order."""
        return _rows(self.row_orders[group.index])

    def gates_name(self, block: ActivationBlock) -> str:
        """Name of the cache block holding an activation block's outputs (``gates0``)."""
        blocks = self.blocks[block.group]
        if len(blocks) == 1:
            return f"_gates{block.group}"
        return f"_gates{block.group}_{blocks.index(block)}"

    # -- forward ----------------------------------------------------------------------------
    def group_setup(self) -> list[str]:
        """Stack each group's weights and hoist its input projection out of the loop."""
        lines: list[str] = []
        for group in self.derivation.groups:
            k = group.index
            rows = len(group.maps)
            maps = [self.maps[target] for target in self.row_orders[k]]
            weights = ", ".join(f'params["{m.weight}"]' for m in maps)
            lines.append(f"# Linear maps on [{', '.join(group.operands)}], stacked: one GEMM.")
            lines.append(f"_W_stack{k} = np.concatenate(({weights},), axis=0)")
            biases = []
            for m in maps:
                biases.append(f'params["{m.bias}"]' if m.bias else "np.zeros(_H, _dtype)")
            lines.append(f"_b_stack{k} = np.concatenate(({', '.join(biases)},))")
            if self.halved_rows[k]:
                names = [t for t in self.row_orders[k] if t in self.halved]
                lines.append(
                    f"# Rows {', '.join(names)} feed sigmoids: halved (exactly), they give a / 2,"
                    " and σ(a) = (1 + tanh(a / 2)) / 2."
                )
                for first, stop in self.halved_rows[k]:
                    halved = f"{_size(first, 0)}:{_size(stop, 0)}"
                    lines.append(f"_W_stack{k}[{halved}] *= 0.5")
                    lines.append(f"_b_stack{k}[{halved}] *= 0.5")
            columns = self.columns(group.index)
            hoisted = [c for c in columns if c.is_input]
            width = _size(rows, 0)
            if k in self.cached_groups:
                # The backward pass reads these pre-activations: project every step at once.
                if hoisted:
                    c = hoisted[0]
                    lines.append(
                        f"_a_stack{k}_seq = np.matmul(_xs.reshape(_T * _B, _D), "
                        f"_W_stack{k}[:, {c.start}:{c.stop}].T).reshape(_T, _B, {width})"
                    )
                    lines.append(f"_a_stack{k}_seq += _b_stack{k}")
                else:
                    lines.append(
                        f"_a_stack{k}_seq = np.broadcast_to(_b_stack{k}, (_T, _B, {width})).copy()"
                    )
            else:
                if hoisted:
                    c = hoisted[0]
                    lines.append(
                        f"_WT_stack{k}__{c.operand} = _W_stack{k}[:, {c.start}:{c.stop}].T"
                    )
                lines.append(
                    f"_a_stack{k}_chunk = np.empty((min(_T, _steps), _B, {width}), _dtype)"
                )
            for c in columns:
                if not c.is_input:
                    lines.append(
                        f"_WT_stack{k}__{c.operand} = _W_stack{k}[:, {c.start}:{c.stop}].T"
                    )
            if any(not c.is_input for c in columns):
                lines.append(f"_product{k} = np.empty((_B, {width}), _dtype)")
        return lines

    def cache_setup(self) -> list[str]:
        lines = []
        for blocks in self.blocks.values():
            for block in blocks:
                gates = self.gates_name(block)
                width = _size(block.stop - block.first, 0)
                lines.append(f"{gates}_seq = np.empty((_T, _B, {width}), _dtype)")
                for row, output in zip(_rows(block.outputs), block.outputs, strict=True):
                    lines.append(f"{output}_seq = {gates}_seq[:, :, {row.start}:{row.stop}]")
        for name in self.derivation.cached:
            if not self.is_linear_target(name) and name not in self.block_outputs:
                lines.append(f"{name}_seq = np.empty((_T, _B, _H), _dtype)")
        return lines

    def is_linear_target(self, name: str) -> bool:
        return name in self.linear_rows

    def chunk_projection(self) -> list[str]:
        """At the first step of a chunk, project the inputs of all its steps at once."""
        body: list[str] = []
        for group in self.derivation.groups:
            k = group.index
            if k in self.cached_groups:
                continue
            width = _size(len(group.maps), 0)
            chunk = f"_a_stack{k}_chunk[: _t_end - _t]"
            hoisted = [c for c in self.columns(group.index) if c.is_input]
            if hoisted:
                c = hoisted[0]
                body.append(
                    f"np.matmul(_xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), "
                    f"_WT_stack{k}__{c.operand}, out={chunk}.reshape((_t_end - _t) * _B, {width}))"
                )
                body.append(f"{chunk} += _b_stack{k}")
            else:
                body.append(f"{chunk} = _b_stack{k}")
        if not body:
            return []
        return [
            "_chunk_step = _t % _steps",
            "if _chunk_step == 0:",
            "    # Input projection of the chunk's steps at once, hoisted out of the step.",
            "    _t_end = min(_T, _t + _steps)",
            *("    " + line for line in body),
        ]

    def forward_step(self) -> list[str]:
        lines: list[str] = self.chunk_projection()
        for state in self.spec.state_names:
            lines.append(f"{previous(state)} = {state}_seq[_t]")
        for stage in self.derivation.stages:
            if isinstance(stage, LinearGroup):
                k = stage.index
                if k in self.cached_groups:
                    lines.append(f"_a_stack{k} = _a_stack{k}_seq[_t]")
                else:
                    lines.append(f"_a_stack{k} = _a_stack{k}_chunk[_chunk_step]")
                for c in self.columns(stage.index):
                    if not c.is_input:
                        lines.append(
                            f"np.matmul({c.operand}, _WT_stack{k}__{c.operand}, out=_product{k})"
                        )
                        lines.append(f"_a_stack{k} += _product{k}")
                in_blocks = {
                    t
                    for block in self.blocks[k]
                    for t in self.row_orders[k][block.first : block.stop]
                }
                for row in self.rows(stage):
                    if row.name in in_blocks:
                        continue
                    if row.name in self.states:
                        lines.append(f"{row.name} = {row.name}_seq[_t + 1]")
                        lines.append(f"{row.name}[...] = _a_stack{k}[:, {row.start}:{row.stop}]")
                    else:
                        lines.append(f"{row.name} = _a_stack{k}[:, {row.start}:{row.stop}]")
                for block in self.blocks[k]:
                    lines += self.activation_block(block, len(stage.maps))
                continue
            if stage.target in self.block_outputs:
                if self.plan.read_later(stage):
                    lines.append(f"{stage.target} = {stage.target}_seq[_t]")
                continue
            lines += self.assign_forward(stage)
        return lines

    def activation_block(self, block: ActivationBlock, members: int) -> list[str]:
        """All activations of a block of rows at once: one tanh over the block.

        Sigmoid rows already hold ``a / 2`` (halved weights), so ``σ(a) = (1 + tanh(a / 2)) / 2``
        needs only a scale and a shift after the tanh.
        """
        k = block.group
        gates = self.gates_name(block)
        whole = block.first == 0 and block.stop == members
        source = (
            f"_a_stack{k}"
            if whole
            else f"_a_stack{k}[:, {_size(block.first, 0)}:{_size(block.stop, 0)}]"
        )
        names = ", ".join(block.outputs)
        lines = [
            f"{gates} = {gates}_seq[_t]",
            f"# {names} at once: tanh, and (1 + tanh(a / 2)) / 2 on the rows holding a / 2.",
            f"np.tanh({source}, out={gates})",
        ]
        for first, stop in block.sigmoid_rows:
            rows = f"{gates}[:, {_size(first - block.first, 0)}:{_size(stop - block.first, 0)}]"
            lines.append(f"{rows} *= 0.5")
            lines.append(f"{rows} += 0.5")
        return lines

    def assign_forward(self, stage: ForwardValue) -> list[str]:
        """Compute a value in place into its cache slot, its state slot or its own buffer."""
        target = stage.target
        lines = []
        if target in self.states:
            lines.append(f"{target} = {target}_seq[_t + 1]")
        elif target in self.cached:
            lines.append(f"{target} = {target}_seq[_t]")
        body = self.forward_emitter.emit(stage.expr, target)
        if len(body) > 1:
            lines.append(f"# {target} = {numpy_code(stage.expr)}")
        return lines + body

    def forward_buffers(self) -> list[str]:
        """Step buffers of values neither cached nor states, and scratch arrays.

        Call after :meth:`forward_step`, which counts the scratch arrays it uses.
        """
        names = [
            stage.target
            for stage in self.derivation.stages
            if isinstance(stage, ForwardValue)
            and stage.target not in self.states
            and stage.target not in self.cached
        ]
        names += [f"_work{k}" for k in range(self.forward_emitter.scratch_needed)]
        return [f"{name} = np.empty((_B, _H), _dtype)" for name in names]

    # -- backward ---------------------------------------------------------------------------
    def backward_setup(self) -> list[str]:
        lines = [f'_a_stack{k}_seq = cache["_a_stack{k}_seq"]' for k in self.cached_groups]
        for group in self.derivation.groups:
            k = group.index
            width = _size(len(group.maps), 0)
            lines.append(f'_W_stack{k} = cache["_W_stack{k}"]')
            lines.append(f"_da_stack{k}_chunk = np.empty((min(_T, _steps), _B, {width}), _dtype)")
            lines.append(f"_dW_stack{k} = np.zeros_like(_W_stack{k})")
            lines.append(f"_db_stack{k} = np.zeros({width}, _dtype)")
            for c in self.columns(group.index):
                if not c.is_input:
                    lines.append(f"_W_stack{k}__{c.operand} = _W_stack{k}[:, {c.start}:{c.stop}]")
        for name in self.elementwise_params:
            lines.append(f'{name} = cache["params"]["{name}"]')
            lines.append(f"_d_{name}_sum = np.zeros(_H, _dtype)")
        count = len(self.adjoints.factors)
        if count:
            lines.append(
                "# Forward-only factors of the adjoints, computed a block of steps at a time."
            )
            per_step = f"_B * {count} * _H * _dtype.itemsize"
            lines.append(
                f"_factor_steps = max(1, min(_steps, _FACTOR_STEPS, _FACTOR_BYTES // ({per_step})))"
            )
            lines.append(f"_factors = np.empty((min(_T, _factor_steps), _B, {count}, _H), _dtype)")
            for name in self.factor_emitter.scratch_names():
                lines.append(f"{name}_all = np.empty((min(_T, _factor_steps), _B, _H), _dtype)")
        return lines

    def backward_buffers(self) -> list[str]:
        """Step buffers of seeds, adjoints and scratch arrays (after :meth:`backward_step`)."""
        names = [f"{seed_symbol(s).name}" for s in self.spec.state_names]
        names = [n for n in names if n not in self.aliased_seeds]
        names += self.adjoint_buffers + self.operand_buffers + self.parameter_step_buffers
        names += self.backward_emitter.scratch_names()
        return [f"{name} = np.empty((_B, _H), _dtype)" for name in names]

    def forward_name_binding(self, name: str, steps: tuple[str, str] = _STEP) -> str | None:
        """Source of a forward value at the steps ``steps`` (see :data:`_STEP`), if cached."""
        now, after = steps
        for state in self.spec.state_names:
            if name == previous(state):
                return f"{state}_seq[{now}]"
            if name == state:
                return f"{state}_seq[{after}]"
        if name in self.derivation.cached:
            if self.is_linear_target(name):
                k, row = self.linear_rows[name]
                return f"_a_stack{k}_seq[{now}, :, {row.start}:{row.stop}]"
            return f"{name}_seq[{now}]"
        return None

    def operand_history(self, operand: str) -> str:
        """Source of a linear map's operand at steps ``t … t_end − 1`` (weight gradients).

        A state written in the same step (``W @ [C, x]`` after ``C = …``) is read one slot
        later in its history than its previous value; :meth:`forward_name_binding` knows both.
        """
        if operand == self.spec.input_name:
            return "_xs[_t:_t_end]"
        source = self.forward_name_binding(operand, _CHUNK)
        if source is None:  # pragma: no cover - operands of linear maps are always cached
            raise AssertionError(f"operand {operand!r} has no history")
        return source

    def chunk_term(self, term: ChunkTerm) -> tuple[bool, str, str | None]:
        """A parameter term summed with the weight gradients: ``(negative, rows, values)``."""
        k, row = self.linear_rows[term.row]
        rows = f"_da_stack{k}_chunk[: _t_end - _t, :, {row.start}:{row.stop}]"
        if term.value is None:
            return term.negative, rows, None
        return term.negative, rows, self.forward_name_binding(term.value, _CHUNK)

    def factor_block(self) -> list[str]:
        """At the first step of a block (going backward), compute its factors at once."""
        factors = self.adjoints.factors
        needed = sorted(
            {s.name for f in factors for s in f.expr.free_symbols}, key=self.plan.forward_order
        )
        body = ["_t0 = _t - _factor_step"]
        for name in needed:
            source = self.forward_name_binding(name, _FACTOR_BLOCK)
            if source is not None:
                body.append(f"{name} = {source}")
        body.append("_block = _factors[: _t + 1 - _t0]")
        statements: list[str] = []
        for factor in factors:
            statements.append(f"{factor.name} = _block[:, :, {factor.index}]")
            emitted = self.factor_emitter.emit(factor.expr, factor.name)
            if len(emitted) > 1:
                statements.append(f"# {factor.name} = {numpy_code(factor.expr)}")
            statements += emitted
        for name in self.factor_emitter.scratch_names():
            body.append(f"{name} = {name}_all[: _t + 1 - _t0]")
        return [
            "_factor_step = _t % _factor_steps",
            "if _t == _T - 1 or _factor_step == _factor_steps - 1:",
            "    # Steps t0 … t: every forward-only factor of their adjoints, for all at once.",
            *("    " + line for line in body + statements),
            "_factors_t = _factors[_factor_step]",
        ]

    def backward_step(self) -> list[str]:
        derivation = self.derivation
        plan = self.adjoints
        run_rows = {
            self.row_orders[k][position]
            for k, runs in plan.row_runs.items()
            for first, stop, _ in runs
            for position in range(first, stop)
        }
        # Symbols the per-step statements read (forward values, factors, stored adjoints).
        read: set[str] = set()
        for name, form in plan.forms.items():
            if name not in run_rows and name not in self.chunked_parameters:
                read |= {s.name for s in form.expr.free_symbols}
        for runs in plan.row_runs.values():
            read |= {source.name for _, _, source in runs}
        direct = {
            form.terms[0].source.name: f"_d_{name[: -len('_prev')]}_carry"
            for name, form in plan.forms.items()
            if name in {a.name for a in derivation.previous_state_adjoints}
            and len(form.terms) == 1
            and form.terms[0].coefficient == 1
            and "__stack" in form.terms[0].source.name
        }
        lines = ["_chunk_step = _t % _steps"]
        if plan.factors:
            lines += self.factor_block()
        for factor in plan.factors:
            if factor.name in read:
                lines.append(f"{factor.name} = _factors_t[:, {factor.index}]")
        forward_names = sorted(
            {n for n in read if self.forward_name_binding(n) is not None},
            key=self.plan.forward_order,
        )
        for name in forward_names:
            lines.append(f"{name} = {self.forward_name_binding(name)}")
        output = self.spec.output_state
        for state in self.spec.state_names:
            seed = seed_symbol(state).name
            if state == output:
                lines.append(f"np.add(dhs[_t], _d_{state}_carry, out={seed})")
            else:
                lines.append(f"np.copyto({seed}, _d_{state}_carry)")
        for statement in self.plan.backward:
            if isinstance(statement, GroupBackward):
                lines += self.group_adjoints(statement, read, direct)
            elif isinstance(statement, StoredAdjoint):
                name = f"d_{statement.target}"
                self.adjoint_buffers.append(name)
                lines += self.assign_form(name, statement.form)
            elif isinstance(statement, ParameterSum):
                if statement.chunked:
                    continue  # summed with the weight gradients, a block of steps at once
                buffer = f"_d_{statement.name}_step"
                self.parameter_step_buffers.append(buffer)
                lines += self.assign_form(buffer, statement.form)
                lines.append(f"_d_{statement.name}_sum += {buffer}.sum(axis=0)")
            else:
                form = statement.form
                if len(form.terms) == 1 and form.terms[0].source.name in direct:
                    if form.terms[0].coefficient == 1:
                        continue
                lines += self.assign_form(f"_d_{statement.state}_carry", form)
        lines = self.alias_seeds(lines)
        return lines + self.fold_weight_gradients()

    def group_adjoints(
        self, statement: GroupBackward, read: set[str], direct: dict[str, str]
    ) -> list[str]:
        """Adjoints of a group's rows (broadcast products for runs), then ``δv += Wᵀ·δa``."""
        group = statement.group
        k = group.index
        plan = self.adjoints
        forms = dict(statement.rows)
        order = self.row_orders[k]
        members = len(order)
        lines = [f"_da_stack{k} = _da_stack{k}_chunk[_chunk_step]"]
        if self.halved_rows[k]:
            names = ", ".join(f"d_{t}" for t in order if t in self.halved)
            lines.append(f"# {names} hold adjoints of a / 2 (twice those of a): halved weights.")
        runs = {first: (stop, source) for first, stop, source in plan.row_runs.get(k, [])}
        rows = self.rows(group)
        position = 0
        while position < members:
            if position in runs:
                stop, source = runs[position]
                targets = order[position:stop]
                factors = [forms[t].terms[0].coefficient for t in targets]
                first_slot = plan.factor_of(factors[0]).index  # type: ignore[union-attr]
                names = ", ".join(f"d_{t}" for t in targets)
                lines.append(
                    f"# {names} = {source.name} * ({', '.join(str(f) for f in factors)}), at once"
                )
                out = f"_da_stack{k}.reshape(_B, {members}, _H)"
                if stop - position < members:
                    out += f"[:, {position}:{stop}]"
                lines.append(
                    f"np.multiply({source.name}[:, None, :], "
                    f"_factors_t[:, {first_slot}:{first_slot + stop - position}], out={out})"
                )
                for row in rows[position:stop]:
                    if f"d_{row.name}" in read:
                        lines.append(f"d_{row.name} = _da_stack{k}[:, {row.start}:{row.stop}]")
                position = stop
                continue
            row = rows[position]
            lines.append(f"d_{row.name} = _da_stack{k}[:, {row.start}:{row.stop}]")
            lines += self.assign_form(f"d_{row.name}", forms[row.name])
            position += 1
        for c in self.columns(group.index):
            if c.is_input:
                continue
            buffer = f"d_{c.operand}__stack{k}"
            operands = OPERAND_RULE.apply(
                _ALGEBRA, f"_da_stack{k}", f"_W_stack{k}__{c.operand}", c.operand
            )
            product = f"np.matmul({operands}, out={{}})"
            if buffer in direct:
                lines.append(product.format(direct[buffer]))
                if buffer in read and not self.only_direct(buffer):
                    lines.append(f"{buffer} = {direct[buffer]}")
            else:
                self.operand_buffers.append(buffer)
                lines.append(product.format(buffer))
        return lines

    def only_direct(self, placeholder: str) -> bool:
        """Whether the placeholder is read only by the carry it is written into."""
        readers = [
            form
            for form in self.adjoints.forms.values()
            if sympy.Symbol(placeholder, real=True) in form.expr.free_symbols
        ]
        return len(readers) == 1 and len(readers[0].terms) == 1

    def assign_form(self, out: str, form: LinearForm) -> list[str]:
        """In-place statements for a stored adjoint."""
        return self.assign_backward(out, form.expr)

    def alias_seeds(self, lines: list[str]) -> list[str]:
        """Read a state's carry in place instead of copying it, when nothing overwrites it first.

        ``np.copyto(d_C_in, d_C_carry)`` becomes ``d_C_in = d_C_carry`` if every statement
        reading ``d_C_in`` comes before the first statement that writes ``d_C_carry``.
        """
        result = list(lines)
        for state in self.spec.state_names:
            seed = seed_symbol(state).name
            carry = f"_d_{state}_carry"
            copy = f"np.copyto({seed}, {carry})"
            if copy not in result:
                continue
            start = result.index(copy)
            seed_pattern = re.compile(rf"\b{seed}\b")
            carry_pattern = re.compile(rf"\b{carry}\b")
            readers = [
                i for i, line in enumerate(result) if i > start and seed_pattern.search(line)
            ]
            writers = [
                i for i, line in enumerate(result) if i > start and carry_pattern.search(line)
            ]
            if not writers or not readers or max(readers) < min(writers):
                result[start] = f"{seed} = {carry}"
                self.aliased_seeds.add(seed)
        return result

    def assign_backward(self, out: str, expr: sympy.Expr) -> list[str]:
        """In-place statements for one adjoint, with the formula as a comment when it helps."""
        body = self.backward_emitter.emit(expr, out)
        if len(body) > 1:
            return [f"# {out} = {numpy_code(expr)}", *body]
        return body

    def fold_weight_gradients(self) -> list[str]:
        """When a chunk of steps is done, add its weight gradients: one GEMM per block.

        The first block processed (the last steps) writes the products straight into the
        gradients; later blocks add theirs.
        """
        body = ["_t_end = min(_T, _t + _steps)"]
        input_assigned = False
        for group in self.derivation.groups:
            k = group.index
            width = _size(len(group.maps), 0)
            rows = "(_t_end - _t) * _B"
            body.append(
                f"_da_stack{k}_flat = _da_stack{k}_chunk[: _t_end - _t].reshape({rows}, {width})"
            )
            delta = f"_da_stack{k}_flat"
            for c in self.columns(group.index):
                history = self.operand_history(c.operand)
                weight = f"_W_stack{k}[:, {c.start}:{c.stop}]"
                operand = f"{history}.reshape({rows}, {c.width})"
                outer = WEIGHT_RULE.apply(_ALGEBRA, delta, weight, operand)
                body.append(
                    f"_matmul_into({outer}, "
                    f"_dW_stack{k}[:, {c.start}:{c.stop}], _accumulate=_t_end < _T)"
                )
                if c.is_input:
                    product = OPERAND_RULE.apply(_ALGEBRA, delta, weight, operand)
                    body.append(
                        f"_matmul_into({product}, "
                        f"_dxs[_t:_t_end].reshape({rows}, _D), _accumulate={input_assigned})"
                    )
                    input_assigned = True
            body.append(f"_db_stack{k} += {BIAS_RULE.apply(_ALGEBRA, delta, '', '')}")
        for name, terms in self.chunked_parameters.items():
            for negative, rows, values in terms:
                operator = "-=" if negative else "+="
                if values is None:
                    total = f"{rows}.sum(axis=(0, 1))"
                else:
                    total = f'np.einsum("tbh,tbh->h", {rows}, {values})'
                body.append(f"_d_{name}_sum {operator} {total}")
        return [
            "if _chunk_step == 0:",
            "    # Steps t … t_end − 1 are done: fold them into the weight gradients.",
            *("    " + line for line in body),
        ]

    def backward_finish(self) -> list[str]:
        """Gradients of the halved rows are taken with respect to the halved weights: halve."""
        lines = []
        for k, ranges in self.halved_rows.items():
            for first, stop in ranges:
                rows = f"{_size(first, 0)}:{_size(stop, 0)}"
                lines.append(f"_dW_stack{k}[{rows}] *= 0.5")
                lines.append(f"_db_stack{k}[{rows}] *= 0.5")
        if lines:
            lines.insert(0, "# Halved rows: d(L)/d(W) = d(L)/d(W / 2) / 2.")
        return lines

    def gradient_entries(self) -> list[tuple[str, str]]:
        """Each parameter's gradient: the sum of its contributions (a bias shared by several
        linear maps, or a parameter used both as a bias and elementwise, has several)."""
        stacks = {"weight": "_dW_stack", "bias": "_db_stack"}
        terms: dict[str, list[str]] = {}
        for name, sources in self.plan.gradient_sources().items():
            terms[name] = [
                f"{stacks[kind]}{k}[{_size(position, 0)}:{_size(position + 1, 0)}]"
                for kind, k, position in sources
            ]
        for name in self.elementwise_params:
            terms[name].append(f"_d_{name}_sum")
        return [(name, " + ".join(terms[name])) for name in self.spec.parameter_names]

    def init_entries(self) -> tuple[list[str], list[tuple[str, str]]]:
        lines = []
        entries: dict[str, str] = {}
        for group in self.derivation.groups:
            k = group.index
            columns = self.columns(group.index)
            lines.append(
                f"_W_stack{k} = _rng.uniform(-_bound, _bound, size=({_size(len(group.maps), 0)}, "
                f"{columns[-1].stop})).astype(_dtype)"
            )
            biased = [m for m in group.maps if m.bias]
            if biased:
                rows = _size(len(group.maps), 0)
                lines.append(
                    f"_b_stack{k} = _rng.uniform(-_bound, _bound, size=({rows},)).astype(_dtype)"
                )
            # Drawn in spec order, so a seed gives the same values whatever the kernel's layout.
            for row, m in zip(_rows(_spec_order(group)), group.maps, strict=True):
                entries[m.weight] = f"_W_stack{k}[{row.start}:{row.stop}]"
                if m.bias:
                    entries[m.bias] = f"_b_stack{k}[{row.start}:{row.stop}]"
        for name in self.free_params:
            entries[name] = "_rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype)"
        return lines, [(name, entries[name]) for name in self.spec.parameter_names]

    def shape_entries(self) -> list[tuple[str, str]]:
        shapes = []
        for name in self.spec.parameter_names:
            shape = self.spec.parameter_shape(name)
            text = ", ".join(re.sub(r"(\d*)([HD])", _shape_size, part) for part in shape)
            shapes.append((name, f"({text},)" if len(shape) == 1 else f"({text})"))
        return shapes


def render_kernel(plan: KernelPlan | Derivation, source: str, command: str) -> str:
    """Render the NumPy kernel module of a cell.

    Parameters
    ----------
    plan : KernelPlan or Derivation
        The cell's kernel plan (planned here from a derivation).
    source : str
        The spec file, as it should be named in the header (relative path).
    command : str
        The command that regenerates the file, named in the header.

    Returns
    -------
    str
        Python source, ending in a newline.
    """
    if isinstance(plan, Derivation):
        plan = build_plan(plan)
    builder = _KernelBuilder(plan)
    derivation = plan.derivation
    spec = derivation.spec
    init_lines, init_entries = builder.init_entries()
    forward_step = builder.forward_step()
    backward_step = builder.backward_step()
    template = template_environment(__package__).get_template("kernel.py.jinja")
    return template.render(
        spec=spec,
        **module_preamble(spec, source, command),
        group_setup=builder.group_setup(),
        cache_setup=builder.cache_setup(),
        forward_step=forward_step,
        forward_buffers=builder.forward_buffers(),
        backward_setup=builder.backward_setup(),
        backward_step=backward_step,
        backward_buffers=builder.backward_buffers(),
        backward_finish=builder.backward_finish(),
        gradient_entries=builder.gradient_entries(),
        init_lines=init_lines,
        init_entries=init_entries,
        shape_entries=builder.shape_entries(),
        cached=[n for n in derivation.cached if not builder.is_linear_target(n)],
        groups=[g.index for g in derivation.groups],
        linear_stacks=[(g.operands, len(g.maps)) for g in derivation.groups],
        cached_groups=builder.cached_groups,
        chunked_forward=len(builder.cached_groups) < len(derivation.groups),
        elementwise_params=builder.elementwise_params,
        first_param=spec.parameter_names[0],
    )
