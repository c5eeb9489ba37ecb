"""Time a 2-layer bidirectional LSTM stack against its four kernel calls and against torch.

Usage::

    python benchmarks/bench_layers.py            # T=50, B=32, D=128, H=256; float32 and float64
    python benchmarks/bench_layers.py --quick    # tiny sizes, 3 repeats (the script works)
    python benchmarks/bench_layers.py --size 100,64,128,256 --repeats 9

Contenders, all forward + backward, timed in one process, interleaved (A, B, C, D, A, …) after
a warm-up, each sample after an untimed settle pause, summarised by the median:

* ``stack``: :class:`lstm_sym.layers.Stack` (``lstm``, ``num_layers=2, bidirectional=True``);
* ``4 kernels``: the same four layer-directions as bare ``lstm.forward`` / ``lstm.backward``
  calls on inputs prepared in advance (reversed and concatenated outside the timing) — the
  cost of the layers without the stack around them. Goal: ``stack / 4 kernels`` ≤ 1.1;
* ``stack+len``: the stack with random ``lengths`` in T/2 … T (packed-sequence semantics; it
  does fewer steps, so it is for information);
* ``torch``: ``torch.nn.LSTM(num_layers=2, bidirectional=True)`` on the CPU, autograd forward
  + backward (input gradient included), with as many threads as NumPy's BLAS.

No test asserts these numbers; they are printed. On a busy machine, ``--clock cpu`` with
``OPENBLAS_NUM_THREADS=1`` (torch then gets one thread too) measures the work rather than the
wait.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lstm_sym.kernels import lstm
from lstm_sym.layers import Stack

SETTLE_S = 0.1
MIN_SAMPLE_S = 0.05


def blas_threads() -> int:
    """Threads of NumPy's BLAS (threadpoolctl when installed, else the usual variables)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [
            int(info["num_threads"]) for info in threadpool_info() if info.get("user_api") == "blas"
        ]
        if counts:
            return max(counts)
    except ImportError:
        pass
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return os.cpu_count() or 1


def time_interleaved(
    calls: Mapping[str, Callable[[], object]],
    repeats: int,
    settle_s: float,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each contender, interleaved, after one warm-up round."""
    number = {}
    for name, call in calls.items():
        start = clock()
        call()
        number[name] = max(1, math.ceil(MIN_SAMPLE_S / max(clock() - start, 1e-7)))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    gc.disable()
    try:
        for _ in range(repeats):
            for name, call in calls.items():
                time.sleep(settle_s)
                start = clock()
                for _ in range(number[name]):
                    call()
                samples[name].append((clock() - start) / number[name])
            gc.collect()
    finally:
        gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def contenders(T: int, B: int, D: int, H: int, dtype: Any) -> dict[str, Callable[[], object]]:
    """The four forward+backward calls to time, on the same random problem."""
    rng = np.random.default_rng(0)
    stack = Stack("lstm", D, H, num_layers=2, bidirectional=True)
    params = stack.init_params(seed=0, dtype=dtype)
    xs = rng.standard_normal((T, B, D)).astype(dtype)
    douts = rng.standard_normal((T, B, 2 * H)).astype(dtype)
    lengths = rng.integers(T // 2, T + 1, size=B)
    lengths[0] = T

    # The four layer-directions' inputs and output gradients, prepared outside the timing.
    outputs, _, _ = stack.forward(xs, params)
    layer0 = Stack("lstm", D, H, num_layers=1, bidirectional=True)
    layer1_input = np.ascontiguousarray(
        layer0.forward(xs, {k: v for k, v in params.items() if k.startswith("l0")})[0]
    )
    problems = []
    for layer, layer_xs in ((0, xs), (1, layer1_input)):
        for reverse in (False, True):
            own = stack.layer_params(params, layer, reverse)
            inputs = np.ascontiguousarray(layer_xs[::-1]) if reverse else layer_xs
            dhs = np.ascontiguousarray(rng.standard_normal((T, B, H)).astype(dtype))
            problems.append((own, inputs, dhs))

    def stack_fb() -> object:
        _, _, cache = stack.forward(xs, params)
        return stack.backward(douts, cache)

    def stack_lengths_fb() -> object:
        _, _, cache = stack.forward(xs, params, lengths=lengths)
        return stack.backward(douts, cache)

    def kernels_fb() -> object:
        result = None
        for own, inputs, dhs in problems:
            _, _, cache = lstm.forward(inputs, own)
            result = lstm.backward(dhs, cache)
        return result

    calls: dict[str, Callable[[], object]] = {
        "stack": stack_fb,
        "4 kernels": kernels_fb,
        "stack+len": stack_lengths_fb,
    }
    try:
        import torch
    except ImportError:
        print("torch is not installed: no torch column")
        return calls
    from lstm_sym.interop.torch import stack_params_to_torch

    torch.set_num_threads(blas_threads())
    module = stack_params_to_torch(params)
    x = torch.from_numpy(xs).requires_grad_(True)
    dout = torch.from_numpy(douts)
    parameters = list(module.parameters())
    check = float(np.max(np.abs(module(torch.from_numpy(xs))[0].detach().numpy() - outputs)))
    assert check < (1e-4 if dtype == np.float32 else 1e-10), check

    def torch_fb() -> object:
        x.grad = None
        for parameter in parameters:
            parameter.grad = None
        out, _ = module(x)
        out.backward(dout)
        return x.grad

    calls["torch"] = torch_fb
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats")
    parser.add_argument("--size", default=None, help="T,B,D,H (default 50,32,128,256)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--dtype", choices=("float32", "float64"), action="append")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: this process's CPU time (steadier on a shared machine; all threads counted)",
    )
    arguments = parser.parse_args(argv)
    size = arguments.size or ("8,4,8,16" if arguments.quick else "50,32,128,256")
    T, B, D, H = (int(part) for part in size.split(","))
    repeats = arguments.repeats or (3 if arguments.quick else 9)
    settle = 0.0 if arguments.quick else SETTLE_S
    print(
        f"2-layer bidirectional lstm, forward + backward, T={T} B={B} D={D} H={H}; "
        f"median of {repeats}, interleaved, {settle:.2f} s settle; BLAS threads {blas_threads()}; "
        f"{arguments.clock} clock"
    )
    header = f"{'dtype':<8} {'stack':>9} {'4 kernels':>10} {'stack+len':>10} {'torch':>9}"
    print(f"{header}   stack/4 kernels   stack/torch")
    for dtype_name in arguments.dtype or ["float32", "float64"]:
        clock = time.process_time if arguments.clock == "cpu" else time.perf_counter
        calls = contenders(T, B, D, H, np.dtype(dtype_name))
        medians = time_interleaved(calls, repeats, settle, clock)
        cells = [
            f"{medians[name] * 1e3:8.1f}ms" if name in medians else "      n/a"
            for name in ("stack", "4 kernels", "stack+len", "torch")
        ]
        ratio = medians["stack"] / medians["4 kernels"]
        versus_torch = f"{medians['stack'] / medians['torch']:.2f}" if "torch" in medians else "n/a"
        print(
            f"{dtype_name:<8} {cells[0]:>9} {cells[1]:>10} {cells[2]:>10} {cells[3]:>9}   "
            f"{ratio:15.3f}   {versus_torch:>11}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
