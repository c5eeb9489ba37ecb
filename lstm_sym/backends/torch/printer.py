"""Print a cell's derivation as a PyTorch module: one ``autograd.Function`` over a sequence.

The generated forward pass hoists the input projection of every step into one GEMM, runs
one matrix product per step and linear group, applies each run of same-kind activations
(``tanh``, ``sigmoid``) in place on the stacked pre-activations, and writes every history
the derived backward pass reads straight into its buffer (``out=``), nothing else.

The generated backward pass computes the forward-only factors of the adjoints for a block
of steps at once, leaving a few products per step; it folds the recurrent product into the
previous state's adjoint, and the weight gradients (accumulated transposed) and the input
gradient into one product per block of steps.

Every matrix product goes through the module's ``_gemm``: oneDNN's for large float32
products on the CPU (as ``nn.LSTM`` there), ``torch.addmm``/``torch.mm`` otherwise.

Everything this module needs from the derivation is read by :func:`torch_plan`, the single
place that would change when the backend-neutral plan takes over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sympy
from sympy.printing.pytorch import TorchPrinter

from ...derive.model import Derivation, ForwardValue, LinearGroup
from ...derive.reverse import seed_symbol
from ...plan.adjoint_factors import AdjointPlan, LinearForm
from ...plan.kernel_plan import KernelPlan, build_plan
from ...plan.stack_layout import ActivationBlock, activation_blocks, activation_kinds
from ...spec.model import CellSpec, LinearMap, previous
from ...templating import template_environment
from ..python_text import module_preamble

__all__ = [
    "TORCH_KERNELS_DIR",
    "TorchPlan",
    "render_torch_module",
    "torch_plan",
]

#: Folder (relative to the repository root) of the built-in cells' generated torch modules.
TORCH_KERNELS_DIR = "lstm_sym/torch_kernels"


# ---------------------------------------------------------------------------- the adapter


@dataclass(frozen=True)
class TorchGroup:
    """One linear group: members in stacked-row order and its activation runs."""

    index: int
    order: tuple[str, ...]
    maps: dict[str, LinearMap]
    operands: tuple[str, ...]
    blocks: tuple[ActivationBlock, ...]
    #: (value, row): values written with ``out=`` over the row of the one pre-activation
    #: they read, so that the stacked buffer, saved whole, holds them (see _in_place_rows).
    written_rows: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TorchPlan:
    """What the torch printer reads from a derivation (see :func:`torch_plan`)."""

    spec: CellSpec
    stages: tuple[ForwardValue | TorchGroup, ...]
    groups: tuple[TorchGroup, ...]
    cached: tuple[str, ...]
    adjoints: AdjointPlan
    parameter_adjoints: tuple[str, ...]


def torch_plan(plan: KernelPlan) -> TorchPlan:
    """Read everything the torch printer needs from a cell's kernel plan (the one adapter).

    Rows of each stacked group are ordered as the plan orders them (activation runs and rows
    fed by one adjoint adjacent). The plan must hold no halved rows (torch has a fused
    sigmoid): build it with ``build_plan(derivation, halve_sigmoid_rows=False)``.

    Raises
    ------
    ValueError
        If the plan halves sigmoid rows.
    """
    if plan.halved:
        raise ValueError(
            "the torch backend prints a plan without halved sigmoid rows: "
            "build_plan(derivation, halve_sigmoid_rows=False)"
        )
    derivation = plan.derivation
    groups = {}
    for stacked in plan.groups:
        blocks, written = _in_place_rows(derivation, stacked.group, stacked.row_order)
        groups[stacked.group.index] = TorchGroup(
            stacked.group.index,
            stacked.row_order,
            {m.target: m for m in stacked.group.maps},
            stacked.group.operands,
            blocks if blocks is not None else stacked.blocks,
            written,
        )
    stages: list[ForwardValue | TorchGroup] = []
    for stage in derivation.stages:
        stages.append(groups[stage.index] if isinstance(stage, LinearGroup) else stage)
    return TorchPlan(
        spec=derivation.spec,
        stages=tuple(stages),
        groups=tuple(groups[g.index] for g in derivation.groups),
        cached=derivation.cached,
        adjoints=plan.adjoints,
        parameter_adjoints=tuple(a.name for a in derivation.parameter_adjoints),
    )


def _in_place_rows(
    derivation: Derivation, group: LinearGroup, order: tuple[str, ...]
) -> tuple[tuple[ActivationBlock, ...] | None, tuple[tuple[str, int], ...]]:
    """Whether every row of a stacked group can end the step holding a value backward reads.

    A row qualifies when backward reads its pre-activation ``a`` itself, or when ``a`` is
    read once, by the equation of a cached value ``v`` (not a state), and backward never reads
    ``a``: ``v`` is then written over ``a`` (an activation in place, as in a block, or ``out=``
    the row). When every row of the group qualifies, the group's buffer, which forward fills
    anyway, is saved in place of one history per value: for the peephole LSTM, 7 buffers of
    (T, B, H) alive at the end of forward instead of 11.

    Returns
    -------
    blocks : tuple of ActivationBlock or None
        The activation runs, single rows included; None when not every row qualifies (keep
        the plan's blocks).
    written_rows : tuple of (str, int)
        The other qualifying rows' values and rows (empty when not every row qualifies).
    """
    states = set(derivation.spec.state_names)
    cached = set(derivation.cached)
    kinds = activation_kinds(derivation)
    readers: dict[str, list[ForwardValue]] = {}
    for stage in derivation.stages:
        if isinstance(stage, ForwardValue):
            for symbol in stage.expr.free_symbols:
                readers.setdefault(symbol.name, []).append(stage)
    written: list[tuple[str, int]] = []
    taken: set[str] = set()
    for row, target in enumerate(order):
        if target in kinds:
            taken.add(kinds[target][1])
            continue
        if target in cached and target not in states:
            continue  # the row holds a value backward reads as it is
        found = readers.get(target, [])
        value = found[0].target if len(found) == 1 else None
        if (
            value is None
            or value in taken
            or value in states
            or value not in cached
            or target in cached
            or target in states
        ):
            return None, ()
        taken.add(value)
        written.append((value, row))
    blocks = activation_blocks(group, order, kinds, minimum_rows=1)
    return tuple(blocks), tuple(written)


# ---------------------------------------------------------------------------- printing


class _Printer(TorchPrinter):  # type: ignore[misc]
    """SymPy's torch printer with ``_torch`` as the module, σ as ``_torch.sigmoid`` and renames."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__({"strict": True})
        self._names = names

    def _module_format(self, fqn: str, register: bool = True) -> str:
        text = str(super()._module_format(fqn, register))
        return "_" + text if text.startswith("torch.") else text

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return str(self._names.get(expr.name, expr.name))

    def _print_sigmoid(self, expr: sympy.Expr) -> str:
        return f"_torch.sigmoid({self._print(expr.args[0])})"

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        if exponent == 2:
            return f"_torch.square({self._print(base)})"
        return str(super()._print_Pow(expr))

    def _print_Add(self, expr: sympy.Add, order: str | None = None) -> str:
        # ``u*v + w`` → ``_torch.addcmul(w, u, v)``: one kernel instead of two.
        products: list[tuple[sympy.Expr, tuple[sympy.Expr, ...]]] = []
        rest: list[sympy.Expr] = []
        for term in expr.as_ordered_terms():
            coefficient, factors = term.as_coeff_mul()
            if len(factors) == 2 and coefficient in (1, -1) and not products:
                products.append((coefficient, factors))
            else:
                rest.append(term)
        if not products or not rest:
            return str(super()._print_Add(expr, order))
        coefficient, (u, v) = products[0]
        base = self._print(sympy.Add(*rest))
        value = ", value=-1" if coefficient == -1 else ""
        return f"_torch.addcmul({base}, {self._print(u)}, {self._print(v)}{value})"


def _code(expr: sympy.Expr, names: dict[str, str] | None = None) -> str:
    return str(_Printer(names or {}).doprint(expr))


def _one_call(code: str) -> bool:
    """Whether ``code`` is a single ``_torch.<name>(...)`` call (its last ``)`` closes it)."""
    if not code.startswith("_torch.") or not code.endswith(")") or "(" not in code:
        return False
    depth = 0
    for position in range(code.index("("), len(code)):
        depth += {"(": 1, ")": -1}.get(code[position], 0)
        if depth == 0:
            return position == len(code) - 1
    return False


def _code_into(expr: sympy.Expr, out: str) -> str:
    """Source computing ``expr`` straight into the tensor ``out`` (no temporary, no copy)."""
    code = _code(expr)
    if _one_call(code):
        return f"{code[:-1]}, out={out})"
    if isinstance(expr, sympy.Mul) and not expr.args[0].is_Number:
        first, rest = _code(expr.args[0]), _code(sympy.Mul(*expr.args[1:]))
        return f"_torch.mul({first}, {rest}, out={out})"
    return f"{out}.copy_({code})"


def _size(count: int, unit: str = "_H") -> str:
    if count == 0:
        return "0"
    return unit if count == 1 else f"{count} * {unit}"


def _span(first: int, stop: int) -> str:
    return f"{_size(first)}:{_size(stop)}"


def _rows(group: TorchGroup, first: int, stop: int) -> str | None:
    """Columns of rows ``first … stop − 1`` in a group's stacked buffer; None for all of them
    (no slice: one dispatch fewer per use, which counts in a one-row group's step)."""
    return None if (first, stop) == (0, len(group.order)) else _span(first, stop)


def _in_rows(buffer: str, group: TorchGroup, first: int, stop: int) -> str:
    """``buffer`` restricted to rows ``first … stop − 1`` of ``group``."""
    columns = _rows(group, first, stop)
    return buffer if columns is None else f"{buffer}[:, {columns}]"


# ---------------------------------------------------------------------------- the builder


@dataclass
class _History:
    """Where a forward quantity's values over all steps live: ``tensor[t + offset]``."""

    tensor: str
    offset: int = 0
    columns: str | None = None  # a row range of a stacked buffer

    def at_step(self, steps: str) -> str:
        index = "_t" if self.offset == 0 else "_t + 1"
        return f"{steps}[{index}]"

    def block(self, start: str, stop: str) -> str:
        shift = " + 1" if self.offset else ""
        columns = f", :, {self.columns}" if self.columns else ""
        return f"{self.tensor}[{start}{shift}:{stop}{shift}{columns}]"


@dataclass
class _Builder:
    plan: TorchPlan
    lines_forward: list[str] = field(default_factory=list)
    histories: dict[str, _History] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spec = self.plan.spec
        self.input = self.spec.input_name
        self.states = self.spec.state_names
        self.row_of: dict[str, tuple[TorchGroup, int]] = {
            target: (group, position)
            for group in self.plan.groups
            for position, target in enumerate(group.order)
        }
        self.block_outputs: dict[str, tuple[TorchGroup, int]] = {}
        for group in self.plan.groups:
            for block in group.blocks:
                for offset, output in enumerate(block.outputs):
                    self.block_outputs[output] = (group, block.first + offset)
        self.written_rows: dict[str, tuple[TorchGroup, int]] = {
            name: (group, row) for group in self.plan.groups for name, row in group.written_rows
        }
        in_rows = {**self.block_outputs, **self.written_rows}
        cached = set(self.plan.cached)
        self.saved_groups = sorted(
            {
                self.row_of[name][0].index if name in self.row_of else in_rows[name][0].index
                for name in cached
                if name in self.row_of or name in in_rows
            }
        )
        self.listed = [
            name for name in self.plan.cached if name not in self.row_of and name not in in_rows
        ]
        self.listed = [name for name in self.listed if name not in self.states]
        for name in self.states:
            self.histories[previous(name)] = _History(f"_{name}_seq", 0)
            self.histories[name] = _History(f"_{name}_seq", 1)
        for name in self.listed:
            self.histories[name] = _History(f"_{name}_seq")
        for name, (group, position) in list(self.row_of.items()) + list(in_rows.items()):
            if group.index in self.saved_groups and name not in self.histories:
                if name in self.row_of and any(name == b_out for b_out in self.block_outputs):
                    continue
                self.histories[name] = _History(
                    f"_a{group.index}_seq", 0, _rows(group, position, position + 1)
                )
        self.histories[self.input] = _History("_xs")
        self.parameters = set(self.spec.parameter_names)
        # Rows whose pre-activation a block overwrites before anything reads it, and rows a
        # value is written over after its one reader: neither is readable afterwards.
        self.activated = {
            group.order[block.first + k]
            for group in self.plan.groups
            for block in group.blocks
            for k in range(len(block.outputs))
        }
        overwritten = self.activated | {
            group.order[row] for group, row in self.written_rows.values()
        }
        for name in overwritten:
            if name in self.histories and name not in in_rows:
                del self.histories[name]

    # -- forward ---------------------------------------------------------------------------

    def group_setup(self) -> list[str]:
        lines = []
        for group in self.plan.groups:
            k = group.index
            maps = [group.maps[t] for t in group.order]
            lines.append(
                f"# Linear maps on [{', '.join(group.operands)}], stacked: one GEMM per step."
            )
            lines.append(f"_W{k} = _torch.cat(({', '.join(m.weight for m in maps)},))")
            biases = [m.bias or "_xs.new_zeros((_H,))" for m in maps]
            lines.append(f"_b{k} = _torch.cat(({', '.join(biases)},))")
        return lines

    def columns(self, group: TorchGroup) -> list[tuple[str, str]]:
        """(operand, column range as source) of a group's stacked weight."""
        n_h = n_d = 0
        result = []
        for operand in group.operands:
            start = " + ".join(p for p in (_size(n_h), _size(n_d, "_D")) if p != "0") or "0"
            if operand == self.input:
                n_d += 1
            else:
                n_h += 1
            stop = " + ".join(p for p in (_size(n_h), _size(n_d, "_D")) if p != "0")
            result.append((operand, f"{start}:{stop}"))
        return result

    def forward_setup(self) -> list[str]:
        lines = []
        for group in self.plan.groups:
            k = group.index
            width = _size(len(group.order))
            hoisted = [c for o, c in self.columns(group) if o == self.input]
            if hoisted:
                lines.append("# The input projection of every step at once, bias included.")
                lines.append(
                    f"_a{k}_seq = _gemm(_xs.reshape(_T * _B, _D), "
                    f"_W{k}[:, {hoisted[0]}].contiguous(), _b{k}).view(_T, _B, {width})"
                )
            else:
                lines.append(f"_a{k}_seq = _b{k}.expand(_T, _B, {width}).contiguous()")
            lines.append(f"_a{k}_steps = _a{k}_seq.unbind(0)")
            for operand, columns in self.columns(group):
                if operand != self.input:
                    lines.append(f"_W{k}_{operand} = _weight(_W{k}[:, {columns}].contiguous(), _B)")
        # Every history the backward pass reads, written in place step by step.
        for name in self.states:
            lines.append(f"_{name}_seq = _xs.new_empty((_T + 1, _B, _H))")
            lines.append(f"_{name}_seq[0] = {previous(name)}")
            lines.append(f"_{name}_seq_out = _{name}_seq.unbind(0)")
        for name in self.listed:
            lines.append(f"_{name}_seq = _xs.new_empty((_T, _B, _H))")
            lines.append(f"_{name}_seq_out = _{name}_seq.unbind(0)")
        return lines

    def slot(self, name: str) -> str | None:
        """This step's row of the history buffer of ``name``, if forward keeps one."""
        if name in self.states:
            return f"_{name}_seq_out[_t + 1]"
        if name in self.listed:
            return f"_{name}_seq_out[_t]"
        if name in self.written_rows:
            group, row = self.written_rows[name]
            return _in_rows(f"_a{group.index}", group, row, row + 1)
        return None

    def forward_step(self) -> list[str]:
        lines = []
        written: set[str] = set()
        used: set[str] = set()
        for stage in self.plan.stages:
            if isinstance(stage, ForwardValue):
                used |= {s.name for s in stage.expr.free_symbols}
        used |= set(self.states)
        if self.input in used:
            lines.append(f"{self.input} = _xs_steps[_t]")
        for stage in self.plan.stages:
            if isinstance(stage, TorchGroup):
                k = stage.index
                lines.append(f"_a{k} = _a{k}_steps[_t]")
                for operand in stage.operands:
                    if operand != self.input:
                        lines.append(f"_gemm({operand}, _W{k}_{operand}, _a{k}, _a{k})")
                for block in stage.blocks:
                    kinds: list[tuple[str, int, int]] = []
                    for offset in range(block.stop - block.first):
                        row = block.first + offset
                        kind = (
                            "sigmoid"
                            if any(a <= row < b for a, b in block.sigmoid_rows)
                            else "tanh"
                        )
                        if kinds and kinds[-1][0] == kind:
                            kinds[-1] = (kind, kinds[-1][1], row + 1)
                        else:
                            kinds.append((kind, row, row + 1))
                    names = ", ".join(block.outputs)
                    lines.append(f"# {names}: activations in place, one call per kind.")
                    for kind, first, stop in kinds:
                        lines.append(f"{_in_rows(f'_a{k}', stage, first, stop)}.{kind}_()")
                for position, target in enumerate(stage.order):
                    if target in used and target not in self.activated:
                        lines.append(
                            f"{target} = {_in_rows(f'_a{k}', stage, position, position + 1)}"
                        )
                for block in stage.blocks:
                    for offset, output in enumerate(block.outputs):
                        if output in used:
                            row = block.first + offset
                            lines.append(f"{output} = {_in_rows(f'_a{k}', stage, row, row + 1)}")
                continue
            if stage.target in self.block_outputs:
                continue
            slot = self.slot(stage.target)
            if slot is None:
                lines.append(f"{stage.target} = {_code(stage.expr)}")
            else:
                lines.append(f"{stage.target} = {_code_into(stage.expr, slot)}")
                written.add(stage.target)
        for name in [*self.listed, *self.states]:
            slot = self.slot(name)
            if name not in written and slot is not None:
                lines.append(f"{slot}.copy_({name})")
        for name in self.states:
            lines.append(f"{previous(name)} = {name}")
        return lines

    def saved(self) -> list[str]:
        """Names of the tensors forward saves for backward, after ``_xs`` and the parameters."""
        names = [f"_{s}_seq" for s in self.states] + [f"_{v}_seq" for v in self.listed]
        return names + [f"_a{k}_seq" for k in self.saved_groups]

    def forward_finish(self) -> list[str]:
        return []

    # -- backward --------------------------------------------------------------------------

    def factor_names(self) -> dict[str, str]:
        return {f.name: f"_fac_t[:, {f.index}]" for f in self.plan.adjoints.factors}

    def forward_names_used(self, exprs: Iterable[sympy.Expr]) -> set[str]:
        names: set[str] = set()
        for expr in exprs:
            names |= {s.name for s in expr.free_symbols}
        return names

    def history(self, name: str) -> _History:
        if name not in self.histories:
            raise ValueError(
                f"cell {self.spec.name!r}: the backward pass reads {name!r}, which the "
                "forward pass does not keep"
            )
        return self.histories[name]

    def factor_block(self) -> list[str]:
        factors = self.plan.adjoints.factors
        if not factors:
            return []
        lines = []
        names = self.forward_names_used(f.expr for f in factors) - self.parameters
        for name in sorted(names):
            lines.append(f"{name} = {self.history(name).block('_t0', '_t + 1')}")
        lines.append("_fac_block = _fac[: _t + 1 - _t0]")
        for factor in factors:
            lines.append(f"# {factor.name} = {sympy.sstr(factor.expr)}")
            slot = f"_fac_block[:, :, {factor.index}]"
            if {s.name for s in factor.expr.free_symbols} - self.parameters:
                lines.append(_code_into(factor.expr, slot))
            else:  # parameters only: broadcast over the block
                lines.append(f"{slot} = {_code(factor.expr)}")
        return lines

    def step_sources(self) -> dict[str, str]:
        """Per-step tensors of forward values the per-step forms read (name → steps list)."""
        plan = self.plan.adjoints
        exprs = [form.expr for name, form in plan.forms.items() if name not in self.chunked]
        factor_symbols = {f.name for f in plan.factors}
        names = self.forward_names_used(exprs) - factor_symbols - self.parameters
        names = {n for n in names if not n.startswith("d_")}
        return {name: self.history(name).tensor for name in sorted(names)}

    @property
    def chunked(self) -> dict[str, list[tuple[str, sympy.Expr]]]:
        """Parameter adjoints summed per block: every term a stacked row times a plain value."""
        result = {}
        for name in self.plan.parameter_adjoints:
            form = self.plan.adjoints.forms[name]
            terms = []
            for term in form.terms:
                source = term.source.name[2:]
                coefficient = term.coefficient
                bare = coefficient.as_coeff_Mul()[1]
                if source not in self.row_of or not (bare.is_Symbol or bare.is_Number):
                    break
                if bare.is_Symbol and (
                    bare.name in self.parameters or bare.name.startswith("fac_")
                ):
                    break
                terms.append((source, coefficient))
            else:
                result[name] = terms
        return result

    def backward_setup(self) -> list[str]:
        lines = []
        plan = self.plan.adjoints
        for group in self.plan.groups:
            k = group.index
            width = _size(len(group.order))
            lines.append(f"_da{k}_chunk = _xs.new_empty((min(_T, _steps), _B, {width}))")
            lines.append(f"_da{k}_steps = _da{k}_chunk.unbind(0)")
            lines.append(f"_db{k} = _xs.new_zeros(({width},))")
            for operand, columns in self.columns(group):
                size = "_D" if operand == self.input else "_H"
                # Transposed, (operand size, rows): the product reads the block's adjoints
                # as its contiguous second factor, with no transposed copy of them.
                lines.append(f"_dW{k}_{operand} = _xs.new_zeros(({size}, {width}))")
                transposed = f"_W{k}[:, {columns}].t().contiguous()"
                if operand != self.input:  # used at every step: packed once for B rows
                    transposed = f"_weight({transposed}, _B)"
                lines.append(f"_W{k}_{operand}_T = {transposed}")
        if plan.factors:
            lines.append(f"_fac = _xs.new_empty((min(_T, _steps), _B, {len(plan.factors)}, _H))")
            lines.append("_fac_steps = _fac.unbind(0)")
        for name in self.plan.parameter_adjoints:
            shape = "(_H,)" if name in self.chunked else "(_B, _H)"
            lines.append(f"_dp_{name} = _xs.new_zeros({shape})")
        seen = set()
        for tensor in self.step_sources().values():
            if tensor not in seen:
                lines.append(f"{tensor}_steps = {tensor}.unbind(0)")
                seen.add(tensor)
        return lines

    def step_bindings(self) -> list[str]:
        lines = [f"_da{g.index} = _da{g.index}_steps[_s]" for g in self.plan.groups]
        for name in self.step_sources():
            history = self.history(name)
            value = history.at_step(f"{history.tensor}_steps")
            if history.columns:
                value += f"[:, {history.columns}]"
            lines.append(f"{name} = {value}")
        return lines

    def backward_step(self) -> list[str]:
        """Statements of one backward step, in an order that respects every dependency."""
        plan = self.plan.adjoints
        names = self.factor_names()
        output = self.spec.output_state
        lines: list[str] = []
        rows = {t for g in self.plan.groups for t in g.order}
        runs = {
            target: (k, first, stop, source)
            for k, group_runs in plan.row_runs.items()
            for first, stop, source in group_runs
            for target in self.plan.groups[[g.index for g in self.plan.groups].index(k)].order[
                first:stop
            ]
        }
        prevs = [previous(s) for s in self.states]
        chunked = self.chunked
        items = [name for name in plan.forms if name not in chunked]
        placeholders: dict[str, tuple[int, str]] = {}
        for group in self.plan.groups:
            for operand in group.operands:
                placeholders[f"d_{operand}__stack{group.index}"] = (group.index, operand)
        use_count: dict[str, int] = {}
        for name in items:
            for term in plan.forms[name].terms:
                if term.source.name in placeholders:
                    use_count[term.source.name] = use_count.get(term.source.name, 0) + 1
        done: set[str] = set()
        materialised: set[str] = set()
        bound_rows: set[str] = set()

        def ready(name: str) -> bool:
            for term in plan.forms[name].terms:
                source = term.source.name
                if source in placeholders:
                    k = placeholders[source][0]
                    group = next(g for g in self.plan.groups if g.index == k)
                    if not all(t in done for t in group.order):
                        return False
                elif (
                    source.startswith("d_") and source[2:] in plan.forms and source[2:] not in done
                ):
                    if source[2:] not in chunked:
                        return False
            return True

        def source_code(symbol: sympy.Symbol) -> str:
            source = symbol.name
            if source in placeholders and source not in materialised:
                k, operand = placeholders[source]
                lines.append(f"{source} = _gemm(_da{k}, _W{k}_{operand}_T)")
                materialised.add(source)
            if source[2:] in rows and source not in bound_rows:
                group, position = self.row_of[source[2:]]
                lines.append(f"{source} = _da{group.index}[:, {_span(position, position + 1)}]")
                bound_rows.add(source)
            return str(source)

        def coefficient_code(coefficient: sympy.Expr) -> str:
            return _code(coefficient, names)

        def emit(name: str, out: str | None, extra: str | None = None) -> str:
            """Emit ``Σ terms`` (plus ``extra``) into ``out`` or a fresh tensor; return its name."""
            form: LinearForm = plan.forms[name]
            gemms = []
            products = []
            for term in form.terms:
                source = term.source.name
                if source in placeholders and use_count.get(source) == 1 and term.coefficient == 1:
                    gemms.append(placeholders[source])
                else:
                    products.append(term)
            products.sort(
                key=lambda t: (
                    0
                    if t.coefficient == 1
                    else (2 if t.coefficient.could_extract_minus_sign() else 1)
                )
            )
            target = out or f"_v_{name}"
            out_arg = f", out={out})" if out else ")"  # closes a call, into ``out`` if given

            def store(value: str) -> None:
                lines.append(value if out else f"{target} = {value}")

            current: str | None = extra
            fresh = False
            comment = f"# d_{name} = {sympy.sstr(form.expr)}" + (f" + {extra}" if extra else "")
            lines.append(comment)
            for term in products:
                src = source_code(term.source)
                coefficient = term.coefficient
                negative = coefficient.could_extract_minus_sign()
                bare = -coefficient if negative else coefficient
                if current is None:
                    if bare == 1:
                        if negative:
                            value = f"_torch.neg({src}{out_arg}"
                        elif out:
                            value = f"{out}.copy_({src})"
                        else:
                            current, fresh = src, False
                            continue
                    else:
                        factor = coefficient_code(bare)
                        value = f"_torch.mul({src}, {factor}{out_arg}"
                        if negative:
                            value += ".neg_()"
                    store(value)
                    current, fresh = target, True
                    continue
                alpha = ", value=-1" if negative else ""
                if bare.is_Number:
                    alpha = f", alpha={_code(coefficient)}" if coefficient != 1 else ""
                    call = ("add_", "add")
                    args = f"{src}{alpha}"
                else:
                    call = ("addcmul_", "addcmul")
                    args = f"{src}, {coefficient_code(bare)}{alpha}"
                if fresh:
                    lines.append(f"{target}.{call[0]}({args})")
                else:
                    store(f"_torch.{call[1]}({current}, {args}{out_arg}")
                    current, fresh = target, True
            for k, operand in gemms:
                if current is None:
                    store(f"_gemm(_da{k}, _W{k}_{operand}_T{out_arg}")
                elif fresh:
                    lines.append(f"_gemm(_da{k}, _W{k}_{operand}_T, {target}, {target})")
                else:
                    store(f"_gemm(_da{k}, _W{k}_{operand}_T, {current}{out_arg}")
                current, fresh = target, True
            if current is None:
                store(f"{out}.zero_()" if out else "_torch.zeros_like(_zero)")
                current = target
            return current

        pending = list(items)
        while pending:
            found = next((n for n in pending if ready(n)), None)
            if found is None:
                raise ValueError(f"cell {self.spec.name!r}: the backward step has a cycle")
            name = found
            if name in runs:
                k, first, stop, source = runs[name]
                group = next(g for g in self.plan.groups if g.index == k)
                members = group.order[first:stop]
                if not all(ready(m) for m in members):
                    pending.remove(name)
                    pending.append(name)
                    continue
                slot = plan.factor_of(plan.forms[members[0]].terms[0].coefficient)
                assert slot is not None
                src = source_code(source)
                lines.append(f"# d_{', d_'.join(members)} = d_{source.name[2:]} * factors, at once")
                lines.append(
                    f"_torch.mul({src}.unsqueeze(1), "
                    f"_fac_t[:, {slot.index}:{slot.index + stop - first}], "
                    f"out=_da{k}.view(_B, {len(group.order)}, _H)[:, {first}:{stop}])"
                )
                for member in members:
                    pending.remove(member)
                    done.add(member)
                continue
            pending.remove(name)
            done.add(name)
            if name in rows:
                group, position = self.row_of[name]
                emit(name, f"_da{group.index}[:, {_span(position, position + 1)}]")
            elif name in self.plan.parameter_adjoints:
                form = plan.forms[name]
                lines.append(f"# d_{name} += {sympy.sstr(form.expr)}")
                for term in form.terms:
                    src = source_code(term.source)
                    coefficient = term.coefficient
                    if coefficient.is_Number:
                        lines.append(f"_dp_{name}.add_({src}, alpha={_code(coefficient)})")
                    else:
                        lines.append(f"_dp_{name}.addcmul_({src}, {coefficient_code(coefficient)})")
            elif name in prevs:
                state = name[: -len("_prev")]
                extra = "_dh_next" if state == output else None
                result = emit(name, None, extra)
                lines.append(f"_carry_{state} = {result}")
            else:
                result = emit(name, None)
                if result != f"d_{name}":
                    lines.append(f"d_{name} = {result}")
        for state in self.states:
            lines.append(f"{seed_symbol(state).name} = _carry_{state}")
        return lines

    def chunk_fold(self) -> list[str]:
        lines = []
        dxs_started = False
        for group in self.plan.groups:
            k = group.index
            lines.append(
                f"_da{k}_flat = _da{k}_chunk[: _t_end - _t].reshape(_n, {_size(len(group.order))})"
            )
            lines.append(f"_db{k} += _da{k}_flat.sum(0)")
            for operand, _columns in self.columns(group):
                if operand == self.input:
                    history = "_xs[_t:_t_end].reshape(_n, _D)"
                    if dxs_started:
                        lines.append(
                            f"_gemm(_da{k}_flat, _W{k}_{operand}_T, _dxs_chunk, _dxs_chunk)"
                        )
                    else:
                        lines.append("_dxs_chunk = _dxs[_t:_t_end].view(_n, _D)")
                        lines.append(f"_gemm(_da{k}_flat, _W{k}_{operand}_T, out=_dxs_chunk)")
                        dxs_started = True
                else:
                    history = self.history(operand).block("_t", "_t_end") + ".reshape(_n, _H)"
                lines.append(
                    f"_gemm({history}.t(), _da{k}_flat.t(), _dW{k}_{operand}, _dW{k}_{operand})"
                )
        if not dxs_started:
            lines.append("_dxs[_t:_t_end].zero_()")
        for name, terms in self.chunked.items():
            for source, coefficient in terms:
                group, position = self.row_of[source]
                rows = f"_da{group.index}_chunk[: _t_end - _t, :, {_span(position, position + 1)}]"
                negative = coefficient.could_extract_minus_sign()
                bare = -coefficient if negative else coefficient
                if bare.is_Number:
                    value = f"{rows}.sum((0, 1))" + (f" * {_code(bare)}" if bare != 1 else "")
                else:
                    value = (
                        f"({rows} * {self.history(bare.name).block('_t', '_t_end')}).sum((0, 1))"
                    )
                lines.append(f"_dp_{name} {'-=' if negative else '+='} {value}")
        return lines

    def gradients(self) -> list[tuple[str, str]]:
        """(parameter, source of its gradient) in parameter order."""
        result = []
        for name in self.spec.parameter_names:
            found = None
            for group in self.plan.groups:
                for position, target in enumerate(group.order):
                    linear_map = group.maps[target]
                    rows = _span(position, position + 1)
                    if linear_map.weight == name:
                        parts = [f"_dW{group.index}_{o}[:, {rows}].t()" for o in group.operands]
                        found = (
                            f"{parts[0]}.contiguous()"
                            if len(parts) == 1
                            else f"_torch.cat(({', '.join(parts)}), 1)"
                        )
                    elif linear_map.bias == name:
                        found = f"_db{group.index}[{rows}]"
            if found is None and name in self.plan.parameter_adjoints:
                found = f"_dp_{name}" if name in self.chunked else f"_dp_{name}.sum(0)"
            result.append((name, found or f"_torch.zeros_like({name})"))
        return result

    def shapes(self) -> list[tuple[str, str]]:
        result = []
        for name in self.spec.parameter_names:
            shape = self.spec.parameter_shape(name)
            text = ", ".join(_shape_source(dim) for dim in shape)
            result.append((name, f"({text},)" if len(shape) == 1 else f"({text})"))
        return result


def _shape_source(dim: str) -> str:
    parts = []
    for term in dim.split("+"):
        term = term.strip()
        count, unit = term[:-1], term[-1]
        parts.append(f"{count} * _{unit}" if count else f"_{unit}")
    return " + ".join(parts)


def render_torch_module(plan: KernelPlan | Derivation, source: str, command: str) -> str:
    """Render the PyTorch module of a cell.

    Parameters
    ----------
    plan : KernelPlan or Derivation
        The cell's kernel plan without halved rows (planned here from a derivation).
    source : str
        The spec file, as named in the header.
    command : str
        The command that regenerates the file, named in the header.

    Returns
    -------
    str
        Python source importing only torch, ending in a newline.
    """
    if isinstance(plan, Derivation):
        plan = build_plan(plan, halve_sigmoid_rows=False)
    torch = torch_plan(plan)
    builder = _Builder(torch)
    spec = torch.spec
    template = template_environment("lstm_sym.backends.torch").get_template("module.py.jinja")
    backward_step = builder.backward_step()
    return template.render(
        spec=spec,
        **module_preamble(spec, source, command),
        group_setup=builder.group_setup(),
        forward_setup=builder.forward_setup(),
        forward_step=builder.forward_step(),
        forward_finish=builder.forward_finish(),
        saved=builder.saved(),
        uses_input_per_step=any(
            spec.input_name in {s.name for s in st.expr.free_symbols}
            for st in torch.stages
            if isinstance(st, ForwardValue)
        ),
        backward_setup=builder.backward_setup(),
        factor_block=builder.factor_block(),
        step_bindings=builder.step_bindings(),
        backward_step=backward_step,
        chunk_fold=builder.chunk_fold(),
        gradients=builder.gradients(),
        shapes=builder.shapes(),
        seeds=[seed_symbol(s).name for s in spec.state_names],
    )
