"""Smoke test of benchmarks/bench_torch.py: its contenders run and compute the same thing."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from lstm_sym.regenerate import repository_root


def _bench():  # type: ignore[no-untyped-def]
    path = repository_root() / "benchmarks" / "bench_torch.py"
    spec = importlib.util.spec_from_file_location("bench_torch", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("cell", ["lstm", "peephole_lstm", "mgu"])
def test_loop_computes_the_generated_cell(cell: str) -> None:
    """The benchmark's autograd loop gives the generated module's outputs (float64, tiny size)."""
    bench = _bench()
    module = bench._torch_module(cell)
    xs, params, state = bench._problem(torch, module, (5, 2, 3, 4), torch.float64)
    state = {k: torch.randn_like(v) for k, v in state.items()}
    expected, _ = module.forward(xs, params, state)
    got, _ = bench.LOOPS[cell](torch, xs, params, state)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_timing_runs_every_contender() -> None:
    """_time returns one time per repeat for generated, loop and nn.LSTM."""
    bench = _bench()
    times = bench._time(
        bench._contenders(torch, "lstm", (4, 2, 3, 4), torch.float32), 2, lambda: None
    )
    assert sorted(times) == ["generated", "loop", "nn.LSTM"]
    assert all(len(values) == 2 for values in times.values())


def test_memory_worker_measures_forward_then_backward() -> None:
    """memory_worker returns the growth over forward and over forward + backward, in order."""
    bench = _bench()
    forward, total = bench.memory_worker("lstm", "generated", (50, 8, 16, 16))
    assert 0 <= forward <= total
