"""Inside a cell, before and after training: gradient norms by distance, keep gates."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .initialisation import KEEP_GATES
from .task import Batch
from .train import state_gradient_norms

__all__ = ["gradient_norms_by_distance", "keep_gate_summary"]


def _float64(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: value.astype(np.float64) for name, value in arrays.items()}


def gradient_norms_by_distance(
    kernel: ModuleType,
    params: dict[str, np.ndarray],
    readout: dict[str, np.ndarray],
    batch: Batch,
) -> dict[str, list[float]]:
    """Mean ``‖∂ℓ/∂s_t‖`` for every state ``s``, indexed by distance from the read-out.

    Computed in float64 (so that gradients far below float32's range still show).

    Parameters
    ----------
    kernel : module
        A generated kernel.
    params, readout : dict of str to numpy.ndarray
        The model, any float dtype.
    batch : Batch
        Sequences, ``xs`` (T, B, D).

    Returns
    -------
    dict of str to list of float
        For every state name, length ``T``: entry ``k`` belongs to the state after step
        ``T - 1 - k``, so entry 0 is the state read out and entry ``T - 1`` the state after
        the clue.
    """
    norms = state_gradient_norms(kernel, _float64(params), _float64(readout), batch)
    return {name: [float(x) for x in values[::-1]] for name, values in norms.items()}


def keep_gate_summary(
    kernel: ModuleType, params: dict[str, np.ndarray], batch: Batch
) -> dict[str, Any] | None:
    """How much of the clue the keep gate lets through the filler steps, unit by unit.

    The keep gate is the LSTM's forget gate ``f`` (and the coupled LSTM's), the GRU's
    ``1 − z`` (``z`` in the torch form), see :data:`~lstm_sym.experiments.initialisation.
    KEEP_GATES`. Step 0 reads the clue; steps ``1 .. T − 2`` read fillers.

    Parameters
    ----------
    kernel : module
        A generated kernel.
    params : dict of str to numpy.ndarray
        The parameters (evaluated in float64).
    batch : Batch
        Held-out sequences, ``xs`` (T, B, D), ``T >= 3``.

    Returns
    -------
    dict or None
        ``None`` if the cell has no keep gate. Otherwise, with units sorted from the most
        to the least keeping:

        - ``"filler_mean"`` (H): mean over the batch and the filler steps of the gate;
        - ``"log10_kept"`` (H): ``log10`` of the product of the gate over the filler steps,
          averaged (geometrically) over the batch: the fraction of what a unit held after
          the clue that is still there, undisturbed, before the question;
        - ``"by_step"`` (T): mean over the batch and all units of the gate at every step.
    """
    gate = KEEP_GATES.get(kernel.CELL)
    if gate is None:
        return None
    _, _, cache = kernel.forward(batch.xs, _float64(params))
    values: np.ndarray = cache[gate.bias.removeprefix("b_") + "_seq"]  # (T, B, H)
    keep = values if gate.sign > 0 else 1.0 - values
    fillers = keep[1:-1]
    log_kept = np.log10(np.maximum(fillers, 1e-300)).sum(axis=0).mean(axis=0)  # (H,)
    return {
        "filler_mean": sorted((float(v) for v in fillers.mean(axis=(0, 1))), reverse=True),
        "log10_kept": sorted((float(v) for v in log_kept), reverse=True),
        "by_step": [float(v) for v in keep.mean(axis=(1, 2))],
    }
