"""What a trained cell reads: the gradient of the correct class's logit with respect to each input.

For a held-out sequence with label ``y``, the logit of the correct class after the last step is
``z_y = W_y[y] · h_T + b_y[y]``. Its gradient with respect to the input at step ``t``,
``∂z_y / ∂x_t`` (a vector of size ``D``), says how much the answer moves when the token at ``t``
moves. A cell that answers from the clue has a large gradient at ``t = 0`` (the state token) and
small ones over the fillers; a cell that has forgotten the clue has none left at ``t = 0``.
The gradient is chained through the kernel's own ``backward`` in float64.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .task import Batch

__all__ = ["input_saliency", "saliency_positions", "saliency_summary"]


def input_saliency(
    kernel: ModuleType,
    params: dict[str, np.ndarray],
    readout: dict[str, np.ndarray],
    batch: Batch,
) -> np.ndarray:
    """Mean over ``batch`` of ``‖∂ logit_correct / ∂ x_t‖₂`` at every step ``t``.

    Parameters
    ----------
    kernel : module
        A generated kernel (``forward``, ``backward``).
    params, readout : dict of str to numpy.ndarray
        The model, any float dtype (evaluated in float64).
    batch : Batch
        Held-out sequences, ``xs`` (T, B, D), ``labels`` (B,).

    Returns
    -------
    numpy.ndarray, shape (T,)
        Entry ``t`` belongs to the input at step ``t``: 0 is the clue, ``T − 1`` the query.
    """
    params64 = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}
    w_y = np.asarray(readout["W_y"], dtype=np.float64)
    hs, _, cache = kernel.forward(batch.xs.astype(np.float64), params64)
    dhs = np.zeros_like(hs)
    dhs[-1] = w_y[batch.labels]  # ∂z_y/∂h_T for every sequence, (B, H)
    dxs = kernel.backward(dhs, cache)["xs"]  # (T, B, D)
    return np.asarray(np.linalg.norm(dxs, axis=2).mean(axis=1))


def saliency_positions(length: int, points: int = 100) -> list[int]:
    """Steps at which a profile of ``length`` steps is stored: about ``points`` evenly spaced
    steps, always with the clue (0), the first filler (1), the last filler and the query."""
    stride = max(1, length // points)
    return sorted(set(range(0, length, stride)) | {0, 1, length - 2, length - 1})


def saliency_summary(profile: np.ndarray) -> dict[str, Any]:
    """The numbers of one run's saliency profile.

    Parameters
    ----------
    profile : numpy.ndarray, shape (T,)
        From :func:`input_saliency`, ``T >= 3``.

    Returns
    -------
    dict
        ``"clue"`` (step 0), ``"filler_mean"`` (mean over steps ``1 .. T − 2``), ``"query"``
        (step ``T − 1``), ``"clue_over_filler"`` (their ratio), and ``"positions"`` /
        ``"profile"``: the profile at :func:`saliency_positions`.
    """
    clue = float(profile[0])
    filler = float(np.mean(profile[1:-1]))
    positions = saliency_positions(len(profile))
    return {
        "clue": clue,
        "filler_mean": filler,
        "query": float(profile[-1]),
        "clue_over_filler": clue / filler if filler > 0 else float("inf"),
        "positions": positions,
        "profile": [float(profile[t]) for t in positions],
    }
