"""The checks ``lstm-sym gradcheck`` runs on a generated kernel, in one function.

The checks work on any registered backend that can run what it renders
(:attr:`lstm_sym.backends.Backend.load`): the backend loads the rendered file as a fresh
kernel for each of its block settings (the NumPy backend makes its blocks small, so that a
check at T = 7, B = 2 crosses them; :mod:`lstm_sym.backends.numpy.run`), at several (T, B)
with T not a multiple of the blocks:

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
  function consistently with its own backward pass (``f = 2 − i`` instead of ``1 − i``);
* **agreement with NumPy** (when the NumPy kernel of the same cell is given, for another
  backend): outputs and every gradient equal the NumPy kernel's to
  :data:`AGREEMENT_TOLERANCE` in float64.

For the NumPy backend every ``np.empty`` of these modules returns NaN, so reading a buffer
before writing it shows.
:func:`check_kernel` is what the command line runs and what the mutation check
(``scripts/mutation_check.py``) runs on every mutant, so the mutation score measures exactly
the command's power.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import sympy

from ..backends import Backend, verifiable
from ..backends.numpy.run import BLOCK_SETTINGS, configured_kernel, kernel_from_source
from ..spec.model import CellSpec, Elementwise, LinearMap, previous
from .finite_differences import (
    FD_TOLERANCE,
    GradientProblem,
    finite_difference_errors,
    make_problem,
    relative_error,
)

__all__ = [
    "AGREEMENT_TOLERANCE",
    "BLOCK_SETTINGS",
    "CheckResult",
    "KernelReport",
    "check_kernel",
    "compare_runs",
    "configured_kernel",
    "default_backend",
    "kernel_from_source",
    "kernel_source",
    "outputs_and_gradients",
    "reference_forward",
    "shaped_problem",
]

#: (T, B, D, H) of the finite-difference runs: crossing blocks, a single step, one per block.
FD_SHAPES = ((7, 2, 3, 4), (1, 1, 2, 3), (5, 3, 2, 3))
#: Agreement between runs that must compute the same numbers up to summation order.
SAME_TOLERANCE = 1e-10
#: Agreement of a float32 run with the float64 run on the same (rounded) inputs.
FLOAT32_TOLERANCE = 1e-4
#: Agreement of another backend with the NumPy kernel of the same cell (float64).
AGREEMENT_TOLERANCE = 1e-12


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


def default_backend() -> Backend:
    """The backend checked when none is named: the first verifiable one registered."""
    return verifiable()[0]


def kernel_source(cell: str, backend: Backend | None = None) -> str:
    """The committed file of built-in cell ``cell`` for ``backend`` (the default one if omitted).

    Raises
    ------
    KeyError
        If no built-in cell is called ``cell``.
    ValueError
        If the backend writes no file per built-in cell.
    """
    from ..spec import builtin_spec_path

    builtin_spec_path(cell)  # raises KeyError listing the known cells
    backend = backend or default_backend()
    if backend.builtin_path is None:
        raise ValueError(f"backend {backend.name!r} writes no file per built-in cell")
    package_parent = Path(__file__).resolve().parent.parent.parent
    return (package_parent / backend.builtin_path(cell)).read_text(encoding="utf-8")


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
    backend: Backend | None = None,
    reference: str | None = None,
    seed: int = 0,
    tolerance: float = FD_TOLERANCE,
    stop_early: bool = False,
    progress: Callable[[str], None] | None = None,
) -> KernelReport:
    """Run every check of ``lstm-sym gradcheck`` on a rendered kernel.

    Parameters
    ----------
    source : str
        The rendered file (loaded by the backend in fresh modules; generated code only).
    cell : str
        The cell's name, for messages.
    backend : Backend, optional
        The backend that rendered ``source`` (its ``load`` and block settings are used);
        :func:`default_backend` if omitted.
    spec : CellSpec, optional
        The cell's spec: the forward values are then checked against its equations.
    reference : str, optional
        The same cell's kernel rendered by :func:`default_backend` (NumPy), for a
        ``backend`` other than it: outputs and gradients must then agree with it.
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
        step API, float32, forward values (with ``spec``), agreement with NumPy (with
        ``reference``).

    Raises
    ------
    Exception
        Whatever the kernel raises (a crash of the kernel is a failed check for the caller).
    """
    with np.errstate(all="ignore"):  # overflow and NaN show as failed checks, not warnings
        return _check_kernel(
            source,
            cell,
            spec,
            backend or default_backend(),
            reference,
            seed,
            tolerance,
            stop_early,
            progress,
        )


def _check_kernel(
    source: str,
    cell: str,
    spec: CellSpec | None,
    backend: Backend,
    reference: str | None,
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

    load = backend.load
    if load is None:
        raise ValueError(f"backend {backend.name!r} cannot run what it renders")
    settings = list(backend.block_settings.items())
    first_name, first_constants = settings[0]
    main = shaped_problem(load(source, cell, first_constants), FD_SHAPES[0], seed)
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
    first_run = outputs_and_gradients(main)
    for name, constants in settings[1:]:
        if progress:
            progress(f"block sizes: {name}")
        other = outputs_and_gradients(_with_kernel(main, load(source, cell, constants)))
        label = f"block sizes: {name} vs {first_name} (T=7, B=2)"
        if done(compare_runs(label, first_run, other, SAME_TOLERANCE)):
            return report()
    if progress:
        progress("step API")
    stepped = _with_kernel(main, load(source, cell, settings[-1][1]))
    label = "step / step_backward vs forward / backward (T=7, B=2)"
    if done(compare_runs(label, first_run, _step_results(stepped), SAME_TOLERANCE)):
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
        if done(compare_runs(label, expected, first_run, SAME_TOLERANCE)):
            return report()
    if reference is not None:
        if progress:
            progress("agreement with NumPy")
        numpy = default_backend()
        if numpy.load is None:  # pragma: no cover - the NumPy backend always loads
            raise ValueError(f"backend {numpy.name!r} cannot run what it renders")
        shipped = list(numpy.block_settings.values())[-1]
        expected = outputs_and_gradients(_with_kernel(main, numpy.load(reference, cell, shipped)))
        label = f"outputs and gradients vs the {numpy.name} kernel (float64, T=7, B=2)"
        done(compare_runs(label, expected, first_run, AGREEMENT_TOLERANCE))
    return report()
