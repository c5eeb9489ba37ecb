"""Behaviour of the generated LSTM kernel: gradients, steps, dtypes, validation, saturation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lstm_sym.kernels import lstm
from lstm_sym.verify.finite_differences import (
    finite_difference_errors,
    make_problem,
    relative_error,
)

PARAMETER_KEYS = ["W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"]


def _sequence(T=4, B=3, D=5, H=6, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = lstm.init_params(D, H, seed=seed, dtype=dtype)
    xs = rng.standard_normal((T, B, D)).astype(dtype)
    state = {name: rng.standard_normal((B, H)).astype(dtype) for name in ("h", "C")}
    return xs, params, state


def _reference_forward(xs, params, state):
    """The lecture's equations written out directly in NumPy, independent of the generator."""

    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    h, C = state["h"], state["C"]
    hs = []
    for x in xs:
        z = np.concatenate([h, x], axis=1)
        f = sigmoid(z @ params["W_f"].T + params["b_f"])
        i = sigmoid(z @ params["W_i"].T + params["b_i"])
        C_tilde = np.tanh(z @ params["W_C"].T + params["b_C"])
        C = f * C + i * C_tilde
        o = sigmoid(z @ params["W_o"].T + params["b_o"])
        h = o * np.tanh(C)
        hs.append(h)
    return np.stack(hs), {"h": h, "C": C}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_match_central_finite_differences(seed):
    """Every element of every gradient agrees with central differences to 1e-7 per tensor."""
    problem = make_problem(lstm, steps=4, batch=2, input_size=3, hidden_size=4, seed=seed)
    assert all(np.any(v != 0) for v in problem.state.values())
    assert all(np.any(v != 0) for v in problem.dstate.values())
    errors = finite_difference_errors(problem)
    assert set(errors) == set(PARAMETER_KEYS) | {"xs", "h0", "C0"}
    assert max(errors.values()) < 1e-7, errors


def test_forward_matches_the_lecture_equations_written_by_hand():
    """The forward pass equals a direct NumPy transcription of the lecture's equations."""
    xs, params, state = _sequence()
    hs, final, _ = lstm.forward(xs, params, state)
    expected_hs, expected_final = _reference_forward(xs, params, state)
    assert relative_error(hs, expected_hs) < 1e-13
    assert relative_error(final["C"], expected_final["C"]) < 1e-13
    np.testing.assert_array_equal(final["h"], hs[-1])


def test_step_by_step_forward_equals_sequence_forward():
    """Calling step() T times gives the same outputs and final state as forward()."""
    xs, params, state = _sequence()
    hs, final, _ = lstm.forward(xs, params, state)
    current = state
    for t, x in enumerate(xs):
        current, _ = lstm.step(x, current, params)
        np.testing.assert_allclose(current["h"], hs[t], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(current["C"], final["C"], rtol=1e-13, atol=1e-15)


def test_step_backward_chained_equals_sequence_backward():
    """Chaining step_backward() through time reproduces backward() of the whole sequence."""
    xs, params, state = _sequence()
    rng = np.random.default_rng(7)
    dhs = rng.standard_normal((xs.shape[0], xs.shape[1], 6))
    dfinal = {name: rng.standard_normal((xs.shape[1], 6)) for name in ("h", "C")}
    _, _, cache = lstm.forward(xs, params, state)
    expected = lstm.backward(dhs, cache, dfinal)

    caches, current = [], state
    for x in xs:
        current, step_cache = lstm.step(x, current, params)
        caches.append(step_cache)
    totals = {key: np.zeros_like(params[key]) for key in PARAMETER_KEYS}
    dxs = np.empty_like(xs)
    dstate = dict(dfinal)
    for t in range(xs.shape[0] - 1, -1, -1):
        dstate = {"h": dstate["h"] + dhs[t], "C": dstate["C"]}
        grads = lstm.step_backward(dstate, caches[t])
        for key in PARAMETER_KEYS:
            totals[key] += grads[key]
        dxs[t] = grads["x"]
        dstate = {"h": grads["h_prev"], "C": grads["C_prev"]}
    for key in PARAMETER_KEYS:
        assert relative_error(totals[key], expected[key]) < 1e-12, key
    assert relative_error(dxs, expected["xs"]) < 1e-12
    assert relative_error(dstate["h"], expected["h0"]) < 1e-12
    assert relative_error(dstate["C"], expected["C0"]) < 1e-12


def test_float32_agrees_with_float64():
    """Forward and backward in float32 agree with float64 to 1e-4 and keep the float32 dtype."""
    xs, params, state = _sequence()
    dhs = np.random.default_rng(3).standard_normal((4, 3, 6))
    hs64, _, cache64 = lstm.forward(xs, params, state)
    grads64 = lstm.backward(dhs, cache64)
    as32 = {k: v.astype(np.float32) for k, v in params.items()}
    state32 = {k: v.astype(np.float32) for k, v in state.items()}
    hs32, final32, cache32 = lstm.forward(xs.astype(np.float32), as32, state32)
    grads32 = lstm.backward(dhs.astype(np.float32), cache32)
    assert hs32.dtype == np.float32 and final32["C"].dtype == np.float32
    assert relative_error(hs32.astype(np.float64), hs64) < 1e-4
    for key, value in grads32.items():
        assert value.dtype == np.float32, key
        assert relative_error(value.astype(np.float64), grads64[key]) < 1e-4, key


def test_missing_state_means_zeros():
    """Omitting the initial state is the same as passing zeros."""
    xs, params, _ = _sequence()
    zeros = {name: np.zeros((3, 6)) for name in ("h", "C")}
    np.testing.assert_array_equal(lstm.forward(xs, params)[0], lstm.forward(xs, params, zeros)[0])


def test_init_params_shapes_seed_and_views():
    """init_params gives the documented shapes, is reproducible and shares one stacked buffer."""
    params = lstm.init_params(3, 5, seed=11, dtype=np.float32)
    assert list(params) == PARAMETER_KEYS
    for key, value in params.items():
        assert value.shape == ((5, 8) if key.startswith("W") else (5,))
        assert value.dtype == np.float32
        assert np.all(np.abs(value) <= 1 / np.sqrt(5))
    again = lstm.init_params(3, 5, seed=11, dtype=np.float32)
    assert all(np.array_equal(params[k], again[k]) for k in PARAMETER_KEYS)
    assert np.shares_memory(params["W_f"].base, params["W_o"])


def test_inputs_are_never_modified():
    """forward and backward leave xs, params, state, dhs and dstate unchanged."""
    xs, params, state = _sequence()
    dhs = np.ones((4, 3, 6))
    dstate = {"h": np.ones((3, 6)), "C": np.ones((3, 6))}
    copies = [a.copy() for a in (xs, dhs, *params.values(), *state.values(), *dstate.values())]
    _, _, cache = lstm.forward(xs, params, state)
    lstm.backward(dhs, cache, dstate)
    after = [xs, dhs, *params.values(), *state.values(), *dstate.values()]
    assert all(np.array_equal(a, b) for a, b in zip(copies, after, strict=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_preactivations_give_finite_results_without_warnings(dtype):
    """Pre-activations of magnitude up to 1e4 give no NaN/inf and no NumPy warnings."""
    xs, params, state = _sequence(dtype=dtype)
    big = {k: (v * 1e4 / 2).astype(dtype) for k, v in params.items()}
    xs = (np.sign(xs) * 2).astype(dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        hs, final, cache = lstm.forward(xs, big, state)
        grads = lstm.backward(
            np.ones_like(hs), cache, {k: np.ones_like(v) for k, v in final.items()}
        )
    preactivation = np.abs(np.concatenate([state["h"], xs[0]], axis=1) @ big["W_f"].T).max()
    assert 1e3 < preactivation <= 2e4
    assert np.all(np.isfinite(hs))
    assert all(np.all(np.isfinite(v)) for v in grads.values())


# -- bad input ---------------------------------------------------------------------------------


@pytest.fixture
def good():
    return _sequence()


def test_wrong_rank_of_xs_is_rejected(good):
    """A 2-D xs raises ValueError naming xs and the expected (T, B, D)."""
    xs, params, state = good
    with pytest.raises(ValueError, match=r"xs must have shape \(T, B, D\).*got shape \(4, 15\)"):
        lstm.forward(xs.reshape(4, 15), params, state)


def test_input_size_not_matching_params_is_rejected(good):
    """An xs whose D differs from the parameters' raises ValueError naming the parameter."""
    xs, params, _ = good
    with pytest.raises(
        ValueError, match=r"params\['W_f'\] must have shape \(6, 10\).*D=4 from xs.*got \(6, 11\)"
    ):
        lstm.forward(xs[:, :, :4], params)


def test_missing_parameter_key_is_rejected(good):
    """A params dict without b_o raises ValueError naming the key."""
    xs, params, _ = good
    del params["b_o"]
    with pytest.raises(ValueError, match=r"params is missing \['b_o'\]"):
        lstm.forward(xs, params)


def test_extra_parameter_key_is_rejected(good):
    """A params dict with an unknown key raises ValueError naming it."""
    xs, params, _ = good
    params["W_x"] = params["W_f"]
    with pytest.raises(ValueError, match=r"unexpected keys \['W_x'\]"):
        lstm.forward(xs, params)


def test_wrong_parameter_shape_is_rejected(good):
    """A bias of the wrong length raises ValueError naming it with expected and actual shape."""
    xs, params, _ = good
    params["b_C"] = np.zeros(7)
    with pytest.raises(ValueError, match=r"params\['b_C'\] must have shape \(6,\).*got \(7,\)"):
        lstm.forward(xs, params)


def test_integer_inputs_are_rejected_with_type_error(good):
    """Integer xs raises TypeError naming the dtype."""
    xs, params, _ = good
    with pytest.raises(TypeError, match="xs must be a float32 or float64 array; got dtype int64"):
        lstm.forward(xs.astype(np.int64), params)


def test_mixed_dtypes_are_rejected_with_type_error(good):
    """float32 parameters with float64 inputs raise TypeError naming the parameter."""
    xs, params, _ = good
    params = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.raises(TypeError, match=r"params\['W_f'\] must have dtype float64"):
        lstm.forward(xs, params)


def test_state_batch_not_matching_xs_is_rejected(good):
    """A state with another batch size raises ValueError naming state['h'] and (B, H)."""
    xs, params, state = good
    state["h"] = state["h"][:2]
    with pytest.raises(
        ValueError, match=r"state\['h'\] must have shape \(B, H\) = \(3, 6\).*got \(2, 6\)"
    ):
        lstm.forward(xs, params, state)


def test_state_with_wrong_keys_is_rejected(good):
    """A state dict without C raises ValueError listing the expected keys."""
    xs, params, state = good
    del state["C"]
    with pytest.raises(ValueError, match=r"state must have exactly the keys \['h', 'C'\]"):
        lstm.forward(xs, params, state)


def test_dhs_shape_not_matching_hs_is_rejected(good):
    """A dhs of another shape than hs raises ValueError naming dhs and both shapes."""
    xs, params, state = good
    _, _, cache = lstm.forward(xs, params, state)
    with pytest.raises(
        ValueError,
        match=r"dhs must have the shape of hs, \(T, B, H\) = \(4, 3, 6\); got \(4, 3, 5\)",
    ):
        lstm.backward(np.zeros((4, 3, 5)), cache)


def test_cache_of_another_origin_is_rejected():
    """backward with a dict that is not a forward cache raises ValueError."""
    with pytest.raises(ValueError, match=r"cache must be the cache returned by lstm\.forward"):
        lstm.backward(np.zeros((1, 1, 1)), {"xs": np.zeros((1, 1, 1))})


def test_step_backward_rejects_a_sequence_cache(good):
    """step_backward refuses the cache of a multi-step forward."""
    xs, params, state = good
    _, _, cache = lstm.forward(xs, params, state)
    with pytest.raises(ValueError, match="pass the cache of step"):
        lstm.step_backward(None, cache)


def test_step_names_x_in_its_errors(good):
    """step() with a 3-D input names x, not xs."""
    xs, params, state = good
    with pytest.raises(ValueError, match=r"x must have shape \(B, D\)"):
        lstm.step(xs, state, params)


def test_init_params_rejects_bad_sizes_and_dtypes():
    """init_params rejects a non-positive size (ValueError) and an integer dtype (TypeError)."""
    with pytest.raises(ValueError, match="hidden_size must be a positive integer; got 0"):
        lstm.init_params(3, 0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got int32"):
        lstm.init_params(3, 4, dtype=np.int32)
