"""The generated torch modules: the derived backward against finite differences and NumPy."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from lstm_sym.backends.numpy.printer import render_kernel
from lstm_sym.backends.torch import TORCH_KERNELS_DIR, render_torch_module
from lstm_sym.derive import derive
from lstm_sym.kernels import load_kernel
from lstm_sym.nn import load_torch_module
from lstm_sym.regenerate import repository_root
from lstm_sym.spec import builtin_cell_names, load_builtin, parse_spec_file
from lstm_sym.verify.gradcheck import kernel_from_source

ROOT = repository_root()
USER_SPEC = ROOT / "examples" / "mgu.cell"
CELLS = [*builtin_cell_names(), "user:mgu"]
#: Seven steps of three sequences, two steps per block (_BLOCK_ROWS 6 // B 3): the backward
#: pass starts, ends and crosses blocks (7 = 2 + 2 + 2 + 1).
T, B, D, H = 7, 3, 4, 5


@cache
def _user_modules() -> tuple[ModuleType, ModuleType]:
    derivation = derive(parse_spec_file(USER_SPEC))
    torch_source = render_torch_module(derivation, "mgu.cell", "test")
    numpy_source = render_kernel(derivation, "mgu.cell", "test")
    return kernel_from_source(torch_source, "mgu_torch"), kernel_from_source(numpy_source, "mgu")


def _modules(cell: str) -> tuple[ModuleType, ModuleType]:
    """(torch module, NumPy kernel) of a built-in cell or of the user spec."""
    if cell.startswith("user:"):
        return _user_modules()
    return load_torch_module(cell), load_kernel(cell)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of two steps in every module of these tests (restored afterwards)."""
    for cell in CELLS:
        module, kernel = _modules(cell)
        monkeypatch.setattr(module, "_BLOCK_ROWS", 2 * B)
        monkeypatch.setattr(kernel, "_CHUNK_ROWS", 2 * B)


def _problem(
    kernel: ModuleType, seed: int = 0
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = kernel.init_params(D, H, seed=seed)
    # Away from the initial scale, so that gates saturate differently per unit.
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}
    xs = rng.standard_normal((T, B, D))
    state = {name: 0.5 * rng.standard_normal((B, H)) for name in kernel.STATE_NAMES}
    return xs, params, state


@pytest.mark.parametrize("cell", CELLS)
def test_agrees_with_numpy_kernel(cell: str, small_blocks: None) -> None:
    """Outputs, final state and every gradient equal the NumPy kernel's within 1e-12 (float64)."""
    module, kernel = _modules(cell)
    xs, params, state = _problem(kernel)
    hs, final, numpy_cache = kernel.forward(xs, params, state)
    rng = np.random.default_rng(1)
    dhs = rng.standard_normal(hs.shape)
    dstate = {name: rng.standard_normal((B, H)) for name in kernel.STATE_NAMES}
    expected = kernel.backward(dhs, numpy_cache, dstate)
    t_xs = torch.tensor(xs, requires_grad=True)
    t_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    t_state = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
    t_hs, t_final = module.forward(t_xs, t_params, t_state)
    loss = (t_hs * torch.tensor(dhs)).sum()
    loss = loss + sum((t_final[k] * torch.tensor(dstate[k])).sum() for k in dstate)
    loss.backward()
    got = {"hs": t_hs, "xs": t_xs.grad}
    want = {"hs": hs, "xs": expected["xs"]}
    for name in kernel.STATE_NAMES:
        got[f"final {name}"], want[f"final {name}"] = t_final[name], final[name]
        got[f"{name}0"], want[f"{name}0"] = t_state[name].grad, expected[f"{name}0"]
    for name in kernel.PARAMETER_NAMES:
        got[name], want[name] = t_params[name].grad, expected[name]
    for key, value in want.items():
        assert got[key] is not None, key
        np.testing.assert_allclose(
            got[key].detach().numpy(), value, rtol=0, atol=1e-12, err_msg=key
        )


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck(cell: str, small_blocks: None) -> None:
    """torch.autograd.gradcheck (finite differences, float64) passes for every input tensor."""
    module, kernel = _modules(cell)
    xs, params, state = _problem(kernel, seed=2)
    inputs = [torch.tensor(xs)]
    inputs += [torch.tensor(params[name]) for name in module.PARAMETER_NAMES]
    inputs += [torch.tensor(state[name]) for name in module.STATE_NAMES]
    for tensor in inputs:
        tensor.requires_grad_()
    assert torch.autograd.gradcheck(module.SequenceFunction.apply, inputs, eps=1e-6, atol=1e-7)


def test_float32_follows_float64() -> None:
    """In float32 the LSTM runs in float32 and stays within 1e-5 of its float64 result."""
    module, kernel = _modules("lstm")
    xs, params, _ = _problem(kernel)
    results = {}
    for dtype in (torch.float32, torch.float64):
        t_xs = torch.tensor(xs, dtype=dtype, requires_grad=True)
        t_params = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}
        hs, _ = module.forward(t_xs, t_params)
        hs.square().sum().backward()
        assert hs.dtype == dtype and t_xs.grad is not None and t_xs.grad.dtype == dtype
        results[dtype] = (hs.detach().double(), t_xs.grad.double(), t_params["W_f"].grad.double())
    for low, high in zip(results[torch.float32], results[torch.float64], strict=True):
        torch.testing.assert_close(low, high, rtol=0, atol=1e-5)


def test_state_carries_across_calls() -> None:
    """Two calls chained through the state give the outputs and gradients of one call."""
    module, kernel = _modules("peephole_lstm")
    xs, params, state = _problem(kernel)
    runs = []
    for split in (None, 3):
        t_xs = torch.tensor(xs, requires_grad=True)
        t_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        t_state = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
        if split is None:
            hs, final = module.forward(t_xs, t_params, t_state)
        else:
            first, middle = module.forward(t_xs[:split], t_params, t_state)
            second, final = module.forward(t_xs[split:], t_params, middle)
            hs = torch.cat([first, second])
        (hs.sin().sum() + final["C"].square().sum()).backward()
        runs.append([hs, final["C"], t_xs.grad, t_params["p_f"].grad, t_state["C"].grad])
    for one, two in zip(*runs, strict=True):
        torch.testing.assert_close(one, two, rtol=0, atol=1e-12)


def test_wrong_dtype_is_refused_with_the_name() -> None:
    """A parameter of another dtype than xs is refused, naming the parameter."""
    module, kernel = _modules("gru")
    xs, params, _ = _problem(kernel)
    t_params = {k: torch.tensor(v) for k, v in params.items()}
    t_params["W_z"] = t_params["W_z"].float()
    with pytest.raises(TypeError, match=r"params\['W_z'\]"):
        module.forward(torch.tensor(xs), t_params)


@pytest.mark.parametrize(
    "path", sorted((ROOT / TORCH_KERNELS_DIR).glob("[!_]*.py")), ids=lambda p: p.stem
)
def test_generated_module_imports_only_torch(path: Path) -> None:
    """A committed torch module imports torch and nothing else (besides __future__)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported == {"__future__", "torch"}


def test_every_builtin_cell_has_a_torch_module() -> None:
    """lstm_sym/torch_kernels holds one generated module per built-in spec."""
    found = {p.stem for p in (ROOT / TORCH_KERNELS_DIR).glob("[!_]*.py")}
    assert found == set(builtin_cell_names())


def test_missing_torch_names_the_extra() -> None:
    """Without torch, importing lstm_sym.nn says which extra to install."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "try:\n import lstm_sym.nn\nexcept ImportError as e:\n print(e)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    assert 'pip install "lstm_sym[torch]"' in result.stdout


@pytest.mark.parametrize("cell", CELLS)
def test_forward_saves_only_the_histories_backward_reads(cell: str) -> None:
    """Beyond the inputs, forward saves one history per state and per cached value, no more
    (a stacked buffer is saved only when every one of its rows holds such a value)."""
    module, _ = _modules(cell)
    derivation = (
        derive(parse_spec_file(USER_SPEC))
        if cell.startswith("user:")
        else derive(load_builtin(cell))
    )
    xs = torch.randn(T, B, D, dtype=torch.float64, requires_grad=True)
    params = {
        name: torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        for name, shape in module.parameter_shapes(D, H).items()
    }
    hs, _ = module.forward(xs, params)
    saved = hs.grad_fn.saved_tensors[1 + len(params) :]
    states = derivation.spec.state_names
    values = [name for name in derivation.cached if name not in states]
    allowed = (len(values) * T + len(states) * (T + 1)) * B * H
    assert sum(tensor.numel() for tensor in saved) <= allowed
