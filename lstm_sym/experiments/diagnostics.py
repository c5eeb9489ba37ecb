"""Inside a trained cell: gradient norms by distance, forget gates along a sequence."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .task import Batch
from .train import state_gradient_norms

__all__ = ["forget_gate_summary", "gradient_norms_by_distance"]


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


def forget_gate_summary(
    kernel: ModuleType, params: dict[str, np.ndarray], batch: Batch, n_classes: int
) -> dict[str, Any] | None:
    """Forget-gate activations and cell state of an LSTM-like cell along a sequence.

    Units are ranked by how well their cell state after the last filler separates the
    classes: the share of its variance over the batch explained by the class (η²).

    Parameters
    ----------
    kernel : module
        A generated kernel whose forward cache holds ``"f_seq"`` (T, B, H) and ``"C_seq"``
        (T + 1, B, H).
    params : dict of str to numpy.ndarray
        The trained parameters.
    batch : Batch
        Held-out sequences, ``xs`` (T, B, D).
    n_classes : int
        ``K``.

    Returns
    -------
    dict or None
        ``None`` if the cell has no forget gate in its cache. Otherwise: ``"units"`` (unit
        indices, best memory first), ``"memory_score"`` (η² per ranked unit), ``"mean_f"``
        (H × T: mean over the batch of ``f_t`` per ranked unit), ``"top_unit_C_by_class"``
        (K × T: mean over each class of ``C_t`` of the best unit), and
        ``"filler_f_top"`` / ``"filler_f_rest"`` (mean ``f_t`` over the filler steps of the
        four best units and of all others).
    """
    _, _, cache = kernel.forward(batch.xs, _float64(params))
    if "f_seq" not in cache or "C_seq" not in cache:
        return None
    f_seq: np.ndarray = cache["f_seq"]  # (T, B, H)
    C_after: np.ndarray = cache["C_seq"][1:]  # (T, B, H): state after each step
    T = f_seq.shape[0]
    held = C_after[T - 2]  # after the last filler, before the query
    total = held.var(axis=0)
    class_means = np.stack([held[batch.labels == k].mean(axis=0) for k in range(n_classes)])
    weights = np.array([np.mean(batch.labels == k) for k in range(n_classes)])
    between = (weights[:, None] * (class_means - held.mean(axis=0)) ** 2).sum(axis=0)
    score = between / np.maximum(total, 1e-30)
    order = np.argsort(-score, kind="stable")
    top, rest = order[:4], order[4:]
    fillers = f_seq[1 : T - 1]
    best = int(order[0])
    by_class = np.stack(
        [C_after[:, batch.labels == k, best].mean(axis=1) for k in range(n_classes)]
    )
    return {
        "units": [int(u) for u in order],
        "memory_score": [float(score[u]) for u in order],
        "mean_f": f_seq.mean(axis=1).T[order].tolist(),
        "top_unit_C_by_class": by_class.tolist(),
        "filler_f_top": float(fillers[:, :, top].mean()),
        "filler_f_rest": float(fillers[:, :, rest].mean()),
    }
