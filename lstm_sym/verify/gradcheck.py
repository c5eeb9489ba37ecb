"""The checks ``lstm-sym gradcheck`` runs on a generated kernel, in one function.

A kernel switches code paths at block boundaries (the hoisted input projection and the
weight gradients work on blocks of ``_CHUNK_ROWS`` rows, the backward pass computes its
adjoint factors ``_FACTOR_STEPS`` steps at a time). A check at T = 3, B = 2 crosses none of
them, so :func:`check_kernel` runs the kernel from its source as fresh modules whose block
constants are made small, at several (T, B) with T not a multiple of the blocks:

* **finite differences**: every element of every gradient against central differences in
  float64, at three shapes;
* **block sizes**: outputs and gradients with other block constants (the shipped ones
  included) equal those of the finite-difference run, to rounding;
* **step API**: :func:`step` over the sequence and :func:`step_backward` chained back through
  it give what :func:`forward` and :func:`backward` give;
* **float32**: a float32 run agrees with the float64 run;
* **forward values** (when the spec is given): outputs and final states equal the spec's
  equations evaluated step by step, directly (SymPy ``lambdify``, one matrix product per
  linear map). Finite differences cannot see a forward pass that computes a different
  function consistently with its own backward pass (``f = 2 − i`` instead of ``1 − i``).

Every ``np.empty`` of these modules returns NaN, so reading a buffer before writing it shows.
:func:`check_kernel` is what the command line runs and what the mutation check
(``scripts/mutation_check.py``) runs on every mutant, so the mutation score measures exactly
the command's power.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import sympy

from ..spec.model import CellSpec, Elementwise, LinearMap, previous
from .finite_differences import (
    FD_TOLERANCE,
    GradientProblem,
    finite_difference_errors,
    make_problem,
    relative_error,
)

__all__ = [
    "BLOCK_SETTINGS",
    "CheckResult",
    "KernelReport",
    "check_kernel",
    "compare_runs",
    "configured_kernel",
    "kernel_from_source",
    "kernel_source",
    "outputs_and_gradients",
    "reference_forward",
    "shaped_problem",
]

#: Block constants the checks run with, by name; the first is the finite-difference run's.
#: With B = 2 the first gives blocks of 6 steps and factor blocks of 4 (misaligned, and T = 7
#: ends in a partial block of each), the second blocks of 2 steps and factor blocks of 1 (the
#: byte limit binds), the third one step per block; the last is what the kernel ships with.
BLOCK_SETTINGS: dict[str, dict[str, int]] = {
    "blocks of 6 steps, factors 4": {"_CHUNK_ROWS": 12, "_FACTOR_STEPS": 4},
    "blocks of 2 steps, factors 1": {"_CHUNK_ROWS": 4, "_FACTOR_BYTES": 1},
    "blocks of 1 step": {"_CHUNK_ROWS": 1},
    "shipped blocks": {},
}
#: (T, B, D, H) of the finite-difference runs: crossing blocks, a single step, one per block.
FD_SHAPES = ((7, 2, 3, 4), (1, 1, 2, 3), (5, 3, 2, 3))
#: Agreement between runs that must compute the same numbers up to summation order.
SAME_TOLERANCE = 1e-10
#: Agreement of a float32 run with the float64 run on the same (rounded) inputs.
FLOAT32_TOLERANCE = 1e-4


@dataclass(frozen=True)
class CheckResult:
    """One check of a kernel: the relative error per tensor and the tolerance."""

    name: str
    errors: dict[str, float]
    tolerance: float

    @property
    def worst(self) -> float:
        """The largest error (NaN counts as the largest)."""
        values = [np.inf if np.isnan(e) else e for e in self.errors.values()]
        return max(values, default=0.0)

    @property
    def ok(self) -> bool:
        """Whether every error is below the tolerance."""
        return self.worst < self.tolerance

    def failing(self) -> list[str]:
        """Tensors whose error is not below the tolerance."""
        return [k for k, e in self.errors.items() if not e < self.tolerance]


@dataclass(frozen=True)
class KernelReport:
    """Every check run on one kernel, in order."""

    cell: str
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(result.ok for result in self.results)

    def first_failure(self) -> CheckResult | None:
        """The first check that failed, if any."""
        return next((r for r in self.results if not r.ok), None)


def kernel_from_source(source: str, name: str) -> ModuleType:
    """Execute generated kernel ``source`` as a fresh module named after cell ``name``.

    Only code this package generated may be passed here (it is executed).
    """
    module = types.ModuleType(f"lstm_sym_generated_{name}")
    module.__file__ = f"<generated kernel {name}>"
    exec(compile(source, f"<generated kernel {name}>", "exec"), module.__dict__)  # generated
    return module


def kernel_source(cell: str) -> str:
    """The committed source of built-in kernel ``cell``."""
    from ..kernels import load_kernel

    path = load_kernel(cell).__file__
    if path is None:  # pragma: no cover - kernels are files
        raise ValueError(f"kernel {cell!r} has no source file")
    with open(path, encoding="utf-8") as stream:
        return stream.read()


class _PoisonedNumPy:
    """NumPy, except that ``empty`` and ``empty_like`` return arrays full of NaN.

    A kernel that reads a buffer it never wrote then yields NaN; with the real ``np.empty``
    it may read the right values left in recycled memory by an earlier call, and hide it.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def empty(shape: Any, dtype: Any = float) -> np.ndarray:
        """Like :func:`numpy.empty`, filled with NaN."""
        return np.full(shape, np.nan, dtype)

    @staticmethod
    def empty_like(prototype: np.ndarray, dtype: Any = None) -> np.ndarray:
        """Like :func:`numpy.empty_like`, filled with NaN."""
        return np.full_like(prototype, np.nan, dtype=dtype)


def configured_kernel(source: str, cell: str, constants: Mapping[str, int]) -> ModuleType:
    """A fresh module of ``source`` with block ``constants`` set and a NaN-filling ``np.empty``."""
    module = kernel_from_source(source, cell)
    for name, value in constants.items():
        if hasattr(module, name):
            setattr(module, name, value)
    module.np = _PoisonedNumPy()  # type: ignore[attr-defined]
    return module


def shaped_problem(
    kernel: ModuleType, shape: tuple[int, int, int, int], seed: int
) -> GradientProblem:
    """A random problem of shape (T, B, D, H) for ``kernel``."""
    steps, batch, inputs, hidden = shape
    return make_problem(
        kernel, steps=steps, batch=batch, input_size=inputs, hidden_size=hidden, seed=seed
    )


def outputs_and_gradients(problem: GradientProblem) -> dict[str, np.ndarray]:
    """Outputs (``hs``, final states as ``<state>_T``) and gradients of one problem."""
    kernel = problem.kernel
    hs, final, cache = kernel.forward(problem.xs, problem.params, problem.state)
    results = {"hs": hs, **{f"{k}_T": v for k, v in final.items()}}
    grads = kernel.backward(problem.dhs, cache, problem.dstate)
    results.update({f"d{k}": v for k, v in grads.items()})
    return results


def compare_runs(
    name: str, reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray], tol: float
) -> CheckResult:
    """Relative error of every entry of ``other`` against ``reference`` (missing: infinite)."""
    errors = {}
    for key, value in reference.items():
        candidate = other.get(key)
        if candidate is None or np.shape(candidate) != np.shape(value):
            errors[key] = np.inf
        else:
            errors[key] = relative_error(np.asarray(candidate, np.float64), value)
    return CheckResult(name, errors, tol)


def _with_kernel(problem: GradientProblem, kernel: ModuleType) -> GradientProblem:
    return GradientProblem(
        kernel, problem.xs, problem.params, problem.state, problem.dhs, problem.dstate
    )


def _step_results(problem: GradientProblem) -> dict[str, np.ndarray]:
    """What :func:`outputs_and_gradients` returns, computed with ``step`` and ``step_backward``."""
    kernel = problem.kernel
    state = dict(problem.state)
    caches = []
    outputs = []
    for x in problem.xs:
        state, cache = kernel.step(x, state, problem.params)
        caches.append(cache)
        outputs.append(state[kernel.OUTPUT_STATE])
    results: dict[str, np.ndarray] = {"hs": np.stack(outputs)}
    results.update({f"{k}_T": v for k, v in state.items()})
    dstate = {k: v.copy() for k, v in problem.dstate.items()}
    totals: dict[str, np.ndarray] = {}
    dxs = np.empty_like(problem.xs)
    for t in range(len(caches) - 1, -1, -1):
        dstate[kernel.OUTPUT_STATE] = dstate[kernel.OUTPUT_STATE] + problem.dhs[t]
        grads = kernel.step_backward(dstate, caches[t])
        for name in kernel.PARAMETER_NAMES:
            totals[name] = totals[name] + grads[name] if name in totals else grads[name].copy()
        dxs[t] = grads["x"]
        dstate = {k: grads[f"{k}_prev"] for k in kernel.STATE_NAMES}
    results.update({f"d{k}": v for k, v in totals.items()})
    results["dxs"] = dxs
    results.update({f"d{k}0": v for k, v in dstate.items()})
    return results


def _as_float32(problem: GradientProblem) -> GradientProblem:
    def cast(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float32) for k, v in values.items()}

    return GradientProblem(
        problem.kernel,
        problem.xs.astype(np.float32),
        cast(problem.params),
        cast(problem.state),
        problem.dhs.astype(np.float32),
        cast(problem.dstate),
    )


def _as_float64(problem: GradientProblem) -> GradientProblem:
    def cast(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.astype(np.float64) for k, v in values.items()}

    return GradientProblem(
        problem.kernel,
        problem.xs.astype(np.float64),
        cast(problem.params),
        cast(problem.state),
        problem.dhs.astype(np.float64),
        cast(problem.dstate),
    )


def _logistic(a: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-a)))


def reference_forward(
    spec: CellSpec,
    xs: np.ndarray,
    params: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Outputs (``hs``) and final states (``<state>_T``) of ``spec``, equation by equation.

    An independent evaluation: each elementwise equation through :func:`sympy.lambdify`,
    each linear map as one matrix product on the concatenated operands; no kernel code.
    """
    functions = {}
    for equation in spec.equations:
        if isinstance(equation, Elementwise):
            symbols = sorted(equation.expr.free_symbols, key=lambda s: s.name)
            # The arguments get private names (lambdify puts the symbols into the namespace
            # of its functions): a spec value named exp, sigmoid or tanh cannot shadow them.
            private = [sympy.Symbol(f"_v{i}", real=True) for i in range(len(symbols))]
            expr = equation.expr.xreplace(dict(zip(symbols, private, strict=True)))
            function = sympy.lambdify(private, expr, modules=[{"sigmoid": _logistic}, "numpy"])
            functions[equation.target] = ([s.name for s in symbols], function)
    current = {name: np.asarray(value) for name, value in state.items()}
    outputs = []
    for x in xs:
        values: dict[str, np.ndarray] = {spec.input_name: x, **params}
        values.update({previous(name): current[name] for name in spec.state_names})
        for equation in spec.equations:
            if isinstance(equation, LinearMap):
                stacked = np.concatenate([values[o] for o in equation.operands], axis=1)
                value = stacked @ params[equation.weight].T
                if equation.bias:
                    value = value + params[equation.bias]
            else:
                names, function = functions[equation.target]
                value = np.asarray(function(*(values[n] for n in names)), dtype=x.dtype)
                value = np.broadcast_to(value, current[spec.output_state].shape)
            values[equation.target] = value
        current = {name: values[name] for name in spec.state_names}
        outputs.append(current[spec.output_state])
    return {"hs": np.stack(outputs), **{f"{k}_T": v for k, v in current.items()}}


def check_kernel(
    source: str,
    cell: str,
    *,
    spec: CellSpec | None = None,
    seed: int = 0,
    tolerance: float = FD_TOLERANCE,
    stop_early: bool = False,
    progress: Callable[[str], None] | None = None,
) -> KernelReport:
    """Run every check of ``lstm-sym gradcheck`` on generated kernel ``source``.

    Parameters
    ----------
    source : str
        The generated module's source (executed in fresh modules; generated code only).
    cell : str
        The cell's name, for messages.
    spec : CellSpec, optional
        The cell's spec: the forward values are then checked against its equations.
    seed : int
        Seed of every random problem.
    tolerance : float
        Finite-difference tolerance (relative error per tensor).
    stop_early : bool
        Return after the first failing check (the mutation check needs no more).
    progress : callable, optional
        Receives the name of each check before it runs.

    Returns
    -------
    KernelReport
        The checks in order: finite differences at each of :data:`FD_SHAPES`, block sizes,
        step API, float32, forward values (with ``spec``).

    Raises
    ------
    Exception
        Whatever the kernel raises (a crash of the kernel is a failed check for the caller).
    """
    with np.errstate(all="ignore"):  # overflow and NaN show as failed checks, not warnings
        return _check_kernel(source, cell, spec, seed, tolerance, stop_early, progress)


def _check_kernel(
    source: str,
    cell: str,
    spec: CellSpec | None,
    seed: int,
    tolerance: float,
    stop_early: bool,
    progress: Callable[[str], None] | None,
) -> KernelReport:
    results: list[CheckResult] = []

    def done(result: CheckResult) -> bool:
        results.append(result)
        return stop_early and not result.ok

    def report() -> KernelReport:
        return KernelReport(cell, tuple(results))

    settings = list(BLOCK_SETTINGS.items())
    first_name, first_constants = settings[0]
    main = shaped_problem(configured_kernel(source, cell, first_constants), FD_SHAPES[0], seed)
    for index, shape in enumerate(FD_SHAPES):
        steps, batch, inputs, hidden = shape
        label = f"finite differences, float64, T={steps} B={batch} D={inputs} H={hidden}"
        if index == 0:
            label += f", {first_name}"
        if progress:
            progress(label)
        problem = main if index == 0 else shaped_problem(main.kernel, shape, seed + index)
        if done(CheckResult(label, finite_difference_errors(problem), tolerance)):
            return report()
    reference = outputs_and_gradients(main)
    for name, constants in settings[1:]:
        if progress:
            progress(f"block sizes: {name}")
        other = outputs_and_gradients(
            _with_kernel(main, configured_kernel(source, cell, constants))
        )
        label = f"block sizes: {name} vs {first_name} (T=7, B=2)"
        if done(compare_runs(label, reference, other, SAME_TOLERANCE)):
            return report()
    if progress:
        progress("step API")
    stepped = _with_kernel(main, configured_kernel(source, cell, settings[-1][1]))
    label = "step / step_backward vs forward / backward (T=7, B=2)"
    if done(compare_runs(label, reference, _step_results(stepped), SAME_TOLERANCE)):
        return report()
    if progress:
        progress("float32")
    single = _as_float32(main)
    exact = outputs_and_gradients(_as_float64(single))
    label = "float32 vs float64 on the same inputs (T=7, B=2)"
    if done(compare_runs(label, exact, outputs_and_gradients(single), FLOAT32_TOLERANCE)):
        return report()
    if spec is not None:
        if progress:
            progress("forward values")
        expected = reference_forward(spec, main.xs, main.params, main.state)
        label = "forward values vs the spec's equations evaluated directly (T=7, B=2)"
        done(compare_runs(label, expected, reference, SAME_TOLERANCE))
    return report()
