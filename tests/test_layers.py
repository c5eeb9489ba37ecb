"""Stacked, bidirectional, variable-length layers composed from the generated kernels."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from lstm_sym.kernels import lstm
from lstm_sym.layers import Stack, layer_prefix
from lstm_sym.regenerate import user_artifacts
from lstm_sym.verify.finite_differences import FD_TOLERANCE, relative_error

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mgu.cell"
T, B, D, H = 4, 3, 2, 2
LENGTHS = np.array([3, 4, 1])  # unsorted, one full, one of a single step


def _problem(
    stack: Stack, seed: int, dtype: Any = np.float64
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Random inputs, parameters and a non-zero initial state for ``stack``."""
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, B, stack.input_size)).astype(dtype)
    params = {k: np.array(v) for k, v in stack.init_params(seed=seed, dtype=dtype).items()}
    rows = stack.num_layers * stack.num_directions
    state = {
        name: rng.standard_normal((rows, B, stack.hidden_size)).astype(dtype)
        for name in stack.state_names
    }
    return xs, params, state


def _loss_weights(
    stack: Stack, outputs: np.ndarray, final: dict[str, np.ndarray], seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    doutputs = rng.standard_normal(outputs.shape)
    dstate = {name: rng.standard_normal(value.shape) for name, value in final.items()}
    return doutputs, dstate


def _finite_difference_errors(stack: Stack, seed: int) -> dict[str, float]:
    """Per tensor relative error of the stack's gradients against central differences."""
    xs, params, state = _problem(stack, seed)
    outputs, final, cache = stack.forward(xs, params, state, lengths=LENGTHS)
    doutputs, dstate = _loss_weights(stack, outputs, final, seed + 1)
    grads, input_grads = stack.backward(doutputs, cache, dstate)

    def loss() -> float:
        out, fin, _ = stack.forward(xs, params, state, lengths=LENGTHS)
        return float(np.sum(doutputs * out) + sum(np.sum(dstate[k] * fin[k]) for k in fin))

    tensors = {**params, "xs": xs, **{f"{k}0": v for k, v in state.items()}}
    analytic = {**grads, **input_grads}
    errors = {}
    eps = 1e-6
    for name, tensor in tensors.items():
        numeric = np.zeros_like(tensor)
        flat = tensor.reshape(-1)
        for index in range(flat.size):
            saved = flat[index]
            flat[index] = saved + eps
            plus = loss()
            flat[index] = saved - eps
            minus = loss()
            flat[index] = saved
            numeric.reshape(-1)[index] = (plus - minus) / (2 * eps)
        errors[name] = relative_error(analytic[name], numeric)
    return errors


@pytest.fixture(scope="module")
def mgu() -> ModuleType:
    """The user cell of examples/mgu.cell, generated and imported from a path."""
    return _import_user_kernel(EXAMPLE)


def _import_user_kernel(spec_file: Path) -> ModuleType:
    import tempfile

    cell = user_artifacts(spec_file)
    folder = Path(tempfile.mkdtemp(prefix="lstm_sym_test_layers_"))
    path = folder / f"{cell.spec.name}.py"
    path.write_text(cell.files[f"{cell.spec.name}.py"], encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"user_{cell.spec.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_layer_bidirectional_lstm_with_lengths_passes_finite_differences() -> None:
    """Every gradient of a 2-layer bidirectional LSTM stack with lengths matches central FD."""
    errors = _finite_difference_errors(Stack("lstm", D, H, 2, bidirectional=True), seed=3)
    assert set(errors) == {*Stack("lstm", D, H, 2, True).parameter_names, "xs", "h0", "C0"}
    worst = max(errors, key=errors.__getitem__)
    assert errors[worst] < FD_TOLERANCE, (worst, errors[worst])


def test_user_kernel_loaded_from_a_path_stacks_and_passes_finite_differences(
    mgu: ModuleType,
) -> None:
    """A kernel generated from a user .cell and imported from its path stacks like a built-in."""
    errors = _finite_difference_errors(Stack(mgu, D, H, 2, bidirectional=True), seed=4)
    assert max(errors.values()) < FD_TOLERANCE


def test_gradient_keys_are_exactly_the_parameter_keys() -> None:
    """backward's first dict has exactly the parameter keys, so a plain SGD loop runs."""
    stack = Stack("gru_torch", D, H, num_layers=2, bidirectional=True)
    xs, params, _ = _problem(stack, seed=5)
    outputs, _, cache = stack.forward(xs, params, lengths=LENGTHS)
    grads, input_grads = stack.backward(np.ones_like(outputs), cache)
    assert list(grads) == list(stack.parameter_names) == list(params)
    assert set(input_grads) == {"xs", "h0"}
    before = {k: v.copy() for k, v in params.items()}
    for key in grads:
        params[key] -= 0.1 * grads[key]
    assert all(np.allclose(params[k], before[k] - 0.1 * grads[k]) for k in params)


def test_parameter_keys_name_layer_and_direction() -> None:
    """Keys are '<layer prefix>.<kernel name>' with prefixes l0, l0_reverse, l1, l1_reverse."""
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    prefixes = [layer_prefix(0), layer_prefix(0, True), layer_prefix(1), layer_prefix(1, True)]
    assert prefixes == ["l0", "l0_reverse", "l1", "l1_reverse"]
    expected = [f"{p}.{n}" for p in prefixes for n in lstm.PARAMETER_NAMES]
    assert list(stack.parameter_names) == expected
    shapes = stack.parameter_shapes()
    assert shapes["l0.W_f"] == (H, H + D) and shapes["l1_reverse.W_f"] == (H, H + 2 * H)


def test_one_layer_one_direction_is_exactly_the_kernel() -> None:
    """A 1-layer unidirectional stack gives the kernel's own outputs, state and gradients."""
    stack = Stack("lstm", D, H)
    xs, params, state = _problem(stack, seed=6)
    own = stack.layer_params(params, 0)
    outputs, final, cache = stack.forward(xs, params, state)
    hs, kernel_final, kernel_cache = lstm.forward(xs, own, {k: v[0] for k, v in state.items()})
    assert np.array_equal(outputs, hs)
    assert all(np.array_equal(final[k][0], kernel_final[k]) for k in final)
    grads, input_grads = stack.backward(outputs.copy(), cache)
    kernel_grads = lstm.backward(hs.copy(), kernel_cache)
    assert all(np.array_equal(grads[f"l0.{k}"], kernel_grads[k]) for k in lstm.PARAMETER_NAMES)
    assert np.array_equal(input_grads["xs"], kernel_grads["xs"])


def test_each_sequence_of_a_padded_batch_equals_running_it_alone() -> None:
    """With lengths, each sequence's outputs and final state equal a run of it alone."""
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    xs, params, state = _problem(stack, seed=7)
    outputs, final, _ = stack.forward(xs, params, state, lengths=LENGTHS)
    for b, length in enumerate(LENGTHS):
        alone = {k: v[:, b : b + 1].copy() for k, v in state.items()}
        out_b, final_b, _ = stack.forward(xs[:length, b : b + 1].copy(), params, alone)
        np.testing.assert_allclose(outputs[:length, b], out_b[:, 0], rtol=0, atol=1e-14)
        for name in final:
            np.testing.assert_allclose(final[name][:, b], final_b[name][:, 0], rtol=0, atol=1e-14)


def test_outputs_past_the_end_are_zero_and_padding_is_never_read() -> None:
    """Outputs past each sequence's end are zero; changing the padding changes nothing."""
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    xs, params, _ = _problem(stack, seed=8)
    outputs, final, _ = stack.forward(xs, params, lengths=LENGTHS)
    padded = np.arange(T)[:, None] >= LENGTHS[None, :]
    assert np.all(outputs[padded] == 0) and np.all(outputs[~padded] != 0)
    noisy = xs.copy()
    noisy[padded] = 1e6
    outputs_noisy, final_noisy, _ = stack.forward(noisy, params, lengths=LENGTHS)
    assert np.array_equal(outputs, outputs_noisy)
    assert all(np.array_equal(final[k], final_noisy[k]) for k in final)


def test_input_gradients_past_the_end_are_zero() -> None:
    """The gradient of xs is exactly zero past each sequence's end, even if doutputs is not."""
    stack = Stack("gru_torch", D, H, num_layers=2, bidirectional=True)
    xs, params, _ = _problem(stack, seed=9)
    outputs, _, cache = stack.forward(xs, params, lengths=LENGTHS)
    _, input_grads = stack.backward(np.ones_like(outputs), cache)
    padded = np.arange(T)[:, None] >= LENGTHS[None, :]
    assert np.all(input_grads["xs"][padded] == 0) and np.all(input_grads["xs"][~padded] != 0)


def test_float32_inputs_give_float32_everything() -> None:
    """Outputs, states and every gradient follow a float32 input's dtype."""
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    xs, params, state = _problem(stack, seed=10, dtype=np.float32)
    outputs, final, cache = stack.forward(xs, params, state, lengths=LENGTHS)
    grads, input_grads = stack.backward(np.ones_like(outputs), cache)
    arrays = [outputs, *final.values(), *grads.values(), *input_grads.values()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_init_params_is_seeded_and_layers_differ() -> None:
    """The same seed gives the same parameters; the two directions of a layer differ."""
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    first, again = stack.init_params(seed=1), stack.init_params(seed=1)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["l0.W_f"], first["l0_reverse.W_f"])
    assert stack.init_params(seed=1, dtype=np.float32)["l1.b_o"].dtype == np.float32


def _bad_calls() -> list[tuple[str, Any, type[Exception], str]]:
    return [
        (
            "xs-rank",
            lambda s, x, p: s.forward(x[0], p),
            ValueError,
            r"xs must have shape \(T, B, D\)",
        ),
        (
            "xs-features",
            lambda s, x, p: s.forward(x[:, :, :1], p),
            ValueError,
            r"D = input_size = 2",
        ),
        ("xs-int", lambda s, x, p: s.forward(x.astype(int), p), TypeError, r"xs must be a float32"),
        (
            "params-dtype",
            lambda s, x, p: s.forward(x.astype(np.float32), p),
            TypeError,
            r"params\['l0.W_f'\] must have dtype float32",
        ),
        (
            "params-missing",
            lambda s, x, p: s.forward(x, {k: v for k, v in p.items() if k != "l1.b_o"}),
            ValueError,
            r"params is missing \['l1.b_o'\]",
        ),
        (
            "params-shape",
            lambda s, x, p: s.forward(x, {**p, "l1_reverse.W_f": p["l0.W_f"]}),
            ValueError,
            r"params\['l1_reverse.W_f'\] must have shape \(2, 6\)",
        ),
        (
            "lengths-range",
            lambda s, x, p: s.forward(x, p, lengths=[1, 5, 2]),
            ValueError,
            r"lengths must be between 1 and T = 4",
        ),
        (
            "lengths-shape",
            lambda s, x, p: s.forward(x, p, lengths=[1, 2]),
            ValueError,
            r"lengths must have shape \(B,\) = \(3,\)",
        ),
        (
            "lengths-float",
            lambda s, x, p: s.forward(x, p, lengths=[1.0, 2.0, 3.0]),
            TypeError,
            r"lengths must be integers",
        ),
        (
            "state-shape",
            lambda s, x, p: s.forward(x, p, {"h": np.zeros((2, 3, 2)), "C": np.zeros((2, 3, 2))}),
            ValueError,
            r"state\['h'\] must have shape \(num_layers \* num_directions, B, H\) = \(4, 3, 2\)",
        ),
        (
            "foreign-cache",
            lambda s, x, p: s.backward(
                np.zeros((4, 3, 4)), lstm.forward(x, s.layer_params(p, 0))[2]
            ),
            ValueError,
            r"cache must be the cache returned by forward\(\) of this Stack",
        ),
        (
            "doutputs-shape",
            lambda s, x, p: s.backward(np.zeros((4, 3, 2)), s.forward(x, p)[2]),
            ValueError,
            r"doutputs must have the shape of outputs, \(T, B, num_directions \* H\) = \(4, 3, 4\)",
        ),
    ]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [case[1:] for case in _bad_calls()],
    ids=[case[0] for case in _bad_calls()],
)
def test_bad_arguments_raise_errors_naming_them(
    call: Any, error: type[Exception], match: str
) -> None:
    """A wrong shape, dtype, key, length or cache raises an error naming the argument."""
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    xs, params, _ = _problem(stack, seed=11)
    with pytest.raises(error, match=match):
        call(stack, xs, params)


def test_a_module_that_is_not_a_kernel_is_refused() -> None:
    """Passing a module without the kernel API raises a TypeError listing what it lacks."""
    with pytest.raises(TypeError, match=r"is not a generated lstm_sym kernel: it lacks \['CELL'"):
        Stack(np, D, H)
    with pytest.raises(KeyError, match="no built-in cell named 'nonesuch'"):
        Stack("nonesuch", D, H)


def test_stacked_bidirectional_example_runs_and_prints_its_shapes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """examples/stacked_bidirectional.py (the README's stack example) runs as commented."""
    import runpy

    runpy.run_path(str(EXAMPLE.parent / "stacked_bidirectional.py"), run_name="__main__")
    assert capsys.readouterr().out.strip() == "(5, 2, 8) (4, 2, 4) (5, 2, 3)"
