"""Time the generated NumPy LSTM kernel against a hand-written baseline, torch and the GEMM limit.

Usage::

    python benchmarks/bench_kernels.py                 # full sizes, float32 and float64
    python benchmarks/bench_kernels.py --quick         # tiny sizes, 3 repeats (CI smoke test)
    python benchmarks/bench_kernels.py --json          # also write benchmarks/results/kernels.json
    python benchmarks/bench_kernels.py --kernel fast=/tmp/lstm_fast.py   # time another module too

Everything is timed in one process, interleaved (A, B, C, A, B, C, ...), after a warm-up, and
summarised by the median of the repeats, so slow drifts of a shared machine hit every
contender alike. Per (dtype, size) the contenders are:

* ``gen fb`` / ``gen fwd``: each kernel module (default :mod:`lstm_sym.kernels.lstm`),
  forward+backward and forward only;
* ``base fb`` / ``base fwd``: the hand-written fused NumPy LSTM in ``baseline_lstm.py``;
* ``torch train`` / ``torch inf``: ``torch.nn.LSTM`` on CPU with as many threads as the BLAS
  NumPy uses (skipped with a note when torch cannot be imported);
* ``gemm fb`` / ``gemm fwd``: only the matrix products the kernel must do (input projection,
  T recurrent GEMMs forward and T backward, the weight-gradient GEMMs and the ``dxs`` GEMM),
  same shapes, preallocated outputs: the time a kernel would take if its elementwise work and
  Python overhead were free.

Peak memory of forward+backward is measured with :mod:`tracemalloc` (NumPy reports its
allocations to it) and compared with the bytes of inputs + outputs + the kernel's cache.
Before any timing, ``check_baseline`` verifies that the baseline and every kernel agree.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline_lstm

FULL_SIZES = ((50, 32, 128, 256), (100, 64, 256, 512), (100, 1, 64, 64))
QUICK_SIZES = ((6, 3, 5, 8), (10, 2, 4, 16))
DTYPES = (np.float32, np.float64)
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "kernels.json"
#: A timing sample repeats a call until it lasts at least this long (seconds).
MIN_SAMPLE_S = 0.02

#: Targets of issue #7: (ratio key, limit, sizes it applies to or None for all, dtypes or None).
TARGETS: tuple[
    tuple[str, float, tuple[tuple[int, ...], ...] | None, tuple[str, ...] | None], ...
] = (
    ("gen_fb/base_fb", 0.9, None, None),
    ("gen_fb/torch_train", 0.8, ((50, 32, 128, 256),), ("float32",)),
    ("gen_fb/torch_train", 1.0, ((100, 64, 256, 512),), ("float32",)),
    ("gen_fb/torch_train", 0.5, ((50, 32, 128, 256), (100, 64, 256, 512)), ("float64",)),
    ("gen_fwd/torch_inf", 1.2, ((50, 32, 128, 256), (100, 64, 256, 512)), None),
    ("gen_fb/torch_train", 1.5, ((100, 1, 64, 64),), None),
    ("gemm_fraction_fb", -0.85, ((100, 64, 256, 512),), None),  # negative: a lower bound
    ("peak_memory_ratio", 1.3, None, None),
)


# --------------------------------------------------------------------------- machine info


def machine_info() -> dict[str, Any]:
    """Describe the machine: CPU, cores, NumPy and its BLAS, threadpools, torch.

    Returns
    -------
    dict
        JSON-serialisable description.
    """
    torch = _import_torch()  # first, so that threadpoolctl sees torch's thread pools too
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(_THREAD_ENV_PREFIXES)},
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[index]
        info["numpy_blas"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration")}
    except Exception as error:  # informational only
        info["numpy_blas"] = f"unavailable: {error}"
    try:
        import threadpoolctl

        info["threadpools"] = [
            {
                k: pool.get(k)
                for k in (
                    "user_api",
                    "internal_api",
                    "version",
                    "num_threads",
                    "architecture",
                    "threading_layer",
                )
            }
            for pool in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    info["torch"] = None if torch is None else torch.__version__
    return info


_THREAD_ENV_PREFIXES = ("OPENBLAS", "OMP_", "MKL_", "GOTO", "BLIS")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_threads() -> int:
    """Threads NumPy's BLAS runs with (threadpoolctl if available, else usable cores)."""
    try:
        import threadpoolctl

        counts = [
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        ]
        if counts:
            return int(counts[0])
    except ImportError:
        pass
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_TORCH: Any = False


def _import_torch() -> Any:
    global _TORCH
    if _TORCH is False:
        try:
            import torch

            _TORCH = torch
        except ImportError:
            _TORCH = None
    return _TORCH


# --------------------------------------------------------------------------- kernels


def load_kernels(specs: Sequence[str]) -> dict[str, ModuleType]:
    """Load the kernel modules to time.

    Parameters
    ----------
    specs : sequence of str
        Each ``PATH`` or ``NAME=PATH`` of a Python file with the generated kernel's API; empty
        means the committed :mod:`lstm_sym.kernels.lstm` alone, named ``gen``.

    Returns
    -------
    dict of str to module
        Name to module, in the order given.
    """
    if not specs:
        return {"gen": importlib.import_module("lstm_sym.kernels.lstm")}
    kernels = {}
    for spec in specs:
        name, _, path = spec.rpartition("=")
        if path == "gen" or path == "lstm_sym.kernels.lstm":
            kernels[name or "gen"] = importlib.import_module("lstm_sym.kernels.lstm")
            continue
        name = name or Path(path).stem
        module_spec = importlib.util.spec_from_file_location(f"_bench_kernel_{name}", path)
        if module_spec is None or module_spec.loader is None:
            raise SystemExit(f"cannot load a kernel from {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        kernels[name] = module
    return kernels


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-300)
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)) / scale)


def check_baseline(kernel: ModuleType, tolerance: float = 1e-10) -> float:
    """Check that the baseline and ``kernel`` compute the same outputs and gradients.

    In float64 with non-zero initial state and final-state gradient, every output and every
    gradient tensor must agree to ``tolerance`` relative (norm-wise); in float32 to 1e-4.

    Parameters
    ----------
    kernel : module
        A module with the generated kernel's API.
    tolerance : float
        Largest relative error allowed in float64.

    Returns
    -------
    float
        The largest float64 relative error seen.

    Raises
    ------
    AssertionError
        If any tensor disagrees by more than the tolerance.
    """
    worst = 0.0
    for dtype, limit in ((np.float64, tolerance), (np.float32, 1e-4)):
        for T, B, D, H in ((1, 1, 1, 1), (5, 3, 4, 6), (9, 2, 7, 5)):
            rng = np.random.default_rng(T * 100 + H)
            params = kernel.init_params(D, H, seed=T, dtype=dtype)
            xs = (2 * rng.standard_normal((T, B, D))).astype(dtype)
            state = {k: rng.standard_normal((B, H)).astype(dtype) for k in ("h", "C")}
            dstate = {k: rng.standard_normal((B, H)).astype(dtype) for k in ("h", "C")}
            dhs = rng.standard_normal((T, B, H)).astype(dtype)
            hs, final, cache = kernel.forward(xs, params, state)
            grads = kernel.backward(dhs, cache, dstate)
            packed = baseline_lstm.pack_params(params)
            b_hs, b_final, b_cache = baseline_lstm.forward(xs, packed, state)
            b_grads = baseline_lstm.unpack_grads(baseline_lstm.backward(dhs, b_cache, dstate))
            pairs = {
                "hs": (hs, b_hs),
                "h": (final["h"], b_final["h"]),
                "C": (final["C"], b_final["C"]),
            }
            pairs.update({f"d{k}": (grads[k], b_grads[k]) for k in b_grads})
            for key, (ours, theirs) in pairs.items():
                if ours.dtype != dtype:
                    raise AssertionError(f"{key}: dtype {ours.dtype}, expected {np.dtype(dtype)}")
                error = _relative(ours, theirs)
                if not error <= limit:
                    raise AssertionError(
                        f"{kernel.__name__} and the baseline disagree on {key} at "
                        f"{np.dtype(dtype)} (T,B,D,H)={(T, B, D, H)}: relative error {error:.3g}"
                        f" > {limit:g}"
                    )
                if dtype == np.float64:
                    worst = max(worst, error)
    return worst


# --------------------------------------------------------------------------- contenders


class Problem:
    """Inputs of one (dtype, size) cell of the benchmark, shared by every contender."""

    def __init__(self, size: tuple[int, int, int, int], dtype: Any, kernel: ModuleType) -> None:
        T, B, D, H = size
        self.size, self.dtype = size, np.dtype(dtype)
        rng = np.random.default_rng(0)
        self.params = kernel.init_params(D, H, seed=0, dtype=dtype)
        self.xs = rng.standard_normal((T, B, D)).astype(dtype)
        self.dhs = rng.standard_normal((T, B, H)).astype(dtype)


def kernel_calls(kernel: ModuleType, p: Problem) -> dict[str, Callable[[], object]]:
    """Forward+backward and forward-only calls of a kernel module."""

    def fb() -> object:
        _, _, cache = kernel.forward(p.xs, p.params)
        return kernel.backward(p.dhs, cache)

    def fwd() -> object:
        return kernel.forward(p.xs, p.params)

    return {"fb": fb, "fwd": fwd}


def baseline_calls(p: Problem) -> dict[str, Callable[[], object]]:
    """Forward+backward and forward-only calls of the hand-written baseline."""
    packed = baseline_lstm.pack_params(p.params)

    def fb() -> object:
        _, _, cache = baseline_lstm.forward(p.xs, packed)
        return baseline_lstm.backward(p.dhs, cache)

    def fwd() -> object:
        return baseline_lstm.forward(p.xs, packed)

    return {"fb": fb, "fwd": fwd}


def torch_calls(p: Problem, threads: int) -> dict[str, Callable[[], object]] | None:
    """Training (autograd forward+backward, input gradient included) and inference calls."""
    torch = _import_torch()
    if torch is None:
        return None
    torch.set_num_threads(threads)
    _, _, D, H = p.size
    tdtype = torch.float32 if p.dtype == np.float32 else torch.float64
    module = torch.nn.LSTM(D, H).to(tdtype)
    W = np.concatenate([p.params[f"W_{g}"] for g in ("i", "f", "C", "o")], axis=0)
    b = np.concatenate([p.params[f"b_{g}"] for g in ("i", "f", "C", "o")])
    with torch.no_grad():
        module.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[:, :H])))
        module.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[:, H:])))
        module.bias_ih_l0.copy_(torch.from_numpy(b))
        module.bias_hh_l0.zero_()
    x = torch.from_numpy(p.xs).requires_grad_(True)
    x_inf = torch.from_numpy(p.xs)
    dh = torch.from_numpy(p.dhs)
    parameters = list(module.parameters())

    def train() -> object:
        x.grad = None
        for parameter in parameters:
            parameter.grad = None
        out, _ = module(x)
        out.backward(dh)
        return x.grad

    def inference() -> object:
        with torch.no_grad():
            return module(x_inf)

    return {"fb": train, "fwd": inference}


def gemm_calls(kernel: ModuleType, p: Problem) -> dict[str, Callable[[], object]]:
    """The kernel's matrix products alone, same shapes, outputs preallocated.

    Forward: ``(T B, D) @ (D, 4H)`` once and ``(B, H) @ (H, 4H)`` T times. Backward:
    ``(B, 4H) @ (4H, H)`` T times, ``(4H, T B) @ (T B, H)``, ``(4H, T B) @ (T B, D)`` and
    ``(T B, 4H) @ (4H, D)``.
    """
    T, B, D, H = p.size
    hs, _, _ = kernel.forward(p.xs, p.params)
    dtype = p.dtype
    W = np.concatenate([p.params[f"W_{g}"] for g in ("f", "i", "C", "o")], axis=0)
    WhT = np.ascontiguousarray(W[:, :H].T)
    WxT = np.ascontiguousarray(W[:, H:].T)
    Wh = np.ascontiguousarray(W[:, :H])
    Wx = np.ascontiguousarray(W[:, H:])
    x_flat = p.xs.reshape(T * B, D)
    h_flat = np.ascontiguousarray(hs).reshape(T * B, H)
    dA = np.random.default_rng(1).standard_normal((T, B, 4 * H)).astype(dtype)
    dA_flat = dA.reshape(T * B, 4 * H)
    proj = np.empty((T * B, 4 * H), dtype)
    prod = np.empty((B, 4 * H), dtype)
    dh = np.empty((B, H), dtype)
    dWh = np.empty((4 * H, H), dtype)
    dWx = np.empty((4 * H, D), dtype)
    dxs = np.empty((T * B, D), dtype)

    def fwd() -> object:
        np.matmul(x_flat, WxT, out=proj)
        for t in range(T):
            np.matmul(hs[t], WhT, out=prod)
        return prod

    def fb() -> object:
        fwd()
        for t in range(T):
            np.matmul(dA[t], Wh, out=dh)
        np.matmul(dA_flat.T, h_flat, out=dWh)
        np.matmul(dA_flat.T, x_flat, out=dWx)
        np.matmul(dA_flat, Wx, out=dxs)
        return dxs

    return {"fb": fb, "fwd": fwd}


# --------------------------------------------------------------------------- timing


def time_interleaved(
    calls: Mapping[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, dict[str, float]]:
    """Time every call in turn, ``repeats`` rounds, after ``warmup`` untimed rounds.

    A call faster than :data:`MIN_SAMPLE_S` is repeated inside its sample (the count is fixed
    from the warm-up), and the sample divided by the count.

    Returns
    -------
    dict
        Per call: ``median``, ``min``, ``max`` seconds per call and ``number`` of inner calls.
    """
    number = dict.fromkeys(calls, 1)
    for _ in range(warmup):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            elapsed = time.perf_counter() - start
            number[name] = max(1, math.ceil(MIN_SAMPLE_S / max(elapsed, 1e-7)))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, call in calls.items():
                n = number[name]
                start = time.perf_counter()
                for _ in range(n):
                    call()
                samples[name].append((time.perf_counter() - start) / n)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {
        name: {"median": statistics.median(s), "min": min(s), "max": max(s), "number": number[name]}
        for name, s in samples.items()
    }


def _nbytes(value: Any, seen: set[int]) -> int:
    """Bytes of the distinct array buffers in a (nested) value; views of one buffer count once."""
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        key = id(base) if base is not value else id(value)
        if key in seen:
            return 0
        seen.add(key)
        return int(base.nbytes)
    if isinstance(value, Mapping):
        return sum(_nbytes(v, seen) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_nbytes(v, seen) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(_nbytes(getattr(value, f), seen) for f in value.__dataclass_fields__)
    return 0


def peak_memory(kernel: ModuleType, p: Problem) -> dict[str, float]:
    """Peak traced bytes of forward+backward, against inputs + outputs + cache.

    Returns
    -------
    dict
        ``peak_bytes`` (inputs included), ``inputs_bytes``, ``outputs_bytes``,
        ``cache_bytes`` (the kernel's cache less its inputs) and ``ratio``.
    """
    seen: set[int] = set()
    inputs = _nbytes((p.xs, p.params, p.dhs), seen)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        hs, final, cache = kernel.forward(p.xs, p.params)
        grads = kernel.backward(p.dhs, cache)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    outputs = _nbytes((hs, final, grads), seen)
    cache_bytes = _nbytes(cache, seen)
    floor = inputs + outputs + cache_bytes
    return {
        "peak_bytes": inputs + peak,
        "inputs_bytes": inputs,
        "outputs_bytes": outputs,
        "cache_bytes": cache_bytes,
        "ratio": (inputs + peak) / floor,
    }


# --------------------------------------------------------------------------- driver


def run(
    kernels: Mapping[str, ModuleType],
    sizes: Sequence[tuple[int, int, int, int]],
    dtypes: Sequence[Any],
    repeats: int,
    use_torch: bool,
) -> list[dict[str, Any]]:
    """Benchmark every (dtype, size); returns one record per (kernel, dtype, size)."""
    threads = blas_threads()
    records = []
    first = next(iter(kernels.values()))
    for dtype in dtypes:
        for size in sizes:
            p = Problem(size, dtype, first)
            calls: dict[str, Callable[[], object]] = {}
            for name, kernel in kernels.items():
                for mode, call in kernel_calls(kernel, p).items():
                    calls[f"{name}:{mode}"] = call
            for mode, call in baseline_calls(p).items():
                calls[f"base:{mode}"] = call
            torch_ = torch_calls(p, threads) if use_torch else None
            if torch_ is not None:
                for mode, call in torch_.items():
                    calls[f"torch:{mode}"] = call
            for mode, call in gemm_calls(first, p).items():
                calls[f"gemm:{mode}"] = call
            timings = time_interleaved(calls, repeats)
            for name, kernel in kernels.items():
                records.append(_record(name, kernel, p, timings, torch_ is not None))
            rows = format_table(records[-len(kernels) :]).splitlines()[2:]
            print("\n".join(rows), file=sys.stderr, flush=True)
    return records


def _record(
    name: str, kernel: ModuleType, p: Problem, timings: Mapping[str, Any], has_torch: bool
) -> dict[str, Any]:
    med = {key: value["median"] for key, value in timings.items()}
    fb, fwd = med[f"{name}:fb"], med[f"{name}:fwd"]
    ratios = {
        "gen_fb/base_fb": fb / med["base:fb"],
        "gen_fwd/base_fwd": fwd / med["base:fwd"],
        "gemm_fraction_fb": med["gemm:fb"] / fb,
        "gemm_fraction_fwd": med["gemm:fwd"] / fwd,
    }
    if has_torch:
        ratios["gen_fb/torch_train"] = fb / med["torch:fb"]
        ratios["gen_fwd/torch_inf"] = fwd / med["torch:fwd"]
    memory = peak_memory(kernel, p)
    ratios["peak_memory_ratio"] = memory["ratio"]
    own = {f"gen:{mode}": timings[f"{name}:{mode}"] for mode in ("fb", "fwd")}
    others = {k: v for k, v in timings.items() if k.split(":")[0] in ("base", "torch", "gemm")}
    return {
        "kernel": name,
        "kernel_file": getattr(kernel, "__file__", None),
        "dtype": str(p.dtype),
        "size": {"T": p.size[0], "B": p.size[1], "D": p.size[2], "H": p.size[3]},
        "timings_s": own | others,
        "ratios": ratios,
        "memory": memory,
        "targets": _targets(p.size, str(p.dtype), ratios),
    }


def _targets(size: tuple[int, ...], dtype: str, ratios: Mapping[str, float]) -> dict[str, bool]:
    result = {}
    for key, limit, sizes, dtypes in TARGETS:
        if (
            key not in ratios
            or (sizes and tuple(size) not in sizes)
            or (dtypes and dtype not in dtypes)
        ):
            continue
        label = f"{key} {'>=' if limit < 0 else '<='} {abs(limit):g}"
        result[label] = ratios[key] >= -limit if limit < 0 else ratios[key] <= limit
    return result


def format_table(records: Sequence[Mapping[str, Any]]) -> str:
    """Render records as a fixed-width table, one row per (kernel, dtype, size)."""
    header = (
        f"{'kernel':<8} {'dtype':<7} {'T,B,D,H':<16} {'gen fb ms':>9} {'base fb':>8} "
        f"{'torch tr':>8} {'÷base':>6} {'÷torch':>6} {'gen fwd':>8} {'torch inf':>9} "
        f"{'fwd÷inf':>7} {'gemm ms':>8} {'gemm%':>6} {'mem×':>5}  misses"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        t, q = r["timings_s"], r["ratios"]
        s = r["size"]
        torch_fb = t.get("torch:fb", {}).get("median")
        torch_fwd = t.get("torch:fwd", {}).get("median")
        misses = ", ".join(label for label, ok in r["targets"].items() if not ok) or "-"
        lines.append(
            f"{r['kernel']:<8} {r['dtype']:<7} {'{T},{B},{D},{H}'.format(**s):<16} "
            f"{1e3 * t['gen:fb']['median']:>9.2f} {1e3 * t['base:fb']['median']:>8.2f} "
            f"{_ms(torch_fb):>8} {q['gen_fb/base_fb']:>6.2f} "
            f"{_fmt(q.get('gen_fb/torch_train')):>6} {1e3 * t['gen:fwd']['median']:>8.2f} "
            f"{_ms(torch_fwd):>9} {_fmt(q.get('gen_fwd/torch_inf')):>7} "
            f"{1e3 * t['gemm:fb']['median']:>8.2f} {100 * q['gemm_fraction_fb']:>5.0f}% "
            f"{q['peak_memory_ratio']:>5.2f}  {misses}"
        )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{1e3 * value:.2f}"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats")
    parser.add_argument(
        "--json",
        nargs="?",
        const=str(DEFAULT_JSON),
        default=None,
        metavar="PATH",
        help=f"write raw medians, ratios and machine info (default path {DEFAULT_JSON})",
    )
    parser.add_argument(
        "--kernel",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="time this kernel module (repeatable; 'gen' is the committed kernel)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 7)")
    parser.add_argument("--size", action="append", default=[], metavar="T,B,D,H")
    parser.add_argument("--dtype", action="append", default=[], choices=["float32", "float64"])
    parser.add_argument("--no-torch", action="store_true", help="skip torch even if importable")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    kernels = load_kernels(args.kernel)
    for name, kernel in kernels.items():
        error = check_baseline(kernel)
        print(f"check_baseline[{name}]: ok (float64 max relative error {error:.2g})")
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.size] or (
        QUICK_SIZES if args.quick else FULL_SIZES
    )
    dtypes = [np.dtype(d).type for d in args.dtype] or list(DTYPES)
    repeats = args.repeats or (3 if args.quick else 7)
    info = machine_info()
    info["benchmark_threads"] = blas_threads()
    use_torch = not args.no_torch and _import_torch() is not None
    print(
        f"CPU: {info['cpu_model']}, {info['usable_cores']} usable cores; numpy {info['numpy']}, "
        f"BLAS {info['numpy_blas']}; torch {info['torch']}"
    )
    print(f"threadpools: {info['threadpools']}")
    print(f"thread env: {info['env']}")
    if not use_torch:
        print("note: torch not importable (or --no-torch): torch columns are n/a")
    records = run(kernels, sizes, dtypes, repeats, use_torch)
    print(f"\nmedians of {repeats} interleaved runs (ratios < 1: the kernel is faster)")
    print(format_table(records))
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"machine": info, "repeats": repeats, "quick": args.quick, "records": records}
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
