"""Central finite-difference check of a generated kernel's backward pass.

The scalar loss is ``L = Σ dhs ⊙ hs + Σ_s dstate_s ⊙ state_s`` with random, non-zero
``dhs`` and ``dstate`` and a random non-zero initial state, so every path through the
recurrence (outputs, final state, initial state) carries gradient. Every element of every
gradient is compared with ``(L(θ + ε) − L(θ − ε)) / 2ε`` in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["GradientProblem", "finite_difference_errors", "make_problem", "relative_error"]

#: Default tolerance for the relative error per tensor.
FD_TOLERANCE = 1e-7


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Return ``‖a − n‖ / max(‖a‖, ‖n‖)`` (0 when both are zero).

    Parameters
    ----------
    analytic, numeric : numpy.ndarray
        Arrays of the same shape.
    """
    scale = max(float(np.linalg.norm(analytic)), float(np.linalg.norm(numeric)))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric)) / scale


@dataclass
class GradientProblem:
    """Random inputs of a gradient check for one kernel.

    Attributes
    ----------
    kernel : module
        A generated kernel module (``lstm_sym.kernels.lstm``).
    xs : numpy.ndarray, shape (T, B, D)
    params : dict of str to numpy.ndarray
    state : dict of str to numpy.ndarray, each (B, H)
        The initial state.
    dhs : numpy.ndarray, shape (T, B, H)
        Weights of the outputs in the loss.
    dstate : dict of str to numpy.ndarray, each (B, H)
        Weights of the final state in the loss.
    """

    kernel: ModuleType
    xs: np.ndarray
    params: dict[str, np.ndarray]
    state: dict[str, np.ndarray]
    dhs: np.ndarray
    dstate: dict[str, np.ndarray]

    def loss(self) -> float:
        """Return the scalar loss at the current inputs."""
        hs, final, _ = self.kernel.forward(self.xs, self.params, self.state)
        total = float(np.sum(self.dhs * hs))
        for name, value in final.items():
            total += float(np.sum(self.dstate[name] * value))
        return total

    def gradients(self) -> dict[str, np.ndarray]:
        """Return the kernel's gradients of the loss (parameters, ``xs``, ``<state>0``)."""
        _, _, cache = self.kernel.forward(self.xs, self.params, self.state)
        return dict(self.kernel.backward(self.dhs, cache, self.dstate))

    def tensors(self) -> dict[str, np.ndarray]:
        """Every differentiable input, keyed like :meth:`gradients`."""
        tensors = dict(self.params)
        tensors["xs"] = self.xs
        for name, value in self.state.items():
            tensors[f"{name}0"] = value
        return tensors


def make_problem(
    kernel: ModuleType,
    *,
    steps: int = 3,
    batch: int = 2,
    input_size: int = 3,
    hidden_size: int = 4,
    seed: int = 0,
    dtype: Any = np.float64,
    scale: float = 1.0,
) -> GradientProblem:
    """Draw a random gradient problem for ``kernel``.

    Parameters
    ----------
    kernel : module
        Generated kernel module.
    steps, batch, input_size, hidden_size : int
        ``T``, ``B``, ``D``, ``H``.
    seed : int
        Seed of every random draw.
    dtype : float32 or float64
    scale : float
        Multiplies the parameters (large values saturate the gates).
    """
    rng = np.random.default_rng(seed)
    params = kernel.init_params(input_size, hidden_size, seed=seed + 1, dtype=dtype)
    params = {name: (value * scale).astype(dtype) for name, value in params.items()}
    shape = (batch, hidden_size)
    return GradientProblem(
        kernel=kernel,
        xs=rng.standard_normal((steps, batch, input_size)).astype(dtype),
        params=params,
        state={name: rng.standard_normal(shape).astype(dtype) for name in kernel.STATE_NAMES},
        dhs=rng.standard_normal((steps, batch, hidden_size)).astype(dtype),
        dstate={name: rng.standard_normal(shape).astype(dtype) for name in kernel.STATE_NAMES},
    )


def finite_difference_errors(
    problem: GradientProblem,
    *,
    epsilon: float = 1e-6,
    progress: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Compare every element of every gradient with central finite differences.

    Parameters
    ----------
    problem : GradientProblem
        Inputs in float64 (finite differences in float32 are meaningless at this step).
    epsilon : float
        Step of the central difference.
    progress : callable, optional
        Called with each tensor name before it is checked.

    Returns
    -------
    dict of str to float
        Relative error per tensor (parameters, ``"xs"``, ``"<state>0"``).
    """
    analytic = problem.gradients()
    errors: dict[str, float] = {}
    for name, tensor in problem.tensors().items():
        if progress is not None:
            progress(name)
        original = tensor.copy()
        numeric = np.empty_like(tensor)
        flat, flat_numeric = tensor.reshape(-1), numeric.reshape(-1)
        for index in range(flat.size):
            flat[index] = original.reshape(-1)[index] + epsilon
            plus = problem.loss()
            flat[index] = original.reshape(-1)[index] - epsilon
            minus = problem.loss()
            flat[index] = original.reshape(-1)[index]
            flat_numeric[index] = (plus - minus) / (2 * epsilon)
        errors[name] = relative_error(analytic[name], numeric)
    return errors
