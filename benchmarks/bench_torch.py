"""Time the generated torch modules against nn.LSTM / nn.GRU, an autograd loop and NumPy.

Forward plus backward, medians of interleaved repeats, in float32 and float64, 2 threads:

* in ONE process, the torch contenders of a cell (generated, ``nn.LSTM`` for ``lstm`` /
  ``nn.GRU`` for ``gru_torch``, the same cell written as plain torch ops with autograd
  through a Python loop for ``lstm``, ``peephole_lstm`` and the user cell ``mgu``);
* the NumPy kernel in a SEPARATE process (NumPy's and torch's thread pools slow each other
  down when they share one);
* peak resident memory of forward plus backward at T = 1000, each contender in a fresh
  process (growth of the high-water mark over the state after setup);
* on CUDA, when present, the generated LSTM against cuDNN's ``nn.LSTM``.

Run ``python benchmarks/bench_torch.py`` (about 10 minutes on two busy cores), or
``--quick`` for a smoke run at a tiny size. Ratios < 1 mean the generated module is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPES = [(50, 32, 128, 256), (100, 64, 256, 512), (100, 1, 64, 64), (1000, 32, 32, 32)]
MEMORY_SHAPE = (1000, 32, 32, 32)


# ---------------------------------------------------------------- autograd loops (plain torch)


def _stacked_gates(torch, xs, p):  # type: ignore[no-untyped-def]
    """H, the input projection of every step at once (T, B, 4H, gates f, i, C, o) and the
    stacked recurrent weights transposed (H, 4H): the hoisting a researcher writes first."""
    H = p["W_f"].shape[0]
    W = torch.cat([p["W_f"], p["W_i"], p["W_C"], p["W_o"]])
    b = torch.cat([p["b_f"], p["b_i"], p["b_C"], p["b_o"]])
    T, B, D = xs.shape
    xw = torch.addmm(b, xs.reshape(T * B, D), W[:, H:].t()).view(T, B, 4 * H)
    return H, xw, W[:, :H].t()


def loop_lstm(torch, xs, p, state):  # type: ignore[no-untyped-def]
    """The LSTM as a researcher writes it: hoisted input GEMM, autograd through the loop."""
    H, xw, W_hT = _stacked_gates(torch, xs, p)
    h, C = state["h"], state["C"]
    outputs = []
    for x_t in xw.unbind(0):
        a = torch.addmm(x_t, h, W_hT)
        f, i, o = (
            torch.sigmoid(a[:, :H]),
            torch.sigmoid(a[:, H : 2 * H]),
            torch.sigmoid(a[:, 3 * H :]),
        )
        C = f * C + i * torch.tanh(a[:, 2 * H : 3 * H])
        h = o * torch.tanh(C)
        outputs.append(h)
    return torch.stack(outputs), {"h": h, "C": C}


def loop_peephole(torch, xs, p, state):  # type: ignore[no-untyped-def]
    """Peephole LSTM (gates also read the cell) as an autograd loop."""
    H, xw, W_hT = _stacked_gates(torch, xs, p)
    h, C = state["h"], state["C"]
    outputs = []
    for x_t in xw.unbind(0):
        a = torch.addmm(x_t, h, W_hT)
        f = torch.sigmoid(a[:, :H] + p["p_f"] * C)
        i = torch.sigmoid(a[:, H : 2 * H] + p["p_i"] * C)
        C = f * C + i * torch.tanh(a[:, 2 * H : 3 * H])
        o = torch.sigmoid(a[:, 3 * H :] + p["p_o"] * C)
        h = o * torch.tanh(C)
        outputs.append(h)
    return torch.stack(outputs), {"h": h, "C": C}


def loop_mgu(torch, xs, p, state):  # type: ignore[no-untyped-def]
    """The user cell examples/mgu.cell as an autograd loop."""
    H = p["W_f"].shape[0]
    T, B, D = xs.shape
    xf = torch.addmm(p["b_f"], xs.reshape(T * B, D), p["W_f"][:, H:].t()).view(T, B, H)
    xh = torch.addmm(p["b_h"], xs.reshape(T * B, D), p["W_h"][:, H:].t()).view(T, B, H)
    W_fT, W_hT = p["W_f"][:, :H].t(), p["W_h"][:, :H].t()
    h = state["h"]
    outputs = []
    for xf_t, xh_t in zip(xf.unbind(0), xh.unbind(0), strict=True):
        f = torch.sigmoid(torch.addmm(xf_t, h, W_fT))
        candidate = torch.tanh(torch.addmm(xh_t, f * h, W_hT))
        h = h + f * (candidate - h)
        outputs.append(h)
    return torch.stack(outputs), {"h": h}


LOOPS = {"lstm": loop_lstm, "peephole_lstm": loop_peephole, "mgu": loop_mgu}


# ---------------------------------------------------------------- setup


def _torch_module(cell: str):  # type: ignore[no-untyped-def]
    if cell == "mgu":
        from lstm_sym.backends.torch import render_torch_module
        from lstm_sym.derive import derive
        from lstm_sym.spec import parse_spec_file
        from lstm_sym.verify.gradcheck import kernel_from_source

        source = render_torch_module(
            derive(parse_spec_file(ROOT / "examples" / "mgu.cell")), "mgu.cell", "bench"
        )
        return kernel_from_source(source, "mgu_torch")
    from lstm_sym.nn import load_torch_module

    return load_torch_module(cell)


def _problem(torch, module, shape, dtype, device="cpu"):  # type: ignore[no-untyped-def]
    T, B, D, H = shape
    g = torch.Generator().manual_seed(0)
    bound = H**-0.5
    params = {
        name: ((torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1) * bound)
        .to(dtype=dtype, device=device)
        .requires_grad_()
        for name, s in module.parameter_shapes(D, H).items()
    }
    xs = (
        torch.randn(T, B, D, generator=g, dtype=torch.float64)
        .to(dtype=dtype, device=device)
        .requires_grad_()
    )
    state = {name: torch.zeros(B, H, dtype=dtype, device=device) for name in module.STATE_NAMES}
    return xs, params, state


def _contenders(torch, cell, shape, dtype, device="cpu"):  # type: ignore[no-untyped-def]
    """name → callable running forward + backward once."""
    module = _torch_module(cell)
    xs, params, state = _problem(torch, module, shape, dtype, device)

    def run(forward: Callable) -> Callable[[], None]:  # type: ignore[type-arg]
        def once() -> None:
            hs, _ = (
                forward(torch, xs, params, state)
                if forward in LOOPS.values()
                else forward(xs, params, state)
            )
            hs.sum().backward()

        return once

    result = {"generated": run(module.forward)}
    if cell in LOOPS:
        result["loop"] = run(LOOPS[cell])
    if cell in ("lstm", "gru_torch"):
        D, H = shape[2], shape[3]
        kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        reference = kind(D, H).to(dtype=dtype, device=device)

        def builtin() -> None:
            hs, _ = reference(xs)
            hs.sum().backward()

        result["nn.LSTM" if cell == "lstm" else "nn.GRU"] = builtin
    return result


def _time(
    functions: dict[str, Callable[[], None]], repeats: int, sync: Callable[[], None]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        function()  # warm-up
    for _ in range(repeats):
        for name, function in functions.items():  # interleaved: drifts in load hit every one
            sync()
            start = time.perf_counter()
            function()
            sync()
            times[name].append(time.perf_counter() - start)
    return times


def _repeats(shape: tuple[int, ...], quick: bool) -> int:
    if quick:
        return 2
    T, B, D, H = shape
    return 5 if T * B * H * (D + H) > 5e8 else 9


def _summary(values: list[float]) -> str:
    low, middle, high = (1e3 * v for v in (min(values), statistics.median(values), max(values)))
    return f"{middle:.1f} ms [{low:.1f}–{high:.1f}]"


# ---------------------------------------------------------------- workers (separate processes)


def numpy_worker(shape: tuple[int, int, int, int], dtype: str, repeats: int) -> list[float]:
    """Forward + backward times of the NumPy LSTM kernel (run in its own process)."""
    import numpy as np

    from lstm_sym.kernels import lstm

    T, B, D, H = shape
    params = lstm.init_params(D, H, seed=0, dtype=dtype)
    xs = np.random.default_rng(0).standard_normal((T, B, D)).astype(dtype)
    times = []
    for index in range(repeats + 1):
        start = time.perf_counter()
        hs, _, cache = lstm.forward(xs, params)
        lstm.backward(np.ones_like(hs), cache)
        if index:
            times.append(time.perf_counter() - start)
    return times


def _peak_mib() -> float:
    """This process's peak resident memory in MiB.

    Linux's ``VmHWM`` where there is one: ``ru_maxrss`` carries over the parent's peak through
    fork and exec, so in a worker started by a large benchmark process it would hide the
    worker's own growth.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_worker(cell: str, name: str, shape: tuple[int, int, int, int]) -> list[float]:
    """Growth of peak resident memory (MiB) over forward, then over forward + backward.

    Run in its own process: the high-water mark only grows, so the forward pass is measured
    first (its graph or saved tensors still alive), then the backward pass after it.
    """
    import torch

    torch.set_num_threads(2)
    module = _torch_module(cell)
    xs, params, state = _problem(torch, module, shape, torch.float32)
    before = _peak_mib()
    if name == "loop":
        hs, _ = LOOPS[cell](torch, xs, params, state)
    else:
        hs, _ = module.forward(xs, params, state)
    forward = _peak_mib()
    hs.sum().backward()
    after = _peak_mib()
    return [forward - before, after - before]


def _subprocess(arguments: list[str]) -> object:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(OMP_NUM_THREADS="2", MKL_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")
    output = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, check=True, env=env
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# ---------------------------------------------------------------- main


#: (what is compared, shape, goal on generated/other, as text): the goals of issue #23.
GOALS = [
    ("nn.LSTM", (100, 64, 256, 512), 1.1, "≤ 1.1× nn.LSTM's time"),
    ("nn.LSTM", (50, 32, 128, 256), 1.5, "≤ 1.5× nn.LSTM's time"),
    ("loop", (50, 32, 128, 256), 1 / 1.5, "≥ 1.5× faster than the loop"),
    ("loop", (1000, 32, 32, 32), 1 / 1.5, "≥ 1.5× faster than the loop"),
]


def _goals(ratios: dict[tuple[str, str, str, tuple[int, ...]], float], memory: list[float]) -> None:
    """Print each goal of issue #23 with the measured ratio (float32, lstm) and met / missed."""
    print("\ngoals (float32, lstm; ratio = generated / other, medians):")
    for other, shape, bound, text in GOALS:
        ratio = ratios.get(("float32", "lstm", other, shape))
        if ratio is not None:
            verdict = "met" if ratio <= bound else "MISSED"
            print(f"  {text} at {shape}: {ratio:.2f} → {verdict}")
    loop = [(k, v) for k, v in ratios.items() if k[2] == "loop"]
    if loop:
        worst_key, worst = max(loop, key=lambda item: item[1])
        verdict = "met" if worst <= 1.0 else "MISSED"
        print(
            f"  no slower than the loop at any shape, cell and dtype: worst {worst:.2f} "
            f"({worst_key[0]} {worst_key[1]} {worst_key[3]}) → {verdict}"
        )
    if memory:
        verdict = "met" if max(memory) <= 0.6 else "MISSED"
        print(f"  peak memory ≤ 0.6× the loop's at T = 1000: worst {max(memory):.2f} → {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tiny shape, two repeats")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cells", default="lstm,gru_torch,peephole_lstm,mgu")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy comparison")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory comparison")
    parser.add_argument("--numpy-worker", help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.numpy_worker:
        shape, dtype, repeats = json.loads(args.numpy_worker)
        print(json.dumps(numpy_worker(tuple(shape), dtype, repeats)))
        return
    if args.memory_worker:
        cell, name, shape = json.loads(args.memory_worker)
        print(json.dumps(memory_worker(cell, name, tuple(shape))))
        return

    import torch

    torch.set_num_threads(args.threads)
    shapes = [(12, 3, 5, 7)] if args.quick else SHAPES
    cells = args.cells.split(",")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU "
        f"(oneDNN {'on' if torch.backends.mkldnn.is_available() else 'absent'}); forward + "
        "backward, medians [min–max] of interleaved repeats, (T, B, D, H)"
    )
    ratios: dict[tuple[str, str, str, tuple[int, ...]], float] = {}
    for dtype in (getattr(torch, name) for name in args.dtypes.split(",")):
        for shape in shapes:
            repeats = _repeats(shape, args.quick)
            for cell in cells:
                times = _time(_contenders(torch, cell, shape, dtype), repeats, lambda: None)
                ours = statistics.median(times["generated"])
                parts = [f"{name} {_summary(values)}" for name, values in times.items()]
                for name, values in times.items():
                    if name != "generated":
                        ratios[(str(dtype)[6:], cell, name, shape)] = ours / statistics.median(
                            values
                        )
                shown = [
                    f"generated/{name} {ratio:.2f}"
                    for (d, c, name, s), ratio in ratios.items()
                    if (d, c, s) == (str(dtype)[6:], cell, shape)
                ]
                print(f"{str(dtype)[6:]} {shape} {cell}: " + "; ".join(parts + shown), flush=True)
            if not args.no_numpy and "lstm" in cells:
                name = str(dtype)[6:]
                numpy_times = _subprocess(["--numpy-worker", json.dumps([shape, name, repeats])])
                torch_times = _time(
                    _contenders(torch, "lstm", shape, dtype), repeats, lambda: None
                )["generated"]
                assert isinstance(numpy_times, list)
                print(
                    f"{name} {shape} lstm: NumPy kernel (own process) {_summary(numpy_times)}; "
                    "generated/NumPy "
                    f"{statistics.median(torch_times) / statistics.median(numpy_times):.2f}",
                    flush=True,
                )
    memory: list[float] = []
    if not args.no_memory:
        shape = (40, 4, 8, 8) if args.quick else MEMORY_SHAPE
        for cell in ("lstm", "peephole_lstm", "mgu"):
            if cell not in cells:
                continue
            peaks = {
                name: _subprocess(["--memory-worker", json.dumps([cell, name, shape])])
                for name in ("generated", "loop")
            }
            (ours_f, ours_b), (loop_f, loop_b) = peaks["generated"], peaks["loop"]  # type: ignore[misc]
            ratio_f, ratio_b = (
                ours / loop if loop > 0 else float("nan")
                for ours, loop in ((ours_f, loop_f), (ours_b, loop_b))
            )
            memory += [r for r in (ratio_f, ratio_b) if r == r]  # NaN: nothing grew
            print(
                f"peak memory growth, float32 {shape} {cell} (own processes): forward: generated "
                f"{ours_f:.1f} MiB, loop {loop_f:.1f} MiB, ratio {ratio_f:.2f}; forward + "
                f"backward: generated {ours_b:.1f} MiB, loop {loop_b:.1f} MiB, ratio {ratio_b:.2f}",
                flush=True,
            )
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name(0)
        for dtype in (torch.float32, torch.float64):
            for shape in shapes:
                times = _time(
                    _contenders(torch, "lstm", shape, dtype, "cuda"),
                    _repeats(shape, args.quick),
                    torch.cuda.synchronize,
                )
                ours = statistics.median(times["generated"])
                cudnn = statistics.median(times["nn.LSTM"])
                print(
                    f"CUDA {device} {str(dtype)[6:]} {shape} lstm: generated "
                    f"{_summary(times['generated'])}; cuDNN nn.LSTM {_summary(times['nn.LSTM'])}; "
                    f"ratio {ours / cudnn:.2f}",
                    flush=True,
                )
    else:
        print("CUDA: no CUDA device present, so no cuDNN comparison")
    _goals(ratios, memory)


if __name__ == "__main__":
    main()
