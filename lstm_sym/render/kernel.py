"""Render a derivation into a NumPy kernel module (``lstm_sym/kernels/<cell>.py``).

The Python side works out every cell-specific line (stacked weights, hoisted projections,
the per-step forward and backward statements printed from SymPy); the Jinja2 template
``kernel.py.jinja`` holds the fixed structure (validation, public API, docstrings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from ..derive.model import Derivation, ForwardValue, LinearGroup
from ..derive.reverse import seed_symbol
from ..spec.model import CellSpec, Equation, LinearMap, previous
from .environment import template_environment
from .inplace import InPlaceEmitter
from .printers import numpy_code

__all__ = ["equation_text", "render_kernel"]


def _size(n_h: int, n_d: int) -> str:
    """Format ``n_h·H + n_d·D`` as Python source (``"2 * H + D"``, ``"0"``)."""
    parts = []
    if n_h:
        parts.append("H" if n_h == 1 else f"{n_h} * H")
    if n_d:
        parts.append("D" if n_d == 1 else f"{n_d} * D")
    return " + ".join(parts) if parts else "0"


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


def _columns(spec: CellSpec, group: LinearGroup) -> list[_Columns]:
    n_h = n_d = 0
    columns = []
    for operand in group.operands:
        is_input = operand == spec.input_name
        start = _size(n_h, n_d)
        if is_input:
            n_d += 1
        else:
            n_h += 1
        columns.append(
            _Columns(operand, start, _size(n_h, n_d), "D" if is_input else "H", is_input)
        )
    return columns


def _rows(group: LinearGroup) -> list[_StackView]:
    return [_StackView(m.target, _size(k, 0), _size(k + 1, 0)) for k, m in enumerate(group.maps)]


def _history(spec: CellSpec, name: str) -> str:
    """Source of an operand's values at steps ``t … t_end − 1`` (weight-gradient GEMMs)."""
    if name == spec.input_name:
        return "xs[t:t_end]"
    if name.endswith("_prev"):
        return f"{name[: -len('_prev')]}_seq[t:t_end]"
    return f"{name}_seq[t:t_end]"


class _KernelBuilder:
    def __init__(self, derivation: Derivation) -> None:
        self.derivation = derivation
        self.spec = derivation.spec
        self.cached = set(derivation.cached)
        self.states = set(self.spec.state_names)
        self.elementwise_params = [a.name for a in derivation.parameter_adjoints]
        vector_params = set(self.spec.parameter_names)
        for group in derivation.groups:
            for linear_map in group.maps:
                vector_params.discard(linear_map.weight)
                vector_params.discard(linear_map.bias or "")
        self.free_params = [p for p in self.spec.parameter_names if p in vector_params]
        # Where each linear-map target lives: the rows of its group's stacked pre-activations.
        self.linear_rows: dict[str, tuple[int, _StackView]] = {
            row.name: (group.index, row) for group in derivation.groups for row in _rows(group)
        }
        # Groups whose pre-activations the backward pass reads (``d_r = a_hn ⊙ …`` in a
        # GRU of the torch form): their ``a_stack<k>_seq`` is kept in the cache.
        self.cached_groups = sorted(
            {self.linear_rows[n][0] for n in derivation.cached if n in self.linear_rows}
        )
        self.forward_emitter = InPlaceEmitter()
        self.backward_emitter = InPlaceEmitter()
        self.adjoint_buffers: list[str] = []
        self.parameter_step_buffers: list[str] = []
        self.operand_buffers: list[str] = []

    # -- forward ----------------------------------------------------------------------------
    def group_setup(self) -> list[str]:
        """Stack each group's weights and hoist its input projection out of the loop."""
        lines: list[str] = []
        spec = self.spec
        for group in self.derivation.groups:
            k = group.index
            rows = len(group.maps)
            weights = ", ".join(f'params["{m.weight}"]' for m in group.maps)
            lines.append(f"# Linear maps on [{', '.join(group.operands)}], stacked: one GEMM.")
            lines.append(f"W_stack{k} = np.concatenate(({weights},), axis=0)")
            biases = []
            for m in group.maps:
                biases.append(f'params["{m.bias}"]' if m.bias else "np.zeros(H, dtype)")
            lines.append(f"b_stack{k} = np.concatenate(({', '.join(biases)},))")
            columns = _columns(spec, group)
            hoisted = [c for c in columns if c.is_input]
            width = _size(rows, 0)
            if k in self.cached_groups:
                # The backward pass reads these pre-activations: project every step at once.
                if hoisted:
                    c = hoisted[0]
                    lines.append(
                        f"a_stack{k}_seq = np.matmul(xs.reshape(T * B, D), "
                        f"W_stack{k}[:, {c.start}:{c.stop}].T).reshape(T, B, {width})"
                    )
                    lines.append(f"a_stack{k}_seq += b_stack{k}")
                else:
                    lines.append(
                        f"a_stack{k}_seq = np.broadcast_to(b_stack{k}, (T, B, {width})).copy()"
                    )
            else:
                if hoisted:
                    c = hoisted[0]
                    lines.append(f"W_stack{k}_{c.operand}_T = W_stack{k}[:, {c.start}:{c.stop}].T")
                lines.append(f"a_stack{k}_chunk = np.empty((min(T, steps), B, {width}), dtype)")
            for c in columns:
                if not c.is_input:
                    lines.append(f"W_stack{k}_{c.operand}_T = W_stack{k}[:, {c.start}:{c.stop}].T")
            if any(not c.is_input for c in columns):
                lines.append(f"product{k} = np.empty((B, {width}), dtype)")
        return lines

    def cache_setup(self) -> list[str]:
        return [
            f"{name}_seq = np.empty((T, B, H), dtype)"
            for name in self.derivation.cached
            if not self.is_linear_target(name)
        ]

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
            chunk = f"a_stack{k}_chunk[: t_end - t]"
            hoisted = [c for c in _columns(self.spec, group) if c.is_input]
            if hoisted:
                c = hoisted[0]
                body.append(
                    f"np.matmul(xs[t:t_end].reshape((t_end - t) * B, D), "
                    f"W_stack{k}_{c.operand}_T, out={chunk}.reshape((t_end - t) * B, {width}))"
                )
                body.append(f"{chunk} += b_stack{k}")
            else:
                body.append(f"{chunk} = b_stack{k}")
        if not body:
            return []
        return [
            "chunk_step = t % steps",
            "if chunk_step == 0:",
            "    # Input projection of the chunk's steps at once, hoisted out of the step.",
            "    t_end = min(T, t + steps)",
            *("    " + line for line in body),
        ]

    def forward_step(self) -> list[str]:
        lines: list[str] = self.chunk_projection()
        for state in self.spec.state_names:
            lines.append(f"{previous(state)} = {state}_seq[t]")
        for stage in self.derivation.stages:
            if isinstance(stage, LinearGroup):
                k = stage.index
                if k in self.cached_groups:
                    lines.append(f"a_stack{k} = a_stack{k}_seq[t]")
                else:
                    lines.append(f"a_stack{k} = a_stack{k}_chunk[chunk_step]")
                for c in _columns(self.spec, stage):
                    if not c.is_input:
                        lines.append(
                            f"np.matmul({c.operand}, W_stack{k}_{c.operand}_T, out=product{k})"
                        )
                        lines.append(f"a_stack{k} += product{k}")
                for row in _rows(stage):
                    if row.name in self.states:
                        lines.append(f"{row.name} = {row.name}_seq[t + 1]")
                        lines.append(f"{row.name}[...] = a_stack{k}[:, {row.start}:{row.stop}]")
                    else:
                        lines.append(f"{row.name} = a_stack{k}[:, {row.start}:{row.stop}]")
                continue
            lines += self.assign_forward(stage)
        return lines

    def assign_forward(self, stage: ForwardValue) -> list[str]:
        """Compute a value in place into its cache slot, its state slot or its own buffer."""
        target = stage.target
        lines = []
        if target in self.states:
            lines.append(f"{target} = {target}_seq[t + 1]")
        elif target in self.cached:
            lines.append(f"{target} = {target}_seq[t]")
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
        names += [f"work{k}" for k in range(self.forward_emitter.scratch_needed)]
        return [f"{name} = np.empty((B, H), dtype)" for name in names]

    # -- backward ---------------------------------------------------------------------------
    def backward_setup(self) -> list[str]:
        lines = [f'a_stack{k}_seq = cache["a_stack{k}_seq"]' for k in self.cached_groups]
        for group in self.derivation.groups:
            k = group.index
            width = _size(len(group.maps), 0)
            lines.append(f'W_stack{k} = cache["W_stack{k}"]')
            lines.append(f"da_stack{k}_chunk = np.empty((min(T, steps), B, {width}), dtype)")
            lines.append(f"dW_stack{k} = np.zeros_like(W_stack{k})")
            lines.append(f"db_stack{k} = np.zeros({width}, dtype)")
            for c in _columns(self.spec, group):
                if not c.is_input:
                    lines.append(f"W_stack{k}_{c.operand} = W_stack{k}[:, {c.start}:{c.stop}]")
        for name in self.elementwise_params:
            lines.append(f'{name} = cache["params"]["{name}"]')
            lines.append(f"d_{name}_sum = np.zeros(H, dtype)")
        return lines

    def backward_buffers(self) -> list[str]:
        """Step buffers of seeds, adjoints and scratch arrays (after :meth:`backward_step`)."""
        names = [f"{seed_symbol(s).name}" for s in self.spec.state_names]
        names += self.adjoint_buffers + self.operand_buffers + self.parameter_step_buffers
        names += [f"work{k}" for k in range(self.backward_emitter.scratch_needed)]
        return [f"{name} = np.empty((B, H), dtype)" for name in names]

    def backward_step(self) -> list[str]:
        derivation = self.derivation
        lines: list[str] = []
        needed: set[str] = set()
        for adjoint in derivation.adjoints + derivation.parameter_adjoints:
            needed |= {s.name for s in adjoint.expr.free_symbols}
        for adjoint in derivation.previous_state_adjoints:
            if not (adjoint.expr.is_Symbol and "__stack" in adjoint.expr.name):
                needed |= {s.name for s in adjoint.expr.free_symbols}
        for state in self.spec.state_names:
            if previous(state) in needed:
                lines.append(f"{previous(state)} = {state}_seq[t]")
            if state in needed:
                lines.append(f"{state} = {state}_seq[t + 1]")
        for name in derivation.cached:
            if name not in needed:
                continue
            if self.is_linear_target(name):
                k, row = self.linear_rows[name]
                lines.append(f"{name} = a_stack{k}_seq[t, :, {row.start}:{row.stop}]")
            else:
                lines.append(f"{name} = {name}_seq[t]")
        # A previous state whose adjoint is exactly one transposed-weight product gets that
        # product written straight into its carry buffer (no copy).
        direct = {
            adjoint.expr.name: f"d_{adjoint.name[: -len('_prev')]}_carry"
            for adjoint in derivation.previous_state_adjoints
            if adjoint.expr.is_Symbol and "__stack" in adjoint.expr.name
        }
        output = self.spec.output_state
        lines.append("chunk_step = t % steps")
        for state in self.spec.state_names:
            seed = seed_symbol(state).name
            if state == output:
                lines.append(f"np.add(dhs[t], d_{state}_carry, out={seed})")
            else:
                lines.append(f"np.copyto({seed}, d_{state}_carry)")
        for stage in reversed(derivation.stages):
            if isinstance(stage, LinearGroup):
                k = stage.index
                lines.append(f"da_stack{k} = da_stack{k}_chunk[chunk_step]")
                for row in _rows(stage):
                    adjoint = derivation.adjoint(row.name)
                    lines.append(f"{adjoint.symbol.name} = da_stack{k}[:, {row.start}:{row.stop}]")
                    lines += self.assign_backward(adjoint.symbol.name, adjoint.expr)
                for c in _columns(self.spec, stage):
                    if c.is_input:
                        continue
                    buffer = f"d_{c.operand}__stack{k}"
                    product = f"np.matmul(da_stack{k}, W_stack{k}_{c.operand}, out={{}})"
                    if buffer in direct:
                        lines.append(product.format(direct[buffer]))
                        if buffer in needed:
                            lines.append(f"{buffer} = {direct[buffer]}")
                    else:
                        self.operand_buffers.append(buffer)
                        lines.append(product.format(buffer))
                continue
            if stage.equation is None:
                continue
            adjoint = derivation.adjoint(stage.target)
            name = adjoint.symbol.name
            if adjoint.expr.is_Symbol:
                lines.append(f"{name} = {adjoint.expr.name}")
                continue
            self.adjoint_buffers.append(name)
            lines += self.assign_backward(name, adjoint.expr)
        for adjoint in derivation.parameter_adjoints:
            buffer = f"d_{adjoint.name}_step"
            self.parameter_step_buffers.append(buffer)
            lines += self.assign_backward(buffer, adjoint.expr)
            lines.append(f"d_{adjoint.name}_sum += {buffer}.sum(axis=0)")
        for adjoint in derivation.previous_state_adjoints:
            if adjoint.expr.is_Symbol and adjoint.expr.name in direct:
                continue
            state = adjoint.name[: -len("_prev")]
            lines += self.assign_backward(f"d_{state}_carry", adjoint.expr)
        return lines + self.fold_weight_gradients()

    def assign_backward(self, out: str, expr: sympy.Expr) -> list[str]:
        """In-place statements for one adjoint, with the formula as a comment when it helps."""
        body = self.backward_emitter.emit(expr, out)
        if len(body) > 1:
            return [f"# {out} = {numpy_code(expr)}", *body]
        return body

    def fold_weight_gradients(self) -> list[str]:
        """When a chunk of steps is done, add its weight gradients: one GEMM per block."""
        body = ["t_end = min(T, t + steps)"]
        input_assigned = False
        for group in self.derivation.groups:
            k = group.index
            width = _size(len(group.maps), 0)
            rows = "(t_end - t) * B"
            body.append(
                f"da_stack{k}_flat = da_stack{k}_chunk[: t_end - t].reshape({rows}, {width})"
            )
            for c in _columns(self.spec, group):
                history = _history(self.spec, c.operand)
                body.append(
                    f"dW_stack{k}[:, {c.start}:{c.stop}] += "
                    f"np.matmul(da_stack{k}_flat.T, {history}.reshape((t_end - t) * B, {c.width}))"
                )
                if c.is_input:
                    operator = "+=" if input_assigned else "="
                    input_assigned = True
                    body.append(
                        f"dxs[t:t_end] {operator} np.matmul(da_stack{k}_flat, "
                        f"W_stack{k}[:, {c.start}:{c.stop}]).reshape(t_end - t, B, D)"
                    )
            body.append(f"db_stack{k} += da_stack{k}_flat.sum(axis=0)")
        return [
            "if chunk_step == 0:",
            "    # Steps t … t_end − 1 are done: fold them into the weight gradients.",
            *("    " + line for line in body),
        ]

    def gradient_entries(self) -> list[tuple[str, str]]:
        entries: dict[str, str] = {}
        for group in self.derivation.groups:
            k = group.index
            for row, m in zip(_rows(group), group.maps, strict=True):
                entries[m.weight] = f"dW_stack{k}[{row.start}:{row.stop}]"
                if m.bias:
                    entries[m.bias] = f"db_stack{k}[{row.start}:{row.stop}]"
        for name in self.elementwise_params:
            entries[name] = f"d_{name}_sum"
        return [(name, entries[name]) for name in self.spec.parameter_names]

    def init_entries(self) -> tuple[list[str], list[tuple[str, str]]]:
        lines = []
        entries: dict[str, str] = {}
        for group in self.derivation.groups:
            k = group.index
            columns = _columns(self.spec, group)
            lines.append(
                f"W_stack{k} = rng.uniform(-bound, bound, size=({_size(len(group.maps), 0)}, "
                f"{columns[-1].stop})).astype(dtype)"
            )
            biased = [m for m in group.maps if m.bias]
            if biased:
                lines.append(
                    f"b_stack{k} = rng.uniform(-bound, bound, size=({_size(len(group.maps), 0)},))"
                    ".astype(dtype)"
                )
            for row, m in zip(_rows(group), group.maps, strict=True):
                entries[m.weight] = f"W_stack{k}[{row.start}:{row.stop}]"
                if m.bias:
                    entries[m.bias] = f"b_stack{k}[{row.start}:{row.stop}]"
        for name in self.free_params:
            entries[name] = "rng.uniform(-bound, bound, size=(H,)).astype(dtype)"
        return lines, [(name, entries[name]) for name in self.spec.parameter_names]

    def shape_entries(self) -> list[tuple[str, str]]:
        shapes = []
        for name in self.spec.parameter_names:
            shape = self.spec.parameter_shape(name)
            text = ", ".join(re.sub(r"(\d+)([HD])", r"\1 * \2", part) for part in shape)
            shapes.append((name, f"({text},)" if len(shape) == 1 else f"({text})"))
        return shapes


def render_kernel(derivation: Derivation, source: str, command: str) -> str:
    """Render the NumPy kernel module of ``derivation``.

    Parameters
    ----------
    derivation : Derivation
        The cell's forward stages and adjoints.
    source : str
        The spec file, as it should be named in the header (relative path).
    command : str
        The command that regenerates the file, named in the header.

    Returns
    -------
    str
        Python source, ending in a newline.
    """
    builder = _KernelBuilder(derivation)
    spec = derivation.spec
    init_lines, init_entries = builder.init_entries()
    forward_step = builder.forward_step()
    backward_step = builder.backward_step()
    template = template_environment().get_template("kernel.py.jinja")
    return template.render(
        spec=spec,
        source=source,
        command=command,
        equations=[equation_text(e) for e in spec.equations],
        group_setup=builder.group_setup(),
        cache_setup=builder.cache_setup(),
        forward_step=forward_step,
        forward_buffers=builder.forward_buffers(),
        backward_setup=builder.backward_setup(),
        backward_step=backward_step,
        backward_buffers=builder.backward_buffers(),
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


def equation_text(equation: Equation) -> str:
    """Plain-text form of a spec equation (``a_f = W_f @ [h_prev, x] + b_f``)."""
    if isinstance(equation, LinearMap):
        bias = f" + {equation.bias}" if equation.bias else ""
        return f"{equation.target} = {equation.weight} @ [{', '.join(equation.operands)}]{bias}"
    return f"{equation.target} = {sympy.sstr(equation.display, order='none')}"
