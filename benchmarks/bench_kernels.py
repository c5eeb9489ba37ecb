"""Time the generated NumPy kernels against a hand-written baseline, torch and the GEMM limit.

Usage::

    python benchmarks/bench_kernels.py                 # full sizes, float32 and float64, tooling
    python benchmarks/bench_kernels.py --quick         # tiny sizes, 3 repeats (CI smoke test)
    python benchmarks/bench_kernels.py --json          # also write benchmarks/results/kernels.json
    python benchmarks/bench_kernels.py --cell gru      # only these cells (repeatable)
    python benchmarks/bench_kernels.py --kernel fast=/tmp/lstm_fast.py   # time another LSTM module

Every cell of :data:`DEFAULT_CELLS` (or each ``--cell``) gets one row per (dtype, size). Within
a row everything is timed in one process, interleaved (A, B, C, A, B, C, ...), after a warm-up,
and summarised by the median of the repeats, so slow drifts of a shared machine hit every
contender alike. The contenders are:

* ``gen fb`` / ``gen fwd``: the cell's generated kernel (:mod:`lstm_sym.kernels.<cell>`),
  forward+backward and forward only; for ``lstm``, ``--kernel`` adds or replaces modules;
* ``base fb`` / ``base fwd``: the hand-written fused NumPy LSTM in ``baseline_lstm.py`` (``lstm``
  only; n/a for the other cells);
* ``torch train`` / ``torch inf``: the torch module of :data:`TORCH_REFERENCES` on CPU with as
  many threads as the BLAS NumPy uses: ``nn.LSTM`` for ``lstm`` and ``nn.GRU`` for ``gru_torch``
  (the same functions), ``nn.GRU`` for ``gru`` and ``nn.LSTM`` for ``peephole_lstm`` (the nearest
  torch cells: same matrix-product sizes, not the same function). Skipped with a note when
  torch cannot be imported;
* ``gemm fb`` / ``gemm fwd``: only the matrix products the kernel must do, read from its
  ``INPUT_NAME`` and ``LINEAR_STACKS`` (see :func:`gemm_calls`), same shapes, preallocated
  outputs: the time a kernel would take if its elementwise work and Python overhead were free;
* ``gen fb tiny`` / ``gemm fb tiny``: the kernel and its GEMM limit at the same T with
  B = D = H = 1, for the profile (see :func:`profile`).

The **profile** splits the forward+backward time into three parts: *GEMM*, the GEMM-limit time;
*per-step overhead*, the Python and NumPy per-call cost, estimated as the kernel's time at the
same T with B = D = H = 1 (where the array work is about zero, so what remains is the cost of
the calls), less the GEMM limit's own time at that size (its call overhead is already in the
GEMM part); and *elementwise*, the rest (clamped at 0). ``bound_by`` names the largest part.

Peak memory of forward+backward is measured with :mod:`tracemalloc` (NumPy reports its
allocations to it) and compared with the bytes of inputs + outputs + the kernel's cache.
Before any timing, ``check_baseline`` verifies that the baseline and every ``lstm`` kernel
agree, and ``check_torch_reference`` that every cell with an exact torch counterpart computes
what that torch module computes (float64, outputs and gradients).

``--tooling`` (the default without ``--quick``) also times ``lstm-sym regenerate`` (every
built-in cell, written under a temporary ``--root``) and ``mkdocs build --strict`` (site written
to a temporary ``-d``), one run each, wall time of the subprocess.

The targets of :data:`TARGETS` are the ``lstm`` kernel's; the other cells' ratios are reported
for information, with no pass/fail.

``--json`` writes ``machine``, ``repeats``, ``quick``, ``cells``, ``records`` and, when timed,
``tooling`` (per command: ``command``, ``seconds``, ``returncode``). A record, one per (cell,
kernel, dtype, size), holds ``cell``, ``kernel``, ``kernel_file``, ``dtype``, ``size``,
``torch_reference`` (``module``, ``exact``, ``note``; null without torch or a counterpart),
``timings_s`` (median, min, max, inner count per contender), ``ratios``, ``profile``
(``seconds`` and ``fractions`` per part, ``bound_by``, ``measured_s``), ``memory``,
``targets_apply`` and ``targets``.
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
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline_lstm

REPO = Path(__file__).resolve().parent.parent
FULL_SIZES = ((50, 32, 128, 256), (100, 64, 256, 512), (100, 1, 64, 64))
QUICK_SIZES = ((6, 3, 5, 8), (10, 2, 4, 16))
DTYPES = (np.float32, np.float64)
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "kernels.json"
#: Cells benchmarked when no ``--cell`` is given.
DEFAULT_CELLS = ("lstm", "gru", "gru_torch", "peephole_lstm")
#: The cell the hand-written baseline and :data:`TARGETS` belong to.
BASELINE_CELL = "lstm"
#: A timing sample repeats a call until it lasts at least this long (seconds).
MIN_SAMPLE_S = 0.02
#: Untimed pause before every sample. On 2 cores, interleaved torch and NumPy slow each other
#: down, most likely because the worker threads of the library that ran last still spin on the
#: other core. Measured: torch training at float32 (50, 32, 128, 256) took 22-90 ms across runs
#: without a pause and 12.5-12.8 ms with this one; the NumPy kernels were unaffected.
SETTLE_S = 0.12
#: The same with ``--quick``, where the numbers only prove that the script works.
QUICK_MIN_SAMPLE_S = 0.004
#: Names of the profile's parts, in the order the table shows them.
PROFILE_PARTS = ("gemm", "overhead", "elementwise")

#: Targets of issue #7: (ratio key, limit, sizes it applies to or None for all, dtypes or None).
#: They apply to the ``lstm`` cell only.
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


def load_cell(name: str) -> ModuleType:
    """Import the generated kernel module of built-in cell ``name``.

    Imported directly (not through :func:`lstm_sym.kernels.load_kernel`, which loads SymPy to
    validate the name): every object alive while timing makes each garbage collection slower.

    Raises
    ------
    SystemExit
        If there is no generated kernel of that name.
    """
    if not name.isidentifier() or name.startswith("_"):
        raise SystemExit(f"--cell {name}: not a cell name")
    try:
        return importlib.import_module(f"lstm_sym.kernels.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"lstm_sym.kernels.{name}":
            raise
        raise SystemExit(f"--cell {name}: no generated kernel lstm_sym/kernels/{name}.py") from None


def load_kernels(specs: Sequence[str]) -> dict[str, ModuleType]:
    """Load the ``lstm`` kernel modules to time.

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


def _relative(a: Any, b: Any) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-300)
    return float(np.linalg.norm(a - b) / scale)


def check_baseline(kernel: ModuleType, tolerance: float = 1e-10) -> float:
    """Check that the baseline and ``kernel`` compute the same outputs and gradients.

    In float64 with non-zero initial state and final-state gradient, every output and every
    gradient tensor must agree to ``tolerance`` relative (norm-wise); in float32 to 1e-4.

    Parameters
    ----------
    kernel : module
        A module with the generated ``lstm`` kernel's API.
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


# --------------------------------------------------------------------------- torch references

#: The kernel's parameter dict to a torch module holding the same (or the nearest) weights.
TorchBuilder = Callable[[Mapping[str, np.ndarray]], Any]

_LSTM_PARAMETERS = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")


def lstm_to_torch(params: Mapping[str, np.ndarray]) -> Any:
    """An ``nn.LSTM`` with the gate weights and biases of an LSTM-family parameter dict.

    Only the keys of :mod:`lstm_sym.kernels.lstm` are read, so a peephole LSTM's dict gives
    the nearest ``nn.LSTM`` (its peepholes dropped). Mapped by
    :func:`lstm_sym.interop.torch.params_to_torch`.
    """
    from lstm_sym.interop.torch import params_to_torch

    return params_to_torch({key: params[key] for key in _LSTM_PARAMETERS})


def gru_torch_to_torch(params: Mapping[str, np.ndarray]) -> Any:
    """The ``nn.GRU`` that computes what :mod:`lstm_sym.kernels.gru_torch` computes."""
    from lstm_sym.interop.torch import gru_params_to_torch

    return gru_params_to_torch(params)


def cho_gru_to_torch(params: Mapping[str, np.ndarray]) -> Any:
    """The nearest ``nn.GRU`` to a :mod:`lstm_sym.kernels.gru` (Cho) parameter dict.

    The gates keep their weights; the candidate's ``W_h = [W_hh, W_hx]`` becomes torch's
    ``W_hn`` and ``W_in`` with ``b_hn = 0``. Torch then applies the reset gate *after* the
    recurrent product rather than before it: the same matrix-product sizes, another function.
    """
    from lstm_sym.interop.torch import gru_params_to_torch

    H = params["W_h"].shape[0]
    return gru_params_to_torch(
        {
            "W_r": params["W_r"],
            "b_r": params["b_r"],
            "W_z": params["W_z"],
            "b_z": params["b_z"],
            "W_xn": params["W_h"][:, H:],
            "b_xn": params["b_h"],
            "W_hn": params["W_h"][:, :H],
            "b_hn": np.zeros_like(params["b_h"]),
        }
    )


@dataclass(frozen=True)
class TorchReference:
    """The torch module a cell is timed against.

    Attributes
    ----------
    module : str
        ``"nn.LSTM"`` or ``"nn.GRU"``.
    exact : bool
        True when the module computes the same function as the cell (then checked by
        :func:`check_torch_reference` before timing); False for the nearest torch cell.
    note : str
        Why it is (or is only near) the same.
    build : callable
        Parameter dict to a torch module of the parameters' dtype.
    """

    module: str
    exact: bool
    note: str
    build: TorchBuilder

    def describe(self) -> dict[str, Any]:
        """The JSON form stored in each record (``build`` left out)."""
        return {"module": self.module, "exact": self.exact, "note": self.note}


#: Cell name to its torch reference; cells not listed have none (torch columns n/a).
TORCH_REFERENCES: dict[str, TorchReference] = {
    "lstm": TorchReference("nn.LSTM", True, "the same function", lstm_to_torch),
    "gru_torch": TorchReference("nn.GRU", True, "the same function", gru_torch_to_torch),
    "gru": TorchReference(
        "nn.GRU",
        False,
        "nearest: torch resets after the recurrent product, Cho's GRU before it; "
        "same matrix-product sizes",
        cho_gru_to_torch,
    ),
    "peephole_lstm": TorchReference(
        "nn.LSTM",
        False,
        "nearest: torch's LSTM has no peepholes; same matrix-product sizes",
        lstm_to_torch,
    ),
}


def check_torch_reference(
    kernel: ModuleType,
    build: TorchBuilder,
    tolerance: float = 1e-10,
) -> float:
    """Check in float64 that ``build(params)`` computes what ``kernel`` computes.

    With random parameters, inputs, initial state and gradients of the outputs and the final
    state, compare the outputs, the final state, the gradients of the inputs and of the
    initial state, and the gradients of torch's weights and input biases (the kernel's
    gradients mapped by ``build``, which is linear). torch's state is the kernel's states in
    the order of ``STATE_NAMES`` (``h`` then ``C``), each (1, B, H).

    Parameters
    ----------
    kernel : module
        A generated kernel module.
    build : callable
        The parameter mapping to check, e.g. :func:`gru_torch_to_torch`.
    tolerance : float
        Largest relative (norm-wise) error allowed.

    Returns
    -------
    float
        The largest relative error seen.

    Raises
    ------
    AssertionError
        If any tensor disagrees by more than ``tolerance``.
    """
    import torch

    worst = 0.0
    names = tuple(kernel.STATE_NAMES)
    for T, B, D, H in ((1, 1, 1, 1), (5, 3, 4, 6), (9, 2, 7, 5)):
        rng = np.random.default_rng(T * 100 + H)
        params = kernel.init_params(D, H, seed=T, dtype=np.float64)
        xs = 2 * rng.standard_normal((T, B, D))
        state = {k: rng.standard_normal((B, H)) for k in names}
        dstate = {k: rng.standard_normal((B, H)) for k in names}
        dhs = rng.standard_normal((T, B, H))
        hs, final, cache = kernel.forward(xs, params, state)
        grads = kernel.backward(dhs, cache, dstate)

        module = build(params).double()
        x = torch.tensor(xs, requires_grad=True)
        initial = [torch.tensor(state[k][None], requires_grad=True) for k in names]
        out, torch_final = module(x, initial[0] if len(names) == 1 else tuple(initial))
        finals = [torch_final] if len(names) == 1 else list(torch_final)
        loss = (out * torch.tensor(dhs)).sum()
        for k, value in zip(names, finals, strict=True):
            loss = loss + (value * torch.tensor(dstate[k][None])).sum()
        loss.backward()

        mapped = build({k: grads[k] for k in kernel.PARAMETER_NAMES}).double()
        pairs: dict[str, tuple[Any, Any]] = {
            "hs": (hs, out.detach().numpy()),
            "dxs": (grads["xs"], x.grad.numpy()),
        }
        for k, value, start in zip(names, finals, initial, strict=True):
            pairs[k] = (final[k], value.detach().numpy()[0])
            pairs[f"d{k}0"] = (grads[f"{k}0"], start.grad.numpy()[0])
        for parameter in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0"):
            pairs[f"d{parameter}"] = (
                getattr(mapped, parameter).detach().numpy(),
                getattr(module, parameter).grad.numpy(),
            )
        for key, (ours, theirs) in pairs.items():
            error = _relative(ours, theirs)
            if not error <= tolerance:
                raise AssertionError(
                    f"{kernel.__name__} and its torch reference disagree on {key} at "
                    f"(T,B,D,H)={(T, B, D, H)}: relative error {error:.3g} > {tolerance:g}"
                )
            worst = max(worst, error)
    return worst


# --------------------------------------------------------------------------- contenders


class Problem:
    """Inputs of one (cell, dtype, size) row of the benchmark, shared by every contender."""

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


def torch_calls(
    p: Problem, threads: int, build: TorchBuilder = lstm_to_torch
) -> dict[str, Callable[[], object]] | None:
    """Training (autograd forward+backward, input gradient included) and inference calls.

    ``build`` turns the problem's parameters into the torch module (see
    :data:`TORCH_REFERENCES`); None when torch cannot be imported.
    """
    torch = _import_torch()
    if torch is None:
        return None
    torch.set_num_threads(threads)
    module = build(p.params)
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


#: One matrix product: ``np.matmul(a, b, out=out)``.
_Product = tuple[np.ndarray, np.ndarray, np.ndarray]


def gemm_calls(kernel: ModuleType, p: Problem) -> dict[str, Callable[[], object]]:
    """The kernel's matrix products alone, same shapes, outputs preallocated.

    Read from the kernel's ``INPUT_NAME`` and ``LINEAR_STACKS``: a stack of ``m`` members on
    operands ``o_1 … o_k`` has a weight of ``m H`` rows and a column block per operand (``D``
    columns for the input, ``H`` for any other operand). Per stack, with ``R = m H``:

    * forward: ``(T B, D) @ (D, R)`` once if the input is an operand (the hoisted input
      projection), and ``(B, H) @ (H, R)`` per step for each other operand;
    * backward: ``(B, R) @ (R, H)`` per step for each non-input operand; after the loop
      ``(R, T B) @ (T B, w)`` per operand (its weight gradient, ``w`` its width) and, if the
      input is an operand, ``(T B, R) @ (R, D)`` (its part of ``dxs``).

    For ``lstm`` (one stack, 4 members on ``h_prev, x``) these are the input projection, T
    recurrent GEMMs forward and T backward, ``dW_h``, ``dW_x`` and ``dxs``. Operand values do
    not matter to a GEMM's time; they are random, of the problem's dtype.
    """
    T, B, D, H = p.size
    rng = np.random.default_rng(1)
    dtype = p.dtype

    def random(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    x_flat = p.xs.reshape(T * B, D)
    history = random(T, B, H)  # stands for the history of every recurrent operand
    history_flat = history.reshape(T * B, H)
    fwd_once: list[_Product] = []
    fwd_step: list[_Product] = []
    bwd_step: list[_Product] = []
    bwd_once: list[_Product] = []
    for operands, members in kernel.LINEAR_STACKS:
        rows = members * H
        widths = [D if operand == kernel.INPUT_NAME else H for operand in operands]
        W = random(rows, sum(widths))
        dA = random(T, B, rows)
        dA_flat = dA.reshape(T * B, rows)
        column = 0
        for operand, width in zip(operands, widths, strict=True):
            block = W[:, column : column + width]
            column += width
            if operand == kernel.INPUT_NAME:
                fwd_once.append(
                    (x_flat, np.ascontiguousarray(block.T), np.empty((T * B, rows), dtype))
                )
                bwd_once.append((dA_flat.T, x_flat, np.empty((rows, D), dtype)))
                bwd_once.append((dA_flat, np.ascontiguousarray(block), np.empty((T * B, D), dtype)))
            else:
                fwd_step.append(
                    (history, np.ascontiguousarray(block.T), np.empty((B, rows), dtype))
                )
                bwd_step.append((dA, np.ascontiguousarray(block), np.empty((B, H), dtype)))
                bwd_once.append((dA_flat.T, history_flat, np.empty((rows, H), dtype)))

    def fwd() -> object:
        for a, b, out in fwd_once:
            np.matmul(a, b, out=out)
        for t in range(T):
            for a, b, out in fwd_step:
                np.matmul(a[t], b, out=out)
        return None

    def fb() -> object:
        fwd()
        for t in range(T):
            for a, b, out in bwd_step:
                np.matmul(a[t], b, out=out)
        for a, b, out in bwd_once:
            np.matmul(a, b, out=out)
        return None

    return {"fb": fb, "fwd": fwd}


# --------------------------------------------------------------------------- timing


def time_interleaved(
    calls: Mapping[str, Callable[[], object]],
    repeats: int,
    warmup: int = 1,
    min_sample_s: float = MIN_SAMPLE_S,
    settle_s: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Time every call in turn, ``repeats`` rounds, after ``warmup`` untimed rounds.

    A call faster than ``min_sample_s`` is repeated inside its sample (the count is fixed
    from the warm-up), and the sample divided by the count. Every sample starts after an
    untimed pause of ``settle_s`` seconds (see :data:`SETTLE_S`).

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
            number[name] = max(1, math.ceil(min_sample_s / max(elapsed, 1e-7)))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, call in calls.items():
                n = number[name]
                if settle_s:
                    time.sleep(settle_s)
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


# --------------------------------------------------------------------------- profile


def profile(fb_s: float, gemm_s: float, tiny_fb_s: float, tiny_gemm_s: float) -> dict[str, Any]:
    """Split a forward+backward time into GEMM, per-step overhead and elementwise work.

    Parameters
    ----------
    fb_s : float
        The kernel's forward+backward time at the measured size.
    gemm_s : float
        Its GEMM-bound limit at that size (:func:`gemm_calls`).
    tiny_fb_s : float
        The kernel's forward+backward time at the same T with B = D = H = 1: the array work
        is about zero there, so this is the cost of the calls (Python and NumPy dispatch).
    tiny_gemm_s : float
        The GEMM limit at that tiny size: the call cost of the matrix products, already
        counted in ``gemm_s``, so it is taken out of the overhead.

    Returns
    -------
    dict
        ``seconds`` and ``fractions`` of each part of :data:`PROFILE_PARTS` (``gemm`` =
        ``gemm_s``; ``overhead`` = ``tiny_fb_s - tiny_gemm_s``; ``elementwise`` = the rest of
        ``fb_s``; the last two clamped at 0); the fractions are of the parts' sum, which is
        ``fb_s`` unless a part was clamped, and add up to 1. ``bound_by`` names the largest
        part, ``measured_s`` is ``fb_s``.
    """
    overhead = max(0.0, tiny_fb_s - tiny_gemm_s)
    seconds = {
        "gemm": max(0.0, gemm_s),
        "overhead": overhead,
        "elementwise": max(0.0, fb_s - gemm_s - overhead),
    }
    total = sum(seconds.values())
    fractions = {
        part: value / total if total > 0 else 1.0 / len(seconds) for part, value in seconds.items()
    }
    return {
        "seconds": seconds,
        "fractions": fractions,
        "bound_by": max(PROFILE_PARTS, key=lambda part: seconds[part]),
        "measured_s": fb_s,
    }


# --------------------------------------------------------------------------- tooling


#: Wall-time budgets of the tooling commands on a two-core machine. They are printed beside
#: the measurement, never asserted in a test: a busy machine would make such a test fail.
TOOLING_BUDGETS_S = {"lstm-sym regenerate": 10.0, "mkdocs build --strict": 20.0}


def tooling_commands(scratch: Path, repo: Path = REPO) -> dict[str, list[str]]:
    """The tooling commands to time, writing only under ``scratch``.

    ``lstm-sym regenerate`` renders every built-in cell into ``scratch/regenerated`` (its
    ``--root``; ``--out`` is for a user spec only); ``mkdocs build --strict`` builds the site
    of ``repo`` into ``scratch/site``. Both run with this interpreter.
    """
    return {
        "lstm-sym regenerate": [
            sys.executable,
            "-m",
            "lstm_sym",
            "regenerate",
            "--root",
            str(scratch / "regenerated"),
        ],
        "mkdocs build --strict": [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(repo / "mkdocs.yml"),
            "-d",
            str(scratch / "site"),
        ],
    }


def time_command(argv: Sequence[str], cwd: Path, shown: str) -> dict[str, Any]:
    """Run ``argv`` once in ``cwd``; its wall time, exit status and the command as ``shown``."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    result: dict[str, Any] = {
        "command": shown,
        "seconds": time.perf_counter() - start,
        "returncode": proc.returncode,
    }
    if proc.returncode != 0:
        result["output_tail"] = (proc.stdout + proc.stderr)[-2000:]
    return result


def time_tooling(repo: Path = REPO) -> dict[str, dict[str, Any]]:
    """Time ``lstm-sym regenerate`` and ``mkdocs build --strict`` into a temporary folder.

    Returns
    -------
    dict
        Per command: ``command`` (as typed, the temporary folder shown as ``<tmp>``),
        ``seconds`` (wall time of the subprocess, interpreter start-up included),
        ``returncode`` and, on failure, ``output_tail``.
    """
    results = {}
    with tempfile.TemporaryDirectory(prefix="lstm_sym_bench_") as scratch:
        for name, argv in tooling_commands(Path(scratch), repo).items():
            shown = shlex.join(argv[3:]).replace(scratch, "<tmp>").replace(str(repo) + "/", "")
            print(f"  … timing {name}", file=sys.stderr, flush=True)
            results[name] = time_command(argv, repo, f"{argv[2].replace('_', '-')} {shown}")
    return results


# --------------------------------------------------------------------------- driver


def run(
    groups: Mapping[str, Mapping[str, ModuleType]],
    sizes: Sequence[tuple[int, int, int, int]],
    dtypes: Sequence[Any],
    repeats: int,
    use_torch: bool,
    min_sample_s: float = MIN_SAMPLE_S,
    settle_s: float = 0.0,
) -> list[dict[str, Any]]:
    """Benchmark every (dtype, size, cell); one record per (cell, kernel, dtype, size).

    Parameters
    ----------
    groups : mapping
        Cell name to its kernels (name to module), e.g. ``{"gru": {"gen": gru}}``; the GEMM
        limit and the torch reference come from the cell's committed kernel.
    sizes, dtypes, repeats, use_torch, min_sample_s, settle_s
        What to time and how (see :func:`time_interleaved`).
    """
    threads = blas_threads()
    records = []
    for dtype in dtypes:
        for size in sizes:
            for cell, kernels in groups.items():
                group = time_group(
                    cell, kernels, size, dtype, repeats, use_torch, threads, min_sample_s, settle_s
                )
                records += group
                shape = ",".join(map(str, size))
                print(
                    f"  … {cell} {np.dtype(dtype).name} ({shape}) timed",
                    file=sys.stderr,
                    flush=True,
                )
    return records


def time_group(
    cell: str,
    kernels: Mapping[str, ModuleType],
    size: tuple[int, int, int, int],
    dtype: Any,
    repeats: int,
    use_torch: bool,
    threads: int,
    min_sample_s: float = MIN_SAMPLE_S,
    settle_s: float = 0.0,
) -> list[dict[str, Any]]:
    """Time one cell's kernels and their contenders at one (dtype, size), interleaved."""
    committed = load_cell(cell)
    first = next(iter(kernels.values()))
    p = Problem(size, dtype, first)
    tiny = Problem((size[0], 1, 1, 1), dtype, first)
    calls: dict[str, Callable[[], object]] = {}
    for name, kernel in kernels.items():
        for mode, call in kernel_calls(kernel, p).items():
            calls[f"{name}:{mode}"] = call
        calls[f"{name}:fb_tiny"] = kernel_calls(kernel, tiny)["fb"]
    if cell == BASELINE_CELL:
        for mode, call in baseline_calls(p).items():
            calls[f"base:{mode}"] = call
    reference = TORCH_REFERENCES.get(cell)
    torch_ = torch_calls(p, threads, reference.build) if use_torch and reference else None
    if torch_ is not None:
        for mode, call in torch_.items():
            calls[f"torch:{mode}"] = call
    for mode, call in gemm_calls(committed, p).items():
        calls[f"gemm:{mode}"] = call
    calls["gemm:fb_tiny"] = gemm_calls(committed, tiny)["fb"]
    timings = time_interleaved(calls, repeats, min_sample_s=min_sample_s, settle_s=settle_s)
    return [
        _record(cell, name, kernel, p, timings, reference if torch_ is not None else None)
        for name, kernel in kernels.items()
    ]


def _record(
    cell: str,
    name: str,
    kernel: ModuleType,
    p: Problem,
    timings: Mapping[str, Any],
    reference: TorchReference | None,
) -> dict[str, Any]:
    med = {key: value["median"] for key, value in timings.items()}
    fb, fwd = med[f"{name}:fb"], med[f"{name}:fwd"]
    ratios: dict[str, float] = {}
    if "base:fb" in med:
        ratios["gen_fb/base_fb"] = fb / med["base:fb"]
        ratios["gen_fwd/base_fwd"] = fwd / med["base:fwd"]
    ratios["gemm_fraction_fb"] = med["gemm:fb"] / fb
    ratios["gemm_fraction_fwd"] = med["gemm:fwd"] / fwd
    if "torch:fb" in med:
        ratios["gen_fb/torch_train"] = fb / med["torch:fb"]
        ratios["gen_fwd/torch_inf"] = fwd / med["torch:fwd"]
    memory = peak_memory(kernel, p)
    ratios["peak_memory_ratio"] = memory["ratio"]
    own = {f"gen:{mode}": timings[f"{name}:{mode}"] for mode in ("fb", "fwd", "fb_tiny")}
    others = {k: v for k, v in timings.items() if k.split(":")[0] in ("base", "torch", "gemm")}
    targets_apply = cell == BASELINE_CELL
    return {
        "cell": cell,
        "kernel": name,
        "kernel_file": getattr(kernel, "__file__", None),
        "dtype": str(p.dtype),
        "size": {"T": p.size[0], "B": p.size[1], "D": p.size[2], "H": p.size[3]},
        "torch_reference": None if reference is None else reference.describe(),
        "timings_s": own | others,
        "ratios": ratios,
        "profile": profile(fb, med["gemm:fb"], med[f"{name}:fb_tiny"], med["gemm:fb_tiny"]),
        "memory": memory,
        "targets_apply": targets_apply,
        "targets": _targets(p.size, str(p.dtype), ratios) if targets_apply else {},
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
    """Render records as a fixed-width table, one row per (cell, kernel, dtype, size).

    ``torch ref`` names the torch module (``~`` marks the nearest, not the same, function);
    ``bound`` the largest part of the profile; ``misses`` the missed targets, or ``info``
    for a cell without targets.
    """
    header = (
        f"{'cell':<14} {'kernel':<6} {'dtype':<7} {'T,B,D,H':<16} {'gen fb ms':>9} "
        f"{'base fb':>8} {'torch tr':>8} {'÷base':>6} {'÷torch':>6} {'gen fwd':>8} "
        f"{'torch inf':>9} {'fwd÷inf':>7} {'gemm ms':>8} {'gemm%':>6} {'mem×':>5} "
        f"{'bound':<16} {'torch ref':<9}  misses"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        t, q = r["timings_s"], r["ratios"]
        s = r["size"]
        base_fb = t.get("base:fb", {}).get("median")
        torch_fb = t.get("torch:fb", {}).get("median")
        torch_fwd = t.get("torch:fwd", {}).get("median")
        reference = r.get("torch_reference")
        ref = (
            "n/a"
            if reference is None
            else ("" if reference["exact"] else "~") + reference["module"].removeprefix("nn.")
        )
        bound = r["profile"]["bound_by"]
        bound_text = f"{bound} {100 * r['profile']['fractions'][bound]:.0f}%"
        if r.get("targets_apply", True):
            misses = ", ".join(label for label, ok in r["targets"].items() if not ok) or "-"
        else:
            misses = "info"
        lines.append(
            f"{r['cell']:<14} {r['kernel']:<6} {r['dtype']:<7} "
            f"{'{T},{B},{D},{H}'.format(**s):<16} {1e3 * t['gen:fb']['median']:>9.2f} "
            f"{_ms(base_fb):>8} {_ms(torch_fb):>8} {_fmt(q.get('gen_fb/base_fb')):>6} "
            f"{_fmt(q.get('gen_fb/torch_train')):>6} {1e3 * t['gen:fwd']['median']:>8.2f} "
            f"{_ms(torch_fwd):>9} {_fmt(q.get('gen_fwd/torch_inf')):>7} "
            f"{1e3 * t['gemm:fb']['median']:>8.2f} {100 * q['gemm_fraction_fb']:>5.0f}% "
            f"{q['peak_memory_ratio']:>5.2f} {bound_text:<16} {ref:<9}  {misses}"
        )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{1e3 * value:.2f}"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def build_groups(
    cells: Sequence[str], kernel_specs: Sequence[str]
) -> dict[str, dict[str, ModuleType]]:
    """Cell name to the kernels to time for it.

    Each cell's committed kernel is named ``gen``; ``kernel_specs`` (``--kernel``) replace the
    ``lstm`` cell's kernels (see :func:`load_kernels`), and without ``cells`` mean ``lstm``
    alone.
    """
    cells = list(dict.fromkeys(cells or ([BASELINE_CELL] if kernel_specs else DEFAULT_CELLS)))
    if kernel_specs and BASELINE_CELL not in cells:
        raise SystemExit(f"--kernel modules are timed as the {BASELINE_CELL} cell: add --cell lstm")
    groups = {}
    for cell in cells:
        if cell == BASELINE_CELL:
            groups[cell] = load_kernels(kernel_specs)
        else:
            groups[cell] = {"gen": load_cell(cell)}
    return groups


def check_groups(groups: Mapping[str, Mapping[str, ModuleType]], use_torch: bool) -> None:
    """Run the correctness checks before timing: baseline (``lstm``) and exact torch references."""
    for cell, kernels in groups.items():
        reference = TORCH_REFERENCES.get(cell)
        for name, kernel in kernels.items():
            if cell == BASELINE_CELL:
                error = check_baseline(kernel)
                print(f"check_baseline[{name}]: ok (float64 max relative error {error:.2g})")
            if use_torch and reference is not None and reference.exact:
                error = check_torch_reference(kernel, reference.build)
                print(
                    f"check_torch_reference[{cell}:{name} vs {reference.module}]: ok "
                    f"(float64 max relative error {error:.2g})"
                )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats, no tooling")
    parser.add_argument(
        "--json",
        nargs="?",
        const=str(DEFAULT_JSON),
        default=None,
        metavar="PATH",
        help=f"write raw medians, ratios and machine info (default path {DEFAULT_JSON})",
    )
    parser.add_argument(
        "--cell",
        action="append",
        default=[],
        metavar="NAME",
        help=f"a built-in cell to time (repeatable; default: {', '.join(DEFAULT_CELLS)})",
    )
    parser.add_argument(
        "--kernel",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="time this lstm kernel module (repeatable; 'gen' is the committed kernel); "
        "without --cell, only the lstm cell is timed",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 7)")
    parser.add_argument(
        "--settle",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"untimed pause before every sample (default {SETTLE_S}, 0 with --quick)",
    )
    parser.add_argument("--size", action="append", default=[], metavar="T,B,D,H")
    parser.add_argument("--dtype", action="append", default=[], choices=["float32", "float64"])
    parser.add_argument("--no-torch", action="store_true", help="skip torch even if importable")
    parser.add_argument(
        "--tooling",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time `lstm-sym regenerate` and `mkdocs build --strict` (default: on, "
        "off with --quick)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    use_torch = not args.no_torch and _import_torch() is not None
    groups = build_groups(args.cell, args.kernel)
    check_groups(groups, use_torch)
    sizes = [_parse_size(s) for s in args.size] or (QUICK_SIZES if args.quick else FULL_SIZES)
    dtypes = [np.dtype(d).type for d in args.dtype] or list(DTYPES)
    repeats = args.repeats or (3 if args.quick else 7)
    info = machine_info()
    info["benchmark_threads"] = blas_threads()
    print(
        f"CPU: {info['cpu_model']}, {info['usable_cores']} usable cores; numpy {info['numpy']}, "
        f"BLAS {info['numpy_blas']}; torch {info['torch']}"
    )
    print(f"threadpools: {info['threadpools']}")
    print(f"thread env: {info['env']}")
    if not use_torch:
        print("note: torch not importable (or --no-torch): torch columns are n/a")
    min_sample_s = QUICK_MIN_SAMPLE_S if args.quick else MIN_SAMPLE_S
    settle_s = args.settle if args.settle is not None else (0.0 if args.quick else SETTLE_S)
    # Keep what is alive now (modules, torch, kernels) out of every later collection: the
    # collections between timing rounds then cost only what the timed calls left behind.
    gc.collect()
    gc.freeze()
    try:
        records = run(groups, sizes, dtypes, repeats, use_torch, min_sample_s, settle_s)
    finally:
        gc.unfreeze()
    print(f"\nmedians of {repeats} interleaved runs (ratios < 1: the kernel is faster)")
    print(format_table(records))
    status = 0
    payload: dict[str, Any] = {
        "machine": info,
        "repeats": repeats,
        "settle_s": settle_s,
        "quick": args.quick,
        "cells": list(groups),
        "records": records,
    }
    if args.tooling if args.tooling is not None else not args.quick:
        payload["tooling"] = time_tooling()
        for name, result in payload["tooling"].items():
            budget = TOOLING_BUDGETS_S[name]
            verdict = "within" if result["seconds"] <= budget else "OVER"
            print(
                f"{name}: {result['seconds']:.1f} s (exit status {result['returncode']}; "
                f"{verdict} its {budget:.0f} s budget on 2 cores)"
            )
            if result["returncode"] != 0:
                print(result.get("output_tail", ""), file=sys.stderr)
                status = 1
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"wrote {path}")
    return status


def _parse_size(text: str) -> tuple[int, int, int, int]:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 4 or min(values) < 1:
        raise SystemExit(f"--size {text}: expected four positive integers T,B,D,H")
    return values  # type: ignore[return-value]


if __name__ == "__main__":
    raise SystemExit(main())
