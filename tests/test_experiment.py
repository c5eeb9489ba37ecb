"""Tests of the long-context experiment: task, initialisations, statistics, command, results."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstm_sym.cli import main
from lstm_sym.experiments import long_context
from lstm_sym.experiments.fingerprint import fingerprint
from lstm_sym.experiments.initialisation import FIXED_T_MAX, apply_init, chrono_bias
from lstm_sym.experiments.long_context import PAGE_FILE, QUICK, RESULTS_FILE, VARIANTS
from lstm_sym.experiments.page import render_page
from lstm_sym.experiments.plots import PLOT_FILES
from lstm_sym.experiments.runs import SweepConfig
from lstm_sym.experiments.saliency import input_saliency
from lstm_sym.experiments.stats import success_rate, t_critical_95, t_interval_95
from lstm_sym.experiments.task import LongContextTask
from lstm_sym.kernels import load_kernel

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "experiments" / "long-context"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the quick sweep once into a temporary folder; return it and what was printed."""
    out = tmp_path_factory.mktemp("quick")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["experiment", "long-context", "--quick", "--out", str(out)]) == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def quick_out(quick_run: tuple[Path, str]) -> Path:
    """The folder the quick sweep wrote into."""
    return quick_run[0]


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


def test_quick_command_writes_json_svgs_and_page(quick_out: Path) -> None:
    """`lstm-sym experiment long-context --quick --out DIR` writes results, every SVG, the page."""
    results = json.loads((quick_out / RESULTS_FILE).read_text(encoding="utf-8"))
    assert results["sweep"]["fillers"] == list(QUICK.fillers)
    for name in PLOT_FILES:
        text = (quick_out / name).read_text(encoding="utf-8")
        assert "<svg" in text and "</svg>" in text
    page = (quick_out / PAGE_FILE).read_text(encoding="utf-8")
    assert "](./accuracy.svg)" in page


def test_quick_prints_the_smoke_test_warning(quick_run: tuple[Path, str]) -> None:
    """`--quick` says on standard output that its numbers are a smoke test, not a result."""
    assert "smoke test, not a result" in quick_run[1]


def test_quick_page_carries_the_smoke_test_warning(quick_out: Path) -> None:
    """The page written by `--quick` says that it is a smoke test."""
    assert "smoke test, not a result" in (quick_out / PAGE_FILE).read_text(encoding="utf-8")


def test_results_keep_per_seed_accuracies_and_settings(quick_out: Path) -> None:
    """results.json holds, per (variant, N), the per-seed accuracies, interval and success rate."""
    results = json.loads((quick_out / RESULTS_FILE).read_text(encoding="utf-8"))
    seeds = results["sweep"]["seeds"]
    assert [v["name"] for v in results["variants"]] == [v.name for v in VARIANTS]
    for variant in results["variants"]:
        assert variant["init"] in results["initialisations"]
        for n in results["sweep"]["fillers"]:
            point = results["accuracy"][variant["name"]][str(n)]
            assert len(point["per_seed"]) == len(seeds)
            assert all(0.0 <= a <= 1.0 for a in point["per_seed"])
            low, high = point["ci95"]
            assert low <= point["mean"] <= high
            assert point["success_rate"] == success_rate(point["per_seed"])
            assert len(point["steps_run"]) == len(seeds)
    for key in ("hidden_size", "batch_size", "steps", "lr", "clip", "check_every", "stop_after"):
        assert key in results["train"]
    assert {"wall_s", "jobs", "load_average_before"} <= set(results["timing"])


def test_results_hold_gradients_and_forget_gates_before_and_after(quick_out: Path) -> None:
    """The diagnostics have ‖∂ℓ/∂C_t‖ for the LSTMs, ‖∂ℓ/∂h_t‖ for the RNN and keep gates."""
    results = json.loads((quick_out / RESULTS_FILE).read_text(encoding="utf-8"))
    length = results["sweep"]["diagnostic_filler"] + 2
    for moment in ("init", "trained"):
        for seed_record in results["diagnostics"]["lstm_chrono"]:
            assert len(seed_record[moment]["gradient_norms"]["C"]) == length
            assert len(seed_record[moment]["keep_gate"]["filler_mean"]) == 8
        rnn = results["diagnostics"]["rnn"][0][moment]
        assert len(rnn["gradient_norms"]["h"]) == length
        assert rnn["keep_gate"] is None


def test_quick_runs_are_identical_apart_from_timing(quick_out: Path, tmp_path: Path) -> None:
    """A second quick sweep writes the same results (timing aside) and the same SVG bytes."""
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            ["experiment", "long-context", "--quick", "--out", str(tmp_path), "--jobs", "1"]
        )
    assert code == 0
    first, second = (
        json.loads((folder / RESULTS_FILE).read_text(encoding="utf-8"))
        for folder in (quick_out, tmp_path)
    )
    first.pop("timing")
    second.pop("timing")
    assert first == second
    for name in PLOT_FILES:
        assert (tmp_path / name).read_bytes() == (quick_out / name).read_bytes(), name


def test_quick_without_out_leaves_committed_results(capsys: pytest.CaptureFixture[str]) -> None:
    """`--quick` without `--out` writes into a temporary folder, never into docs/."""
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


def test_missing_matplotlib_stops_before_training(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without matplotlib the command exits 2 at once, naming the extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the sweep started")

    monkeypatch.setattr(long_context, "run_sweep", no_training)
    assert main(["experiment", "long-context", "--quick"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "pip install 'lstm_sym[docs]'" in captured.err


def _check(out: Path) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["experiment", "long-context", "--check", "--out", str(out)])
    return code, printed.getvalue()


def _copy_results(source: Path, target: Path) -> dict[str, Any]:
    target.mkdir(parents=True, exist_ok=True)
    return dict(json.loads((source / RESULTS_FILE).read_text(encoding="utf-8")))


def _save(results: dict[str, Any], out: Path) -> None:
    (out / RESULTS_FILE).write_text(json.dumps(results), encoding="utf-8")


def test_check_passes_on_what_the_sweep_wrote(quick_out: Path) -> None:
    """`--check` reruns an RNN and an LSTM run of a fresh sweep and finds them the same."""
    code, printed = _check(quick_out)
    assert code == 0, printed
    reruns = [line for line in printed.splitlines() if line.startswith("same: ")]
    assert any(line.startswith("same: rnn ") for line in reruns)
    assert any(line.startswith("same: lstm") for line in reruns)


def test_check_detects_a_tampered_stored_run(quick_out: Path, tmp_path: Path) -> None:
    """Changing one stored number of a rerun run (its step count) makes `--check` fail."""
    results = _copy_results(quick_out, tmp_path)
    (name, n, seed), _ = long_context.check_runs(results)
    index = results["sweep"]["seeds"].index(seed)
    results["accuracy"][name][str(n)]["steps_run"][index] += 1
    _save(results, tmp_path)
    code, printed = _check(tmp_path)
    assert code == 1
    assert f"DIFFERENT: {name} N={n} seed={seed}: steps_run" in printed


def test_check_detects_a_summary_that_its_seeds_do_not_give(
    quick_out: Path, tmp_path: Path
) -> None:
    """A stored mean that is not the mean of the stored per-seed accuracies fails the check."""
    results = _copy_results(quick_out, tmp_path)
    results["accuracy"]["gru_chrono"]["8"]["mean"] += 0.01
    _save(results, tmp_path)
    code, printed = _check(tmp_path)
    assert code == 1 and "DIFFERENT summary of gru_chrono N=8" in printed


def test_check_reports_a_stale_fingerprint(quick_out: Path, tmp_path: Path) -> None:
    """A stored fingerprint of other kernel code is reported as stale, naming the file."""
    results = _copy_results(quick_out, tmp_path)
    results["fingerprint"]["files"]["kernels/lstm.py"] = "0" * 64
    results["fingerprint"]["sha256"] = "f" * 64
    _save(results, tmp_path)
    code, printed = _check(tmp_path)
    assert code == 1
    assert "STALE fingerprint" in printed and "kernels/lstm.py" in printed


def test_fingerprint_follows_kernel_code_not_page_code(tmp_path: Path) -> None:
    """Editing a kernel the sweep uses changes the fingerprint; editing the page writer does not."""
    package = tmp_path / "lstm_sym"
    shutil.copytree(ROOT / "lstm_sym", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = fingerprint(QUICK, package)["sha256"]
    with (package / "experiments" / "page.py").open("a", encoding="utf-8") as page:
        page.write("# a comment\n")
    assert fingerprint(QUICK, package)["sha256"] == before
    with (package / "kernels" / "gru.py").open("a", encoding="utf-8") as kernel:
        kernel.write("# a comment\n")
    assert fingerprint(QUICK, package)["sha256"] != before


def test_cached_runs_are_not_trained_again(tmp_path: Path) -> None:
    """A second sweep with the same cache trains nothing and collects the same results."""
    sweep = SweepConfig(
        fillers=(4,), seeds=(0, 1), train=QUICK.train, diagnostic_filler=4,
        diagnostic_batch=8, saliency_fillers=(4,), saliency_batch=8,
        variants=VARIANTS[:1], only=(), quick=True,
    )  # fmt: skip
    first = long_context.run_sweep(sweep, jobs=1, cache=tmp_path)
    second = long_context.run_sweep(sweep, jobs=1, cache=tmp_path)
    assert (first["timing"]["runs_trained"], second["timing"]["runs_trained"]) == (2, 0)
    assert second["timing"]["runs_cached"] == 2
    first.pop("timing")
    second.pop("timing")
    assert first == second


def test_saliency_matches_finite_differences() -> None:
    """‖∂ logit_correct / ∂ x_t‖ per step equals a central-difference estimate of it."""
    kernel = load_kernel("lstm")
    task = LongContextTask(3, n_classes=3, n_fillers_vocab=2)
    batch = task.sample(2, np.random.default_rng(5))
    rng = np.random.default_rng(6)
    params = kernel.init_params(task.input_size, 4, seed=1, dtype=np.float64)
    readout = {"W_y": rng.normal(size=(3, 4)), "b_y": rng.normal(size=3)}

    def logits(xs: np.ndarray) -> np.ndarray:
        hs, _, _ = kernel.forward(xs, params)
        z = hs[-1] @ readout["W_y"].T + readout["b_y"]
        return np.asarray(z[np.arange(2), batch.labels])

    T, B, D = batch.xs.shape
    grad = np.zeros((T, B, D))
    eps = 1e-6
    for t in range(T):
        for d in range(D):
            up, down = batch.xs.copy(), batch.xs.copy()
            up[t, :, d] += eps
            down[t, :, d] -= eps
            grad[t, :, d] = (logits(up) - logits(down)) / (2 * eps)
    expected = np.linalg.norm(grad, axis=2).mean(axis=1)
    got = input_saliency(kernel, params, readout, batch)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_chrono_biases_lie_in_log_range() -> None:
    """Chrono draws b = log u with u in [1, T_max − 1]: every bias in [0, log(T_max − 1)]."""
    biases = chrono_bias(2000, 102, np.random.default_rng(0))
    assert biases.min() >= 0.0 and biases.max() <= np.log(101.0)
    assert biases.max() > np.log(90.0)  # the draws spread over the range
    assert np.exp(biases).mean() == pytest.approx(51.0, rel=0.05)  # u uniform on [1, 101]


def test_chrono_sets_input_bias_to_minus_forget_bias() -> None:
    """Chrono on the LSTM sets b_f = log u per unit and b_i = −b_f; other biases untouched."""
    kernel = load_kernel("lstm")
    params = kernel.init_params(5, 16, seed=0)
    b_C = params["b_C"].copy()
    apply_init("lstm", params, "chrono", 12, np.random.default_rng(1))
    assert np.all((params["b_f"] >= 0.0) & (params["b_f"] <= np.log(11.0)))
    np.testing.assert_array_equal(params["b_i"], -params["b_f"])
    np.testing.assert_array_equal(params["b_C"], b_C)


def test_chrono_forget_only_keeps_the_drawn_input_bias() -> None:
    """The first ablation sets chrono's b_f (same draws as chrono) and leaves b_i as drawn."""
    kernel = load_kernel("lstm")
    params = kernel.init_params(5, 16, seed=0)
    b_i = params["b_i"].copy()
    apply_init("lstm", params, "chrono_forget_only", 12, np.random.default_rng(1))
    np.testing.assert_array_equal(params["b_i"], b_i)
    np.testing.assert_array_equal(params["b_f"], chrono_bias(16, 12, np.random.default_rng(1)))


def test_chrono_fixed_tmax_ignores_the_sequence_length() -> None:
    """The second ablation draws b_f = log u, u in [1, FIXED_T_MAX − 1], whatever T_max says."""
    kernel = load_kernel("lstm")
    params = kernel.init_params(5, 64, seed=0)
    apply_init("lstm", params, "chrono_fixed_tmax", 1002, np.random.default_rng(1))
    assert np.all((params["b_f"] >= 0.0) & (params["b_f"] <= np.log(FIXED_T_MAX - 1)))
    assert params["b_f"].max() > np.log(FIXED_T_MAX - 1) - 0.5
    np.testing.assert_array_equal(params["b_i"], -params["b_f"])


def test_chrono_on_the_gru_opens_its_keep_gate() -> None:
    """In lstm_sym's GRU (h = (1 − z)·h_prev + z·h̃) chrono sets b_z = −log u, so 1 − z keeps."""
    kernel = load_kernel("gru")
    params = kernel.init_params(5, 16, seed=0)
    apply_init("gru", params, "chrono", 12, np.random.default_rng(1))
    assert np.all((params["b_z"] <= 0.0) & (params["b_z"] >= -np.log(11.0)))
    torch_form = load_kernel("gru_torch").init_params(5, 16, seed=0)
    apply_init("gru_torch", torch_form, "chrono", 12, np.random.default_rng(1))
    np.testing.assert_array_equal(torch_form["b_z"], -params["b_z"])


def test_forget_bias_inits_set_b_f_exactly() -> None:
    """`forget_bias_0` and `forget_bias_1` set every b_f to 0 and 1 and leave b_i alone."""
    kernel = load_kernel("lstm")
    for init, value in (("forget_bias_0", 0.0), ("forget_bias_1", 1.0)):
        params = kernel.init_params(5, 16, seed=0)
        b_i = params["b_i"].copy()
        apply_init("lstm", params, init, 12, np.random.default_rng(1))
        np.testing.assert_array_equal(params["b_f"], value)
        np.testing.assert_array_equal(params["b_i"], b_i)


def test_chrono_refuses_a_cell_without_a_keep_gate() -> None:
    """Asking for chrono on the plain RNN is an error that names the cell."""
    params = load_kernel("rnn").init_params(5, 4, seed=0)
    with pytest.raises(ValueError, match="rnn"):
        apply_init("rnn", params, "chrono", 12, np.random.default_rng(0))


def test_t_interval_matches_a_hand_computation() -> None:
    """For 0.2, 0.4, 0.6, 0.8, 1.0: mean 0.6, s = √0.1, t(0.975, 4) = 2.776 → 0.6 ± 0.39259."""
    low, high = t_interval_95([0.2, 0.4, 0.6, 0.8, 1.0])
    assert low == pytest.approx(0.207414, abs=1e-5)
    assert high == pytest.approx(0.992586, abs=1e-5)


def test_t_interval_is_clipped_to_the_accuracy_range() -> None:
    """For 0, 1, 1 the half-width 4.303·0.57735/√3 = 1.434 exceeds the range: [0, 1]."""
    assert t_interval_95([0.0, 1.0, 1.0]) == (0.0, 1.0)


def test_t_interval_of_agreeing_seeds_has_zero_width() -> None:
    """Seeds that all reach the same accuracy give an interval of zero width at that value."""
    assert t_interval_95([1.0] * 5) == (1.0, 1.0)


def test_t_critical_beyond_the_table_matches_published_values() -> None:
    """Past 30 degrees of freedom the expansion gives t(0.975, 60) = 2.000, (120) = 1.980."""
    assert t_critical_95(60) == pytest.approx(2.000, abs=1e-3)
    assert t_critical_95(120) == pytest.approx(1.980, abs=1e-3)


def test_success_rate_counts_seeds_at_or_above_095() -> None:
    """0.95 counts as a success, 0.949 does not: two of 0.95, 0.949, 1.0, 0.1 → 0.5."""
    assert success_rate([0.95, 0.949, 1.0, 0.1]) == 0.5


def _committed() -> dict[str, Any]:
    return dict(json.loads((COMMITTED / RESULTS_FILE).read_text(encoding="utf-8")))


def test_committed_results_cover_the_sweep() -> None:
    """Every run of the full sweep (to N = 1000, 5 seeds) is in the committed results, or is
    listed there as missing; every figure is there."""
    results = _committed()
    assert not results["quick"]
    assert results["sweep"]["fillers"] == [10, 30, 100, 300, 1000]
    assert len(results["sweep"]["seeds"]) >= 5
    declared = set(results.get("missing", []))
    for variant, n, seed in long_context.FULL.runs():
        point = results["accuracy"].get(variant.name, {}).get(str(n))
        assert point is not None or f"{variant.name} N={n} seed={seed}" in declared
    for name in PLOT_FILES:
        assert (COMMITTED / name).is_file(), name


def test_committed_page_is_rendered_from_committed_results() -> None:
    """docs/experiments/long-context.md is exactly what the renderer makes of results.json."""
    page = (COMMITTED.parent / "long-context.md").read_text(encoding="utf-8")
    assert page == render_page(_committed(), "long-context")
