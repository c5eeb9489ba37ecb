"""lstm_sym.nn.Recurrent against lstm_sym.layers.Stack, nn.LSTM and nn.GRU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_sym.layers import Stack
from lstm_sym.nn import Recurrent, load_torch_module, sequence_function
from lstm_sym.regenerate import repository_root, user_artifacts, write_files

T, B, D, H = 6, 4, 3, 5
LENGTHS = [4, 6, 1, 4]  # unsorted, repeated, one full, one of a single step


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_matches_stack_with_lengths(cell: str) -> None:
    """Two bidirectional layers with lengths: outputs, states and gradients equal Stack's."""
    torch.manual_seed(0)
    model = Recurrent(cell, D, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    stack = Stack(cell, D, H, num_layers=2, bidirectional=True)
    params = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, B, D))
    state = {k: rng.standard_normal((4, B, H)) for k in stack.state_names}
    outputs, final, cache = stack.forward(xs, params, state, lengths=LENGTHS)
    doutputs = rng.standard_normal(outputs.shape)
    grads, input_grads = stack.backward(doutputs, cache)
    t_xs = torch.tensor(xs, requires_grad=True)
    t_state = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
    t_outputs, t_final = model(t_xs, t_state, lengths=LENGTHS)
    (t_outputs * torch.tensor(doutputs)).sum().backward()
    np.testing.assert_allclose(t_outputs.detach().numpy(), outputs, rtol=0, atol=1e-12)
    assert not t_outputs[LENGTHS[2] :, 2].any()  # zeros past the end
    for name in stack.state_names:
        np.testing.assert_allclose(t_final[name].detach().numpy(), final[name], rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            t_state[name].grad.numpy(), input_grads[f"{name}0"], rtol=0, atol=1e-12
        )
    np.testing.assert_allclose(t_xs.grad.numpy(), input_grads["xs"], rtol=0, atol=1e-12)
    for key, value in model.named_parameters():
        np.testing.assert_allclose(value.grad.numpy(), grads[key], rtol=0, atol=1e-12, err_msg=key)


def test_parameter_names_are_the_stacks() -> None:
    """Named parameters are Stack's keys (l0.W_f, l0_reverse.W_f, …) with its shapes."""
    model = Recurrent("peephole_lstm", D, H, num_layers=2, bidirectional=True)
    stack = Stack("peephole_lstm", D, H, num_layers=2, bidirectional=True)
    shapes = {k: tuple(v.shape) for k, v in model.named_parameters()}
    assert shapes == stack.parameter_shapes()


@pytest.mark.parametrize("kind", [torch.nn.LSTM, torch.nn.GRU])
def test_from_torch_reproduces_the_module(kind: type[torch.nn.Module]) -> None:
    """from_torch of a 2-layer bidirectional batch-first module gives its outputs and states."""
    torch.manual_seed(1)
    reference = kind(D, H, num_layers=2, bidirectional=True, batch_first=True).double()
    model = Recurrent.from_torch(reference)
    xs = torch.randn(B, T, D, dtype=torch.float64)
    expected, expected_state = reference(xs)
    got, state = model(xs)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    h_n = expected_state[0] if isinstance(expected_state, tuple) else expected_state
    torch.testing.assert_close(state["h"], h_n, rtol=0, atol=1e-12)
    if isinstance(expected_state, tuple):
        torch.testing.assert_close(state["C"], expected_state[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru_torch"])
def test_to_torch_round_trip(cell: str) -> None:
    """to_torch builds an nn module whose outputs are the Recurrent's."""
    torch.manual_seed(2)
    model = Recurrent(cell, D, H, num_layers=2, dtype=torch.float64)
    module = model.to_torch()
    xs = torch.randn(T, B, D, dtype=torch.float64)
    torch.testing.assert_close(module(xs)[0], model(xs)[0], rtol=0, atol=1e-12)


def test_to_torch_refuses_other_cells() -> None:
    """A cell torch has no module for cannot be converted; the error names it."""
    with pytest.raises(ValueError, match="peephole_lstm"):
        Recurrent("peephole_lstm", D, H).to_torch()


def test_sequence_function_of_a_generated_file(tmp_path: Path) -> None:
    """sequence_function accepts the path of a user cell's generated torch module."""
    spec = repository_root() / "examples" / "mgu.cell"
    write_files(user_artifacts(spec).files, tmp_path)
    f = sequence_function(tmp_path / "mgu_torch.py")
    params = {
        name: torch.randn(shape, dtype=torch.float64)
        for name, shape in {"W_f": (H, H + D), "b_f": (H,), "W_h": (H, H + D), "b_h": (H,)}.items()
    }
    xs = torch.randn(T, B, D, dtype=torch.float64)
    hs, state = f(xs, params)
    # One MGU step by hand: f = σ(W_f [h, x] + b_f), h' = (1 − f) h + f tanh(W_h [f h, x] + b_h).
    h = torch.zeros(B, H, dtype=torch.float64)
    for x in xs:
        gate = torch.sigmoid(torch.cat([h, x], 1) @ params["W_f"].T + params["b_f"])
        candidate = torch.tanh(torch.cat([gate * h, x], 1) @ params["W_h"].T + params["b_h"])
        h = (1 - gate) * h + gate * candidate
    torch.testing.assert_close(state["h"], h, rtol=0, atol=1e-12)
    torch.testing.assert_close(hs[-1], h, rtol=0, atol=1e-12)


def test_unknown_cell_lists_the_known() -> None:
    """An unknown cell name is refused with the list of built-in cells."""
    with pytest.raises(KeyError, match="gru_torch"):
        Recurrent("nope", D, H)


def test_docs_example_runs() -> None:
    """docs/examples/torch_module.py (shown on the kernels page) runs and its gradcheck holds."""
    import os
    import subprocess
    import sys

    root = repository_root()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p),
    )
    result = subprocess.run(
        [sys.executable, str(root / "docs" / "examples" / "torch_module.py")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_a_file_without_the_generated_header_is_refused_before_it_runs(tmp_path: Path) -> None:
    """load_torch_module refuses a path whose first line is not the generated header, unrun."""
    marker = tmp_path / "ran"
    impostor = tmp_path / "impostor.py"
    impostor.write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a kernel generated by"):
        load_torch_module(impostor)
    assert not marker.exists()
