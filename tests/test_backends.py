"""Adding a backend is one printer and one registration: a toy backend defined in this test."""

from __future__ import annotations

import types
from collections.abc import Iterator

import numpy as np
import pytest
import sympy
from sympy.printing.pycode import PythonCodePrinter

from lstm_sym.artifacts import render_cell
from lstm_sym.backends import Backend, register, registered, unregister
from lstm_sym.derive.model import LinearGroup
from lstm_sym.plan.kernel_plan import KernelPlan
from lstm_sym.spec import builtin_cell_names, load_builtin
from lstm_sym.spec.model import previous
from lstm_sym.verify.gradcheck import kernel_from_source


class _UnitPrinter(PythonCodePrinter):  # type: ignore[misc]
    """Python for one unit ``k``: a symbol ``v`` is ``v[k]``, σ is ``sigmoid``."""

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return f"{expr.name}[k]"

    def _print_sigmoid(self, expr: sympy.Expr) -> str:
        return f"sigmoid({self._print(expr.args[0])})"


def _render_loops(plan: KernelPlan, source: str, command: str) -> str:
    """The forward pass only, as plain Python loops over steps, batch rows and units."""
    spec = plan.spec
    printer = _UnitPrinter({"standard": "python3"})
    states = list(spec.state_names)
    lines = [
        f"# Toy backend: {source}, {command}",
        "import math",
        "def sigmoid(a):",
        "    return 1.0 / (1.0 + math.exp(-a))",
        "def forward(xs, params, state):",
        f"    H = len(params[{spec.parameter_names[0]!r}])",
        "    current = {name: [list(row) for row in rows] for name, rows in state.items()}",
        "    hs = []",
        "    for xs_t in xs:",
        "        out = []",
        "        new = {name: [] for name in current}",
        "        for b, x_row in enumerate(xs_t):",
        f"            {spec.input_name} = list(x_row)",
    ]
    for name in spec.parameter_names:
        lines.append(f"            {name} = params[{name!r}]")
    for state in states:
        lines.append(f"            {previous(state)} = current[{state!r}][b]")
    for stage in plan.stages:
        if isinstance(stage, LinearGroup):
            for m in stage.maps:
                operands = " + ".join(stage.operands)
                bias = f" + {m.bias}[k]" if m.bias else ""
                lines.append(
                    f"            {m.target} = [sum(w * v for w, v in zip({m.weight}[k], "
                    f"{operands})){bias} for k in range(H)]"
                )
            continue
        expr = printer.doprint(stage.expr)
        lines.append(f"            {stage.target} = [{expr} for k in range(H)]")
    for state in states:
        lines.append(f"            new[{state!r}].append({state})")
    lines += [
        f"            out.append({spec.output_state})",
        "        hs.append(out)",
        "        current = new",
        "    return hs, current",
    ]
    return "\n".join(lines) + "\n"


TOY = Backend(name="toy-loops", render=_render_loops, user_path=lambda cell: f"{cell}_loops.py")


@pytest.fixture
def toy_backend() -> Iterator[Backend]:
    """The toy backend, registered for the test only."""
    register(TOY)
    try:
        yield TOY
    finally:
        unregister(TOY.name)


@pytest.mark.parametrize("cell", ["lstm", "gru_torch", "peephole_lstm"])
def test_toy_backend_forward_matches_the_numpy_kernel(toy_backend: Backend, cell: str) -> None:
    """A backend registered in a test renders a cell whose forward pass equals NumPy's."""
    spec = load_builtin(cell)
    files = render_cell(spec, f"{cell}.cell", "test", builtin=False).files
    toy = types.ModuleType("toy")
    exec(compile(files[f"{cell}_loops.py"], "<toy backend>", "exec"), toy.__dict__)  # generated
    kernel = kernel_from_source(files[f"{cell}.py"], cell)
    rng = np.random.default_rng(3)
    xs = rng.normal(size=(4, 2, 3))
    params = kernel.init_params(3, 5, seed=1)
    params = {k: v + rng.normal(scale=0.1, size=v.shape) for k, v in params.items()}
    state = {s: rng.normal(size=(2, 5)) for s in kernel.STATE_NAMES}
    hs, final, _ = kernel.forward(xs, params, state)
    toy_hs, toy_final = toy.forward(xs.tolist(), {k: v.tolist() for k, v in params.items()}, state)
    np.testing.assert_allclose(np.array(toy_hs), hs, rtol=1e-12, atol=1e-12)
    for name in kernel.STATE_NAMES:
        np.testing.assert_allclose(np.array(toy_final[name]), final[name], rtol=1e-12, atol=1e-12)


def test_a_backend_without_a_user_path_writes_no_user_file(toy_backend: Backend) -> None:
    """render_cell writes a backend's file only where the backend names a path."""
    files = render_cell(load_builtin("rnn"), "rnn.cell", "test", builtin=True).files
    assert not any(path.endswith("_loops.py") for path in files)
    assert "lstm_sym/kernels/rnn.py" in files


def test_registering_a_taken_name_is_refused() -> None:
    """A second backend under a registered name is an error naming it."""
    taken = registered()[0].name
    with pytest.raises(ValueError, match=taken):
        register(Backend(name=taken))


def test_every_builtin_cell_has_a_file_per_backend_that_renders_one() -> None:
    """Each registered per-cell backend names a distinct built-in path for every cell."""
    paths = [
        b.builtin_path(cell)
        for b in registered()
        if b.builtin_path is not None
        for cell in builtin_cell_names()
    ]
    assert paths and len(paths) == len(set(paths))
