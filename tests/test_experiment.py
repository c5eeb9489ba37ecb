"""Tests of the long-context experiment: task, read-out, optimiser, command, committed results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstm_sym.cli import main
from lstm_sym.experiments.adam import Adam, clip_global_norm, global_norm
from lstm_sym.experiments.long_context import QUICK, RESULTS_FILE
from lstm_sym.experiments.plots import PLOT_FILES
from lstm_sym.experiments.readout import readout_loss
from lstm_sym.experiments.task import LongContextTask

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "experiments" / "long-context"


@pytest.fixture(scope="module")
def quick_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the quick sweep once into a temporary folder."""
    out = tmp_path_factory.mktemp("quick")
    assert main(["experiment", "long-context", "--quick", "--out", str(out)]) == 0
    return out


def test_task_shapes() -> None:
    """A batch has one-hot inputs (T, B, D) with T = N + 2 and D = K + V + 1."""
    task = LongContextTask(n_filler=7, n_classes=4, n_fillers_vocab=5)
    batch = task.sample(11, np.random.default_rng(0))
    assert batch.xs.shape == (9, 11, 10)
    assert batch.tokens.shape == (9, 11)
    assert batch.labels.shape == (11,)
    np.testing.assert_array_equal(batch.xs.sum(axis=2), 1.0)
    np.testing.assert_array_equal(batch.xs.argmax(axis=2), batch.tokens)


def test_labels_match_opening_token() -> None:
    """The label of every sequence is the index of the state token it opens with."""
    batch = LongContextTask(n_filler=5).sample(200, np.random.default_rng(1))
    np.testing.assert_array_equal(batch.tokens[0], batch.labels)
    assert set(batch.labels.tolist()) == set(range(8))


def test_fillers_never_contain_states_and_query_closes() -> None:
    """Filler positions hold only filler tokens and the last position is always the query."""
    task = LongContextTask(n_filler=30, n_classes=8, n_fillers_vocab=16)
    batch = task.sample(500, np.random.default_rng(2))
    fillers = batch.tokens[1:-1]
    assert fillers.min() >= task.n_classes
    assert fillers.max() < task.query_id
    np.testing.assert_array_equal(batch.tokens[-1], task.query_id)


def test_readout_gradient_matches_finite_differences() -> None:
    """The read-out's analytic gradients equal central finite differences of its loss."""
    rng = np.random.default_rng(3)
    h = rng.standard_normal((5, 4))
    readout = {"W_y": rng.standard_normal((3, 4)), "b_y": rng.standard_normal(3)}
    labels = np.array([0, 2, 1, 2, 0])
    _, grads, _ = readout_loss(h, readout, labels)
    tensors = {"h": h, **readout}
    eps = 1e-6
    for name, tensor in tensors.items():
        numeric = np.zeros_like(tensor)
        for index in np.ndindex(tensor.shape):
            saved = tensor[index]
            tensor[index] = saved + eps
            plus, _, _ = readout_loss(h, readout, labels)
            tensor[index] = saved - eps
            minus, _, _ = readout_loss(h, readout, labels)
            tensor[index] = saved
            numeric[index] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_adam_converges_on_quadratic() -> None:
    """Adam drives an ill-conditioned quadratic to its minimum."""
    target = np.array([3.0, -2.0, 0.5])
    scale = np.array([1.0, 10.0, 100.0])
    params = {"x": np.zeros(3)}
    optimiser = Adam(params, lr=0.05)
    for _ in range(2000):
        optimiser.step({"x": scale * (params["x"] - target)})
    np.testing.assert_allclose(params["x"], target, atol=1e-3)


def test_clipping_caps_the_global_norm() -> None:
    """Clipping rescales all gradients together to the requested global norm."""
    grads = {"a": np.full(4, 3.0), "b": np.full(2, -4.0)}
    clipped = clip_global_norm(grads, 1.0)
    assert global_norm(clipped) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped["a"] / clipped["b"][0], grads["a"] / grads["b"][0])


def test_quick_command_writes_json_and_svgs(quick_out: Path) -> None:
    """`lstm-sym experiment long-context --quick --out DIR` writes results.json and every SVG."""
    results = json.loads((quick_out / RESULTS_FILE).read_text(encoding="utf-8"))
    assert results["sweep"]["fillers"] == list(QUICK.fillers)
    for name in PLOT_FILES:
        text = (quick_out / name).read_text(encoding="utf-8")
        assert "<svg" in text and "</svg>" in text


def test_quick_runs_are_byte_identical(quick_out: Path, tmp_path: Path) -> None:
    """A second quick sweep writes the same bytes: seeded runs, rounded JSON, fixed salt."""
    assert (
        main(["experiment", "long-context", "--quick", "--out", str(tmp_path), "--jobs", "1"]) == 0
    )
    for name in (RESULTS_FILE, *PLOT_FILES):
        assert (tmp_path / name).read_bytes() == (quick_out / name).read_bytes(), name


def test_quick_without_out_leaves_committed_results(capsys: pytest.CaptureFixture[str]) -> None:
    """`--quick` without `--out` writes into a temporary folder, never into docs/experiments."""
    committed = COMMITTED / RESULTS_FILE
    before = committed.read_bytes() if committed.exists() else None
    assert main(["experiment", "long-context", "--quick"]) == 0
    written = [
        line.split(" ", 1)[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("wrote ")
    ]
    assert written and all(
        not Path(path).resolve().is_relative_to(ROOT / "docs") for path in written
    )
    assert (committed.read_bytes() if committed.exists() else None) == before


def _committed() -> dict[str, Any]:
    return dict(json.loads((COMMITTED / RESULTS_FILE).read_text(encoding="utf-8")))


def test_committed_results_have_the_fields_the_page_needs() -> None:
    """The committed results hold per-seed accuracies, gradients, forget gates and the settings."""
    results = _committed()
    assert {"rnn", "lstm", "gru"} <= set(results["cells"])
    assert results["sweep"]["fillers"] == [5, 10, 20, 50, 100]
    assert len(results["sweep"]["seeds"]) >= 3
    for cell in results["cells"]:
        for n in results["sweep"]["fillers"]:
            row = results["accuracy"][cell][str(n)]
            assert len(row["per_seed"]) == len(results["sweep"]["seeds"])
            assert {"mean", "std", "min", "max"} <= set(row)
    for cell in ("rnn", "lstm"):
        assert len(results["gradient_norms"][cell]) == len(results["sweep"]["seeds"])
        for moment in ("init", "trained"):
            norms = results["gradient_norms"][cell][0][moment]["h"]
            assert len(norms) == results["sweep"]["diagnostic_filler"] + 2
    assert "mean_f" in results["forget_gate"]["lstm"][0]
    for key in ("hidden_size", "batch_size", "steps", "lr", "betas", "eps", "clip", "forget_bias"):
        assert key in results["train"]
    assert results["task"]["chance"] == pytest.approx(1 / results["task"]["n_classes"])
    assert {"lstm_mean", "rnn_mean", "held"} <= set(results["expectation"])
    for name in PLOT_FILES:
        assert (COMMITTED / name).is_file(), name
