"""The kernel benchmark (``benchmarks/bench_kernels.py``) and the Performance page it feeds."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_sym.kernels import load_kernel
from lstm_sym.site.performance import render_markdown

REPO = Path(__file__).resolve().parents[1]
#: Cells of the benchmark's default run, plus one with several recurrent operands per stack.
CELLS = ("lstm", "gru", "gru_torch", "peephole_lstm", "lstm_fgr")


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_kernels", REPO / "benchmarks" / "bench_kernels.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _matmul_shapes(call: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> Counter[Any]:
    """The (left shape, right shape) of every ``np.matmul`` that ``call`` makes."""
    seen: Counter[Any] = Counter()
    matmul = np.matmul

    def counting(a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        seen[(np.shape(a), np.shape(b))] += 1
        return matmul(a, b, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(np, "matmul", counting)
        call()
    return seen


@pytest.mark.parametrize("cell", CELLS)
def test_gemm_limit_issues_the_kernels_own_matrix_products(
    cell: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GEMM limit built from LINEAR_STACKS makes exactly the kernel's matrix products."""
    kernel = load_kernel(cell)
    problem = bench.Problem((4, 3, 5, 6), np.float64, kernel)
    ours = _matmul_shapes(bench.kernel_calls(kernel, problem)["fb"], monkeypatch)
    limit = _matmul_shapes(bench.gemm_calls(kernel, problem)["fb"], monkeypatch)
    assert sum(ours.values()) > 0
    assert limit == ours


@pytest.mark.parametrize("cell", CELLS[:4])
def test_gemm_limit_flops_follow_from_the_weight_shapes(
    cell: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit costs 2 flops per weight entry and (t, b) row forward, 4 more backward."""
    kernel = load_kernel(cell)
    T, B, D, H = 5, 2, 3, 4
    weights = sum(
        math.prod(shape) for shape in kernel.parameter_shapes(D, H).values() if len(shape) == 2
    )
    problem = bench.Problem((T, B, D, H), np.float64, kernel)
    calls = bench.gemm_calls(kernel, problem)
    for mode, per_entry in (("fwd", 2), ("fb", 6)):
        shapes = _matmul_shapes(calls[mode], monkeypatch)
        flops = sum(2 * a[0] * a[1] * b[1] * n for (a, b), n in shapes.items())
        assert flops == per_entry * T * B * weights, mode


def test_torch_reference_check_accepts_the_gru_torch_mapping() -> None:
    """``gru_torch`` and ``nn.GRU`` built by the interop mapping agree to rounding in float64."""
    pytest.importorskip("torch")
    error = bench.check_torch_reference(load_kernel("gru_torch"), bench.gru_torch_to_torch)
    assert error < 1e-12


def _swap(params: Mapping[str, np.ndarray], a: str, b: str) -> dict[str, np.ndarray]:
    swapped = dict(params)
    swapped[a], swapped[b] = params[b], params[a]
    return swapped


@pytest.mark.parametrize(
    ("first", "second"), [("W_r", "W_z"), ("b_xn", "b_hn")], ids=["gates-swapped", "biases-swapped"]
)
def test_torch_reference_check_rejects_a_wrong_gru_mapping(first: str, second: str) -> None:
    """A mapping that puts the wrong tensor into ``nn.GRU`` fails the check before any timing."""
    pytest.importorskip("torch")

    def wrong(params: Mapping[str, np.ndarray]) -> Any:
        return bench.gru_torch_to_torch(_swap(params, first, second))

    with pytest.raises(AssertionError, match="disagree"):
        bench.check_torch_reference(load_kernel("gru_torch"), wrong)


_seconds = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_infinity=False)


@given(fb=_seconds, gemm=_seconds, tiny_fb=_seconds, tiny_gemm=_seconds)
def test_profile_fractions_add_up_to_one_and_bound_by_is_the_largest(
    fb: float, gemm: float, tiny_fb: float, tiny_gemm: float
) -> None:
    """The profile's fractions are non-negative, sum to 1, and ``bound_by`` names the largest."""
    result = bench.profile(fb, gemm, tiny_fb, tiny_gemm)
    fractions = result["fractions"]
    assert set(fractions) == set(bench.PROFILE_PARTS)
    assert all(value >= 0 for value in fractions.values())
    assert math.isclose(sum(fractions.values()), 1.0)
    assert fractions[result["bound_by"]] == max(fractions.values())
    assert result["seconds"][result["bound_by"]] == max(result["seconds"].values())


def test_profile_parts_add_up_to_the_measured_time() -> None:
    """When no part is clamped, GEMM + overhead + elementwise is the measured fwd+bwd time."""
    fb, gemm, tiny_fb, tiny_gemm = 10e-3, 6e-3, 3e-3, 1e-3
    result = bench.profile(fb, gemm, tiny_fb, tiny_gemm)
    assert math.isclose(sum(result["seconds"].values()), fb)
    assert result["seconds"]["gemm"] == gemm
    assert result["bound_by"] == "gemm"


def test_tooling_commands_write_only_under_the_scratch_folder(tmp_path: Path) -> None:
    """Every tooling command names an output folder, and it lies inside the temporary folder."""
    output_options = {"--root", "--out", "-d", "--site-dir"}
    commands = bench.tooling_commands(tmp_path)
    assert {"lstm-sym regenerate", "mkdocs build --strict"} <= set(commands)
    for name, argv in commands.items():
        outputs = [Path(argv[i + 1]) for i, arg in enumerate(argv[:-1]) if arg in output_options]
        assert outputs, f"{name} writes to its default folder (in the repository)"
        for output in outputs:
            assert output.resolve().is_relative_to(tmp_path.resolve()), (name, output)


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The JSON of a tiny ``--quick`` run of two non-lstm cells and lstm."""
    path = tmp_path_factory.mktemp("bench") / "kernels.json"
    argv = ["--quick", "--repeats", "1", "--size", "4,2,3,5", "--dtype", "float64"]
    argv += ["--cell", "gru", "--cell", "gru_torch", "--cell", "lstm", "--json", str(path)]
    assert bench.main(argv) == 0
    yield json.loads(path.read_text())


def test_quick_run_writes_a_profiled_record_per_cell(quick_results: dict[str, Any]) -> None:
    """A tiny ``--quick`` run ends with one record per cell, each with a profile and no tooling."""
    records = {record["cell"]: record for record in quick_results["records"]}
    assert set(records) == {"gru", "gru_torch", "lstm"}
    assert "tooling" not in quick_results
    for cell, record in records.items():
        assert record["size"] == {"T": 4, "B": 2, "D": 3, "H": 5}
        assert record["profile"]["bound_by"] in bench.PROFILE_PARTS
        assert record["memory"]["ratio"] >= 1.0
        assert bool(record["targets"]) == (cell == "lstm")
        assert ("gen_fb/base_fb" in record["ratios"]) == (cell == "lstm")


def test_quick_run_names_the_torch_reference_and_whether_it_is_exact(
    quick_results: dict[str, Any],
) -> None:
    """``gru_torch`` is timed against ``nn.GRU`` as the same function, ``gru`` as the nearest."""
    pytest.importorskip("torch")
    references = {r["cell"]: r["torch_reference"] for r in quick_results["records"]}
    assert (references["gru_torch"]["module"], references["gru_torch"]["exact"]) == ("nn.GRU", True)
    assert (references["gru"]["module"], references["gru"]["exact"]) == ("nn.GRU", False)
    assert "nearest" in references["gru"]["note"]


def test_page_renders_every_cell_lstm_first_with_profile_and_tooling(
    quick_results: dict[str, Any], tmp_path: Path
) -> None:
    """The report has a section per cell (lstm first), each case's bound, and the tooling times."""
    data = dict(quick_results)
    data["tooling"] = {
        "mkdocs build --strict": {
            "command": "mkdocs build --strict",
            "seconds": 12.5,
            "returncode": 0,
        }
    }
    path = tmp_path / "kernels.json"
    path.write_text(json.dumps(data))
    page = render_markdown(path)
    headings = [line for line in page.splitlines() if line.startswith("### `")]
    assert [h.strip("#` ") for h in headings] == ["lstm", "gru", "gru_torch"]
    assert page.count("(4, 2, 3, 5)") >= 2 * len(headings)  # ratio and profile rows per cell
    assert "12.5 s" in page and "mkdocs build --strict" in page
    assert "None" not in page and "nan" not in page


def test_page_renders_results_written_before_several_cells(tmp_path: Path) -> None:
    """Older lstm-only results (no cell, profile, torch reference or tooling) still render."""
    timing = {"median": 0.01, "min": 0.009, "max": 0.011, "number": 1}
    record = {
        "kernel": "gen",
        "dtype": "float32",
        "size": {"T": 7, "B": 3, "D": 2, "H": 9},
        "timings_s": {key: timing for key in ("gen:fb", "gen:fwd", "base:fb", "torch:fb")},
        "ratios": {"gen_fb/base_fb": 1.1, "gen_fb/torch_train": 0.7, "peak_memory_ratio": 1.2},
        "memory": {"ratio": 1.2},
        "targets": {"gen_fb/base_fb <= 0.9": False},
    }
    data = {"machine": {"numpy": "9.8.7"}, "repeats": 7, "records": [record]}
    path = tmp_path / "kernels.json"
    path.write_text(json.dumps(data))
    page = render_markdown(path)
    assert "(7, 3, 2, 9)" in page
    assert "9.8.7" in page
    assert "gen_fb/base_fb <= 0.9" in page
    assert "nn.LSTM" in page
    assert "None" not in page


def test_every_timed_sample_starts_after_the_settle_pause(monkeypatch):
    """With ``settle_s`` set, each sample of each contender is preceded by one untimed pause."""
    pauses: list[float] = []
    monkeypatch.setattr(bench.time, "sleep", pauses.append)
    calls = {"a": lambda: None, "b": lambda: None}
    bench.time_interleaved(calls, repeats=3, warmup=1, min_sample_s=0.0, settle_s=0.25)
    assert pauses == [0.25] * 6


def test_every_timed_tooling_command_has_a_printed_budget(tmp_path: Path) -> None:
    """Each tooling command the benchmark times has a budget to print beside its time."""
    assert set(bench.tooling_commands(tmp_path)) == set(bench.TOOLING_BUDGETS_S)
