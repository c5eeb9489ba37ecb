"""The LSTM kernel against torch.nn.LSTM, and the parameter/state helpers between them."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable

import numpy as np
import pytest
import torch

from lstm_sym.interop.torch import (
    params_from_torch,
    params_to_torch,
    state_from_torch,
    state_to_torch,
)
from lstm_sym.kernels import lstm
from lstm_sym.verify.torch_oracle import ORACLES, TORCH_TOLERANCE, torch_errors

T, B, D, H = 5, 3, 4, 6


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


def _inputs(seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, B, D))
    state = {"h": rng.standard_normal((B, H)), "C": rng.standard_normal((B, H))}
    return xs, state


def _torch_forward(
    module: torch.nn.LSTM, xs: np.ndarray, state: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    with torch.no_grad():
        hs, (h_n, c_n) = module(torch.tensor(xs), state_to_torch(state))
    return hs.numpy(), state_from_torch(h_n, c_n)


def test_forward_matches_torch_lstm() -> None:
    """The kernel's hs and final (h, C) equal nn.LSTM's in float64 from a non-zero state."""
    params = lstm.init_params(D, H, seed=1)
    xs, state = _inputs()
    hs, final, _ = lstm.forward(xs, params, state)
    torch_hs, torch_final = _torch_forward(params_to_torch(params), xs, state)
    assert _relative(hs, torch_hs) < TORCH_TOLERANCE
    assert _relative(final["h"], torch_final["h"]) < TORCH_TOLERANCE
    assert _relative(final["C"], torch_final["C"]) < TORCH_TOLERANCE


def test_gradients_match_torch_autograd() -> None:
    """Every gradient of the kernel (parameters, xs, h0, C0) equals torch autograd's."""
    errors = torch_errors(lstm)
    expected = {*lstm.PARAMETER_NAMES, "xs", "h0", "C0", "hs", "h_final", "C_final"}
    assert set(errors) == expected
    worst = max(errors, key=errors.__getitem__)
    assert errors[worst] < TORCH_TOLERANCE, (worst, errors[worst])


def test_gradients_match_torch_on_a_longer_wider_problem() -> None:
    """The kernel agrees with torch on a longer sequence with D != H and another seed."""
    errors = torch_errors(lstm, steps=12, batch=2, input_size=7, hidden_size=4, seed=3)
    assert max(errors.values()) < TORCH_TOLERANCE, errors


def test_params_round_trip_through_torch_exactly() -> None:
    """params_from_torch(params_to_torch(p)) returns p bit for bit."""
    params = lstm.init_params(D, H, seed=2)
    back = params_from_torch(params_to_torch(params))
    assert list(back) == list(lstm.PARAMETER_NAMES)
    for name, value in params.items():
        assert back[name].dtype == value.dtype
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_module_round_trip_keeps_the_forward_output() -> None:
    """params_to_torch(params_from_torch(m)) computes what m computes, bias split included."""
    torch.manual_seed(0)
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    xs, state = _inputs(seed=4)
    rebuilt = params_to_torch(params_from_torch(module))
    expected_hs, expected_final = _torch_forward(module, xs, state)
    hs, final = _torch_forward(rebuilt, xs, state)
    assert _relative(hs, expected_hs) < TORCH_TOLERANCE
    assert _relative(final["C"], expected_final["C"]) < TORCH_TOLERANCE


def test_params_from_torch_drives_the_kernel_like_the_module() -> None:
    """The kernel run on params_from_torch(m) gives m's outputs (torch layout read correctly)."""
    torch.manual_seed(1)
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    xs, state = _inputs(seed=5)
    hs, _, _ = lstm.forward(xs, params_from_torch(module), state)
    expected_hs, _ = _torch_forward(module, xs, state)
    assert _relative(hs, expected_hs) < TORCH_TOLERANCE


def test_params_to_torch_loads_into_a_given_module() -> None:
    """params_to_torch(p, m) writes into m itself and returns it."""
    params = lstm.init_params(D, H, seed=6)
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    assert params_to_torch(params, module) is module
    np.testing.assert_array_equal(params_from_torch(module)["W_o"], params["W_o"])


def test_params_to_torch_puts_all_bias_in_bias_ih() -> None:
    """The built module holds all bias in bias_ih_l0 (torch order i, f, g, o), zeros in bias_hh."""
    params = lstm.init_params(D, H, seed=7)
    named = dict(params_to_torch(params).named_parameters())
    expected = np.concatenate([params["b_i"], params["b_f"], params["b_C"], params["b_o"]])
    np.testing.assert_array_equal(named["bias_ih_l0"].detach().numpy(), expected)
    np.testing.assert_array_equal(named["bias_hh_l0"].detach().numpy(), np.zeros(4 * H))


def test_params_to_torch_leaves_torch_random_state_alone() -> None:
    """Building a module does not advance torch's global random generator."""
    params = lstm.init_params(D, H, seed=8)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    params_to_torch(params)
    assert torch.equal(torch.rand(3), expected)


def test_float32_module_gives_float32_params() -> None:
    """A float32 nn.LSTM maps to float32 parameter arrays, and those build a float32 module."""
    module = torch.nn.LSTM(D, H)
    params = params_from_torch(module)
    assert {value.dtype for value in params.values()} == {np.dtype(np.float32)}
    assert params_to_torch(params).weight_hh_l0.dtype == torch.float32


def test_state_round_trips_through_torch() -> None:
    """state_from_torch(*state_to_torch(s)) returns s, via tensors of shape (1, B, H)."""
    _, state = _inputs(seed=9)
    h0, c0 = state_to_torch(state)
    assert tuple(h0.shape) == tuple(c0.shape) == (1, B, H)
    back = state_from_torch(h0, c0)
    np.testing.assert_array_equal(back["h"], state["h"])
    np.testing.assert_array_equal(back["C"], state["C"])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p: p.pop("b_o"), r"missing \['b_o'\]"),
        (lambda p: p.update(W_x=p["W_f"]), r"unexpected keys \['W_x'\]"),
        (lambda p: p.update(W_i=p["W_i"][:, :-1]), r"params\['W_i'\] must have shape \(6, 10\)"),
        (lambda p: p.update(b_C=np.zeros(H + 1)), r"params\['b_C'\] must have shape \(6,\)"),
        (lambda p: p.update(W_f=p["W_f"][:, :H]), r"params\['W_f'\] must have shape \(H, H \+ D\)"),
    ],
    ids=["missing", "unexpected", "W_i-shape", "b_C-shape", "W_f-no-input-columns"],
)
def test_params_to_torch_rejects_bad_params(
    change: Callable[[dict[str, np.ndarray]], object], match: str
) -> None:
    """A missing or extra key or a wrong shape raises a ValueError naming it."""
    params = dict(lstm.init_params(D, H, seed=10))
    change(params)
    with pytest.raises(ValueError, match=match):
        params_to_torch(params)


def test_params_to_torch_rejects_a_module_of_other_sizes() -> None:
    """Loading into a module whose hidden_size differs raises a ValueError naming module."""
    with pytest.raises(ValueError, match=r"module has input_size=4, hidden_size=5"):
        params_to_torch(lstm.init_params(D, H, seed=11), torch.nn.LSTM(D, H - 1))


@pytest.mark.parametrize(
    "module",
    [
        torch.nn.LSTM(D, H, num_layers=2),
        torch.nn.LSTM(D, H, bidirectional=True),
        torch.nn.LSTM(D, H, bias=False),
        torch.nn.GRU(D, H),
    ],
    ids=["two-layers", "bidirectional", "no-bias", "gru"],
)
def test_params_from_torch_rejects_other_modules(module: torch.nn.Module) -> None:
    """A module the kernel cannot represent raises a ValueError naming module."""
    with pytest.raises(ValueError, match=r"^module "):
        params_from_torch(module)  # type: ignore[arg-type]


def test_state_helpers_reject_bad_shapes_and_keys() -> None:
    """state_to_torch names a bad key or shape, state_from_torch names a bad h_n/c_n."""
    _, state = _inputs()
    with pytest.raises(ValueError, match=r"exactly the keys \['h', 'C'\]; got \['c', 'h'\]"):
        state_to_torch({"h": state["h"], "c": state["C"]})
    with pytest.raises(ValueError, match=r"state\['C'\] must have the shape of state\['h'\]"):
        state_to_torch({"h": state["h"], "C": state["C"][:, :-1]})
    h0, c0 = state_to_torch(state)
    with pytest.raises(ValueError, match=r"c_n must have shape \(1, B, H\)"):
        state_from_torch(h0, c0[0])


def test_torch_errors_without_an_oracle_raises_key_error() -> None:
    """torch_errors on a cell with no registered oracle raises a KeyError naming the cell."""
    kernel = types.ModuleType("fake_kernel")
    kernel.CELL = "no_such_cell"  # type: ignore[attr-defined]
    assert "no_such_cell" not in ORACLES
    with pytest.raises(KeyError, match="no torch oracle for cell 'no_such_cell'"):
        torch_errors(kernel)


def test_import_without_torch_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing lstm_sym.interop.torch without torch raises an ImportError with the pip line."""
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "lstm_sym.interop.torch")
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        importlib.import_module("lstm_sym.interop.torch")
