"""Stacks against torch: nn.LSTM / nn.GRU with num_layers=2, bidirectional, packed sequences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from lstm_sym.interop.torch import (
    stack_params_from_torch,
    stack_params_to_torch,
    stack_state_from_torch,
    stack_state_to_torch,
)
from lstm_sym.layers import Stack
from lstm_sym.verify.torch_oracle import TORCH_TOLERANCE

T, B, D, H = 6, 4, 3, 5
LENGTHS = np.array([4, 6, 1, 4])  # unsorted, repeated, one full, one of a single step
CELLS = ["lstm", "gru_torch"]


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) / scale if scale else 0.0


def _torch_run(
    module: torch.nn.Module,
    xs: np.ndarray,
    state: dict[str, np.ndarray],
    lengths: np.ndarray | None,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Run ``module`` (packed when lengths are given); return outputs, inputs and states."""
    x = torch.tensor(xs, requires_grad=True)
    converted = stack_state_to_torch(state)
    initial_tensors = converted if isinstance(converted, tuple) else (converted,)
    initial = {
        n: t.requires_grad_(True)
        for n, t in zip(sorted(state, key="hC".index), initial_tensors, strict=True)
    }
    hx: Any = tuple(initial.values()) if len(initial) == 2 else initial["h"]
    if lengths is None:
        out, final = module(x, hx)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.tensor(lengths), enforce_sorted=False
        )
        packed_out, final = module(packed, hx)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, total_length=xs.shape[0])
    finals = final if isinstance(final, tuple) else (final,)
    return out, x, initial, dict(zip(sorted(state, key="hC".index), finals, strict=True))


@pytest.fixture(scope="module", params=CELLS)
def agreement(request: pytest.FixtureRequest) -> dict[str, float]:
    """Relative differences between a 2-layer bidirectional stack and torch, with lengths."""
    cell = request.param
    stack = Stack(cell, D, H, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(0)
    params = stack.init_params(seed=1)
    xs = rng.standard_normal((T, B, D))
    state = {n: rng.standard_normal((4, B, H)) for n in stack.state_names}
    outputs, final, cache = stack.forward(xs, params, state, lengths=LENGTHS)
    doutputs = rng.standard_normal(outputs.shape)
    dstate = {n: rng.standard_normal(v.shape) for n, v in final.items()}
    grads, input_grads = stack.backward(doutputs, cache, dstate)

    module = stack_params_to_torch(params)
    out, x, initial, torch_final = _torch_run(module, xs, state, LENGTHS)
    loss = (out * torch.tensor(doutputs)).sum() + sum(
        (torch_final[n] * torch.tensor(dstate[n])).sum() for n in dstate
    )
    loss.backward()
    # torch's gradients in the stack's layout: the summed biases take bias_ih's gradient.
    with torch.no_grad():
        holder = stack_params_to_torch(params)
        for (name, p), (_, q) in zip(
            module.named_parameters(), holder.named_parameters(), strict=True
        ):
            assert p.grad is not None
            q.copy_(p.grad)
            if name.startswith("bias_hh"):
                q[: (2 if cell == "gru_torch" else 4) * H] = 0
    torch_grads = stack_params_from_torch(holder)
    errors = {"outputs": _relative(outputs, out.detach().numpy())}
    errors.update(
        {f"final {n}": _relative(final[n], torch_final[n].detach().numpy()) for n in final}
    )
    errors.update({f"d{k}": _relative(grads[k], torch_grads[k]) for k in grads})
    assert x.grad is not None
    errors["dxs"] = _relative(input_grads["xs"], x.grad.numpy())
    for n, tensor in initial.items():
        assert tensor.grad is not None
        errors[f"d{n}0"] = _relative(input_grads[f"{n}0"], tensor.grad.numpy())
    errors["padded outputs"] = float(np.abs(outputs[np.arange(T)[:, None] >= LENGTHS]).max())
    return errors


def test_outputs_match_torch_packed_sequences(agreement: dict[str, float]) -> None:
    """The stack's outputs equal torch's padded packed outputs to 1e-10 (float64)."""
    assert agreement["outputs"] < TORCH_TOLERANCE
    assert agreement["padded outputs"] == 0.0


def test_final_states_match_torch_packed_sequences(agreement: dict[str, float]) -> None:
    """Every layer's and direction's final state equals torch's h_n (and c_n) to 1e-10."""
    finals = {k: v for k, v in agreement.items() if k.startswith("final ")}
    assert finals and max(finals.values()) < TORCH_TOLERANCE


def test_parameter_gradients_match_torch_autograd(agreement: dict[str, float]) -> None:
    """Every parameter gradient of every layer and direction equals torch autograd's."""
    params = {k: v for k, v in agreement.items() if k.startswith("dl")}
    assert len(params) == 4 * 8
    assert max(params.values()) < TORCH_TOLERANCE, max(params, key=params.__getitem__)


def test_input_and_initial_state_gradients_match_torch(agreement: dict[str, float]) -> None:
    """The gradients of xs and of the initial state equal torch autograd's."""
    inputs = {k: v for k, v in agreement.items() if k in ("dxs", "dh0", "dC0")}
    assert "dxs" in inputs and "dh0" in inputs
    assert max(inputs.values()) < TORCH_TOLERANCE


@pytest.mark.parametrize("cell", CELLS)
def test_full_length_batch_matches_torch_without_packing(cell: str) -> None:
    """Without lengths, outputs and final states equal an unpacked torch call (float32 too)."""
    stack = Stack(cell, D, H, num_layers=2, bidirectional=True)
    params = stack.init_params(seed=2, dtype=np.float32)
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((T, B, D)).astype(np.float32)
    state = {n: rng.standard_normal((4, B, H)).astype(np.float32) for n in stack.state_names}
    outputs, final, _ = stack.forward(xs, params, state)
    out, _, _, torch_final = _torch_run(stack_params_to_torch(params), xs, state, None)
    assert _relative(outputs, out.detach().numpy()) < 1e-5
    assert all(_relative(final[n], torch_final[n].detach().numpy()) < 1e-5 for n in final)


@pytest.mark.parametrize(
    "module",
    [
        torch.nn.LSTM(D, H, num_layers=3, bidirectional=True, dtype=torch.float64),
        torch.nn.GRU(D, H, num_layers=2, dtype=torch.float64),
    ],
    ids=["lstm-3-bidirectional", "gru-2"],
)
def test_mapping_round_trips_both_ways_exactly(module: torch.nn.Module) -> None:
    """torch -> params drives the stack like the module; params -> torch -> params is exact."""
    params = stack_params_from_torch(module)  # type: ignore[arg-type]
    cell = "lstm" if isinstance(module, torch.nn.LSTM) else "gru_torch"
    stack = Stack(cell, D, H, module.num_layers, module.bidirectional)  # type: ignore[arg-type]
    assert list(params) == list(stack.parameter_names)
    again = stack_params_from_torch(stack_params_to_torch(params))
    assert all(np.array_equal(params[k], again[k]) for k in params)
    xs = np.random.default_rng(3).standard_normal((T, B, D))
    with torch.no_grad():
        expected = module(torch.tensor(xs))[0].numpy()
    assert _relative(stack.forward(xs, params)[0], expected) < TORCH_TOLERANCE


def test_stack_params_to_torch_names_a_bad_key_and_a_mismatched_module() -> None:
    """A wrong layer shape names the full key; a module of other sizes is refused."""
    params = Stack("lstm", D, H, num_layers=2, bidirectional=True).init_params(seed=4)
    bad = {**params, "l1_reverse.b_o": np.zeros(H + 1)}
    with pytest.raises(ValueError, match=r"params\['l1_reverse.b_o'\] must have shape \(5,\)"):
        stack_params_to_torch(bad)
    with pytest.raises(ValueError, match=r"unexpected keys \['l0.extra'\]"):
        stack_params_to_torch({**params, "l0.extra": params["l1.W_f"]})
    with pytest.raises(ValueError, match=r"params need \(3, 5, 2, True\)"):
        stack_params_to_torch(params, torch.nn.LSTM(D, H, num_layers=2))


def test_stack_state_round_trips_through_torch() -> None:
    """A stack state becomes torch's (h_0, c_0) / h_0 of the same layout and comes back equal."""
    rng = np.random.default_rng(5)
    state = {"h": rng.standard_normal((4, B, H)), "C": rng.standard_normal((4, B, H))}
    h0, c0 = stack_state_to_torch(state)  # type: ignore[misc]
    back = stack_state_from_torch(h0, c0)
    assert all(np.array_equal(state[k], back[k]) for k in state)
    gru_back = stack_state_from_torch(stack_state_to_torch({"h": state["h"]}))  # type: ignore[arg-type]
    assert list(gru_back) == ["h"] and np.array_equal(gru_back["h"], state["h"])
    with pytest.raises(ValueError, match=r"c_n must have the shape of h_n"):
        stack_state_from_torch(h0, c0[:2])
