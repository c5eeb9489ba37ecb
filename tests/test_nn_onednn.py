"""The generated torch modules' oneDNN path: large float32 CPU products, same results."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import torch

from lstm_sym.nn import load_torch_module

#: B·H·(rows of the stacked weight) ≥ 2²⁰ for every cell below: the per-step products
#: go to oneDNN in float32; three steps keep it quick.
LARGE = (3, 32, 8, 128)
SMALL = (3, 2, 3, 4)


def _counting(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[int]:
    """Count the calls the module makes to oneDNN's product (none when the build lacks it)."""
    calls = [0]
    original = module._ONEDNN_LINEAR
    if original is not None:

        def counted(*args: Any) -> torch.Tensor:
            calls[0] += 1
            return original(*args)

        monkeypatch.setattr(module, "_ONEDNN_LINEAR", counted)
    return calls


def _run(
    module: ModuleType, shape: tuple[int, int, int, int], dtype: torch.dtype
) -> list[torch.Tensor]:
    """Outputs and every gradient of one forward + backward, as float64."""
    T, B, D, H = shape
    g = torch.Generator().manual_seed(0)
    params = {
        name: ((torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1) * H**-0.5)
        .to(dtype)
        .requires_grad_()
        for name, s in module.parameter_shapes(D, H).items()
    }
    xs = torch.randn(T, B, D, generator=g, dtype=torch.float64).to(dtype).requires_grad_()
    hs, _ = module.forward(xs, params)
    weights = torch.randn(hs.shape, generator=g, dtype=torch.float64).to(dtype)
    (hs * weights).sum().backward()
    assert xs.grad is not None
    grads = [params[name].grad for name in module.PARAMETER_NAMES]
    return [t.detach().double() for t in [hs, xs.grad, *grads] if t is not None]


@pytest.mark.parametrize("cell", ["lstm", "gru_torch", "peephole_lstm"])
def test_float32_on_onednn_follows_float64(cell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large float32 products go to oneDNN (where built) and stay within 1e-4 of float64."""
    module = load_torch_module(cell)
    calls = _counting(monkeypatch, module)
    low = _run(module, LARGE, torch.float32)
    assert calls[0] > 0 or not torch.backends.mkldnn.is_available()
    high = _run(module, LARGE, torch.float64)
    for got, want in zip(low, high, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_float64_never_goes_to_onednn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Float64 products stay on torch.mm whatever their size (oneDNN's product is float32)."""
    module = load_torch_module("lstm")
    calls = _counting(monkeypatch, module)
    _run(module, LARGE, torch.float64)
    assert calls[0] == 0


def test_small_products_stay_on_torch_mm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Float32 products below the threshold stay on torch.mm, where they are faster."""
    module = load_torch_module("lstm")
    calls = _counting(monkeypatch, module)
    _run(module, SMALL, torch.float32)
    assert calls[0] == 0


def test_disabling_mkldnn_keeps_products_on_torch_mm(monkeypatch: pytest.MonkeyPatch) -> None:
    """With torch.backends.mkldnn disabled, as for nn.LSTM, no product goes to oneDNN."""
    module = load_torch_module("lstm")
    calls = _counting(monkeypatch, module)
    with torch.backends.mkldnn.flags(enabled=False):
        _run(module, LARGE, torch.float32)
    assert calls[0] == 0
