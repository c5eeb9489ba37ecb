"""Optimisers, clipping, the softmax read-out and model files of lstm_sym.training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lstm_sym.kernels import lstm
from lstm_sym.layers import Stack
from lstm_sym.training import (
    SGD,
    Adam,
    ModelFileError,
    clip_global_norm,
    global_norm,
    init_readout,
    load,
    readout_loss,
    save,
)
from lstm_sym.verify.finite_differences import relative_error

# ---------------------------------------------------------------- optimisers


def test_sgd_without_momentum_steps_against_the_gradient() -> None:
    """Plain SGD: p <- p - lr * g, worked by hand for two steps."""
    params = {"w": np.array([1.0, -2.0])}
    sgd = SGD(params, lr=0.1)
    sgd.step({"w": np.array([0.5, 1.0])})
    sgd.step({"w": np.array([0.5, 1.0])})
    np.testing.assert_allclose(
        params["w"], [1.0 - 0.05 - 0.05, -2.0 - 0.1 - 0.1], rtol=0, atol=1e-15
    )


def test_sgd_momentum_accumulates_velocity_as_torch_does() -> None:
    """Momentum 0.9: v = 0.9 v + g, p <- p - lr v; two steps worked by hand."""
    params = {"w": np.array([1.0])}
    sgd = SGD(params, lr=0.1, momentum=0.9)
    sgd.step({"w": np.array([0.5])})  # v = 0.5, p = 0.95
    sgd.step({"w": np.array([0.5])})  # v = 0.45 + 0.5 = 0.95, p = 0.95 - 0.095
    np.testing.assert_allclose(params["w"], [0.855], rtol=0, atol=1e-15)


def test_adam_two_steps_match_hand_computed_values() -> None:
    """Adam with bias correction, lr 0.1, betas (0.9, 0.999): two steps worked by hand."""
    params = {"w": np.array([1.0])}
    adam = Adam(params, lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    adam.step({"w": np.array([0.5])})
    # m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25
    first = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)
    np.testing.assert_allclose(params["w"], [first], rtol=0, atol=1e-15)
    adam.step({"w": np.array([-1.0])})
    # m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975
    m_hat = -0.055 / (1 - 0.9**2)
    v_hat = 0.00124975 / (1 - 0.999**2)
    np.testing.assert_allclose(params["w"], [first - 0.1 * m_hat / (v_hat**0.5 + 1e-8)], rtol=1e-13)


def test_optimisers_ignore_keys_that_are_not_parameters() -> None:
    """A kernel's gradient dict (with "xs", "h0", "C0") updates only the parameters."""
    params = {k: np.array(v) for k, v in lstm.init_params(2, 3, seed=0).items()}
    hs, _, cache = lstm.forward(np.ones((2, 1, 2)), params)
    grads = lstm.backward(np.ones_like(hs), cache)
    assert {"xs", "h0", "C0"} <= set(grads)
    before = {k: v.copy() for k, v in params.items()}
    Adam(params, lr=0.01).step(grads)
    assert set(params) == set(before) and all(
        not np.array_equal(params[k], before[k]) for k in params
    )


def test_optimisers_update_stacked_views_in_place() -> None:
    """The arrays of the dict are changed in place, so views into a shared buffer follow."""
    buffer = np.zeros(4)
    params = {"a": buffer[:2], "b": buffer[2:]}
    SGD(params, lr=1.0).step({"a": np.ones(2), "b": 2 * np.ones(2)})
    np.testing.assert_array_equal(buffer, [-1, -1, -2, -2])


def test_a_missing_or_misshapen_gradient_is_named() -> None:
    """A parameter without a gradient is a KeyError, a wrong shape a ValueError, both naming it."""
    adam = Adam({"w": np.zeros(3), "b": np.zeros(1)})
    with pytest.raises(KeyError, match=r"no entry for the parameters \['b'\]"):
        adam.step({"w": np.zeros(3)})
    with pytest.raises(
        ValueError, match=r"grads\['w'\] must have the shape of the parameter, \(3,\)"
    ):
        adam.step({"w": np.zeros(2), "b": np.zeros(1)})


def test_clip_global_norm_scales_all_gradients_by_one_factor() -> None:
    """Norm 5 clipped to 1 gives (0.6, 0.8); a norm already below the limit is unchanged."""
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert global_norm(grads) == 5.0
    clipped = clip_global_norm(grads, 1.0)
    np.testing.assert_allclose([clipped["a"][0], clipped["b"][0]], [0.6, 0.8], rtol=1e-15)
    unchanged = clip_global_norm(grads, 10.0)
    assert all(np.array_equal(unchanged[k], grads[k]) for k in grads)
    assert grads["a"][0] == 3.0  # the input is not modified


# ---------------------------------------------------------------- read-out


def test_readout_loss_of_uniform_logits_is_log_k() -> None:
    """Zero weights give uniform probabilities, so the loss is log K whatever the labels."""
    readout = {"W_y": np.zeros((5, 3)), "b_y": np.zeros(5)}
    result = readout_loss(np.ones((4, 3)), readout, np.array([0, 1, 4, 2]))
    assert result.loss == pytest.approx(np.log(5), rel=1e-15)
    np.testing.assert_allclose(result.probabilities, 0.2)


def test_readout_gradients_pass_finite_differences_with_a_mask() -> None:
    """dW_y, db_y and dh of the masked mean cross-entropy over (T, B, H) match central FD."""
    rng = np.random.default_rng(0)
    h = rng.standard_normal((3, 2, 4))
    readout = init_readout(4, 5, seed=1)
    readout["b_y"][:] = rng.standard_normal(5)
    labels = rng.integers(0, 5, size=(3, 2))
    mask = np.array([[True, True], [True, False], [False, False]])
    result = readout_loss(h, readout, labels, mask)
    assert sorted(result.grads) == ["W_y", "b_y"]
    analytic = {**result.grads, "h": result.dh}
    for name, tensor in (("W_y", readout["W_y"]), ("b_y", readout["b_y"]), ("h", h)):
        numeric = np.zeros_like(tensor)
        for index in np.ndindex(tensor.shape):
            saved = tensor[index]
            tensor[index] = saved + 1e-6
            plus = readout_loss(h, readout, labels, mask).loss
            tensor[index] = saved - 1e-6
            minus = readout_loss(h, readout, labels, mask).loss
            tensor[index] = saved
            numeric[index] = (plus - minus) / 2e-6
        assert relative_error(analytic[name], numeric) < 1e-7, name
    assert np.all(result.dh[~mask] == 0)


def test_readout_rejects_labels_out_of_range() -> None:
    """A label outside 0 ... K - 1 in a counted row raises a ValueError saying so."""
    readout = init_readout(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"labels must be in 0 … K - 1 = 3"):
        readout_loss(np.zeros((2, 3)), readout, np.array([0, 4]))


# ---------------------------------------------------------------- model files


@pytest.fixture
def model() -> tuple[dict[str, np.ndarray], dict[str, object]]:
    stack = Stack("lstm", 3, 4, num_layers=2, bidirectional=True)
    params = {
        **stack.init_params(seed=0, dtype=np.float32),
        **init_readout(8, 5, seed=1, dtype=np.float32),
    }
    return params, {**stack.meta(), "vocabulary": "abcde"}


def test_save_and_load_round_trip_exactly(
    tmp_path: Path, model: tuple[dict[str, np.ndarray], dict[str, object]]
) -> None:
    """Every array (dtype, shape, values) and the metadata come back; no temporary file stays."""
    params, meta = model
    path = save(tmp_path / "model.npz", params, meta)
    loaded, loaded_meta = load(path, expect={"cell": "lstm", "num_layers": 2})
    assert set(loaded) == set(params)
    assert all(
        loaded[k].dtype == np.float32 and np.array_equal(loaded[k], params[k]) for k in params
    )
    assert loaded_meta == meta
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_load_rejects_a_truncated_file(
    tmp_path: Path, model: tuple[dict[str, np.ndarray], dict[str, object]]
) -> None:
    """A file cut short is a ModelFileError saying it is not a readable model file."""
    path = save(tmp_path / "model.npz", *model)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ModelFileError, match="is not a readable lstm_sym model file"):
        load(path)


def test_load_rejects_an_array_that_disagrees_with_the_manifest(
    tmp_path: Path, model: tuple[dict[str, np.ndarray], dict[str, object]]
) -> None:
    """An array whose shape differs from the manifest's is named in a ModelFileError."""
    params, meta = model
    path = save(tmp_path / "model.npz", params, meta)
    with np.load(path) as archive:
        contents = {k: archive[k] for k in archive.files}
    contents["l1.W_f"] = contents["l1.W_f"][:, :-1]
    np.savez(path, **contents)
    with pytest.raises(ModelFileError, match=r"params\['l1.W_f'\] is float32 \(4, 11\)"):
        load(path)


def test_load_rejects_a_model_of_another_cell(
    tmp_path: Path, model: tuple[dict[str, np.ndarray], dict[str, object]]
) -> None:
    """expect={'cell': 'gru'} on an lstm file is a ModelFileError naming both."""
    path = save(tmp_path / "model.npz", *model)
    with pytest.raises(ModelFileError, match=r"meta\['cell'\] is 'lstm'; expected 'gru'"):
        load(path, expect={"cell": "gru"})


def test_load_never_unpickles(tmp_path: Path) -> None:
    """An npz holding a pickled object array is refused, not unpickled."""
    path = tmp_path / "evil.npz"
    manifest = {
        "format": "lstm_sym.model",
        "version": 1,
        "dtype": "float64",
        "shapes": {"x": [1]},
        "meta": {"cell": "lstm", "input_size": 1, "hidden_size": 1},
    }
    np.savez(path, __meta__=np.array(json.dumps(manifest)), x=np.array([object()], dtype=object))
    with pytest.raises(ModelFileError, match="not a readable lstm_sym model file"):
        load(path)


def test_a_failed_save_leaves_the_previous_file_intact(
    tmp_path: Path, model: tuple[dict[str, np.ndarray], dict[str, object]]
) -> None:
    """Metadata that is not JSON raises before anything is written; the old file survives."""
    params, meta = model
    path = save(tmp_path / "model.npz", params, meta)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="meta must be JSON-serialisable"):
        save(path, params, {**meta, "bad": object()})
    with pytest.raises(ValueError, match=r"meta must have 'hidden_size'"):
        save(path, params, {"cell": "lstm", "input_size": 3})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


# ---------------------------------------------------------------- the "Train a model" page

REPO = Path(__file__).resolve().parents[1]


def test_train_page_quotes_the_committed_results() -> None:
    """docs/train.md shows every committed completion and the script's command."""
    results = json.loads((REPO / "docs" / "train" / "results.json").read_text())
    page = (REPO / "docs" / "train.md").read_text()
    assert results["command"] in page
    for prompt, completion in results["completions"].items():
        assert f"| `{prompt}` | `{completion}` |" in page
    assert f"{results['loss_last_50']:.2f}" in page
    assert (REPO / "docs" / "train" / "loss.svg").read_text().lstrip().startswith("<?xml")


def test_training_example_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example trains, saves, reloads and writes results.json and loss.svg (tiny settings)."""
    import importlib.util

    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")  # the example sets them; keep them out of other tests
    spec = importlib.util.spec_from_file_location(
        "train_char_model", REPO / "examples" / "train_char_model.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    argv = ["--steps", "10", "--hidden-size", "8", "--num-layers", "1", "--out", str(tmp_path)]
    assert example.main(argv) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["losses"]) == 10 and results["loss_last_50"] < results["losses"][0]
    assert set(results["completions"]) == set(example.PROMPTS)
    assert (tmp_path / "loss.svg").stat().st_size > 0


def test_adam_converges_on_quadratic() -> None:
    """Adam drives an ill-conditioned quadratic to its minimum."""
    target = np.array([3.0, -2.0, 0.5])
    scale = np.array([1.0, 10.0, 100.0])
    params = {"x": np.zeros(3)}
    optimiser = Adam(params, lr=0.05)
    for _ in range(2000):
        optimiser.step({"x": scale * (params["x"] - target)})
    np.testing.assert_allclose(params["x"], target, atol=1e-3)
