"""Softmax read-out of the last hidden state and its cross-entropy gradient."""

from __future__ import annotations

import numpy as np

__all__ = ["init_readout", "readout_loss", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so it never overflows.

    Parameters
    ----------
    logits : numpy.ndarray, shape (B, K)

    Returns
    -------
    numpy.ndarray, shape (B, K)
        Probabilities; every row sums to one.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    result: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return result


def init_readout(
    hidden_size: int, n_classes: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw read-out weights uniformly from (-1/sqrt(H), 1/sqrt(H)); zero bias.

    Parameters
    ----------
    hidden_size : int
        ``H``.
    n_classes : int
        ``K``.
    rng : numpy.random.Generator

    Returns
    -------
    dict of str to numpy.ndarray
        ``"W_y"`` (K, H) and ``"b_y"`` (K,).
    """
    bound = 1 / np.sqrt(hidden_size)
    return {
        "W_y": rng.uniform(-bound, bound, size=(n_classes, hidden_size)),
        "b_y": np.zeros(n_classes),
    }


def readout_loss(
    h: np.ndarray, readout: dict[str, np.ndarray], labels: np.ndarray
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """Mean cross-entropy of ``softmax(h W_y^T + b_y)`` against ``labels``, with gradients.

    Parameters
    ----------
    h : numpy.ndarray, shape (B, H)
        The hidden state read out (the last step's).
    readout : dict of str to numpy.ndarray
        ``"W_y"`` (K, H) and ``"b_y"`` (K,).
    labels : numpy.ndarray of int, shape (B,)
        Target class of every row.

    Returns
    -------
    loss : float
        ``L = -mean_b log p[b, labels[b]]``.
    grads : dict of str to numpy.ndarray
        ``dL/dW_y`` (K, H), ``dL/db_y`` (K,) and ``dL/dh`` as ``"h"`` (B, H).
    probabilities : numpy.ndarray, shape (B, K)
    """
    B = h.shape[0]
    p = softmax(h @ readout["W_y"].T + readout["b_y"])
    rows = np.arange(B)
    loss = float(-np.mean(np.log(np.maximum(p[rows, labels], np.finfo(p.dtype).tiny))))
    dlogits = p.copy()
    dlogits[rows, labels] -= 1.0
    dlogits /= B
    grads = {
        "W_y": dlogits.T @ h,
        "b_y": dlogits.sum(axis=0),
        "h": dlogits @ readout["W_y"],
    }
    return loss, grads, p
