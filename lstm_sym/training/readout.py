"""A softmax read-out: a linear layer on hidden states, softmax, cross-entropy, and gradients.

For hidden states ``h`` (..., H) — the last step's (B, H), or every step's (T, B, H) —
``logits = h W_yᵀ + b_y`` (..., K), ``p = softmax(logits)`` and the loss is the mean of
``−log p[label]`` over the rows that count (all, or those where ``mask`` is true). The gradient
of that mean is ``(p − onehot(label)) / N`` per counted row, pushed back through the linear
layer to ``W_y``, ``b_y`` and ``h``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["ReadoutLoss", "init_readout", "readout_logits", "readout_loss", "softmax"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class ReadoutLoss(NamedTuple):
    """What `readout_loss` returns.

    Attributes
    ----------
    loss : float
        Mean cross-entropy over the counted rows.
    grads : dict of str to numpy.ndarray
        Exactly ``"W_y"`` (K, H) and ``"b_y"`` (K,): the read-out's parameter gradients.
    dh : numpy.ndarray, shape (..., H)
        Gradient with respect to ``h`` (zero in rows that do not count).
    probabilities : numpy.ndarray, shape (..., K)
        ``softmax(logits)`` of every row.
    """

    loss: float
    grads: dict[str, np.ndarray]
    dh: np.ndarray
    probabilities: np.ndarray


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so it never overflows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    result: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return result


def init_readout(
    input_size: int,
    n_classes: int,
    seed: int | np.random.Generator | None = None,
    *,
    dtype: Any = np.float64,
) -> dict[str, np.ndarray]:
    """Draw ``W_y`` uniformly from (−1/√H, 1/√H) and a zero ``b_y``.

    Parameters
    ----------
    input_size : int
        ``H``, features of the hidden states read out (``num_directions * H`` for a
        bidirectional stack).
    n_classes : int
        ``K``.
    seed : int or numpy.random.Generator, optional
        Seed of `numpy.random.default_rng`, or a generator to draw from (the draw
        is ``rng.uniform(-1/√H, 1/√H, size=(K, H))`` from it, then cast to ``dtype``).
    dtype : float32 or float64

    Returns
    -------
    dict of str to numpy.ndarray
        ``"W_y"`` (K, H) and ``"b_y"`` (K,).
    """
    for name, value in (("input_size", input_size), ("n_classes", n_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    dtype = np.dtype(dtype)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(input_size)
    return {
        "W_y": rng.uniform(-bound, bound, size=(n_classes, input_size)).astype(dtype),
        "b_y": np.zeros(n_classes, dtype),
    }


def _check_readout(readout: Any, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(readout, dict) or sorted(readout) != ["W_y", "b_y"]:
        keys = sorted(readout) if isinstance(readout, dict) else type(readout).__name__
        raise ValueError(f"readout must be a dict with exactly the keys ['W_y', 'b_y']; got {keys}")
    W_y, b_y = readout["W_y"], readout["b_y"]
    if not isinstance(W_y, np.ndarray) or W_y.ndim != 2:
        raise ValueError(f"readout['W_y'] must be an array of shape (K, H); got {W_y!r:.60}")
    K, H = W_y.shape
    if not isinstance(b_y, np.ndarray) or b_y.shape != (K,):
        raise ValueError(
            f"readout['b_y'] must have shape (K,) = ({K},); got {getattr(b_y, 'shape', b_y)}"
        )
    if not isinstance(h, np.ndarray) or h.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"h must be a float32 or float64 array; got {getattr(h, 'dtype', type(h))}")
    if h.ndim < 1 or h.shape[-1] != H:
        raise ValueError(
            f"h must have shape (..., H) with H = {H} (from readout['W_y']); got {h.shape}"
        )
    for name, value in (("W_y", W_y), ("b_y", b_y)):
        if value.dtype != h.dtype:
            raise TypeError(
                f"readout['{name}'] must have the dtype of h, {h.dtype}; got {value.dtype}"
            )
    return W_y, b_y


def readout_logits(h: np.ndarray, readout: dict[str, np.ndarray]) -> np.ndarray:
    """Return ``h W_yᵀ + b_y``, shape (..., K), for hidden states ``h`` (..., H)."""
    W_y, b_y = _check_readout(readout, h)
    logits: np.ndarray = h @ W_y.T + b_y
    return logits


def readout_loss(
    h: np.ndarray,
    readout: dict[str, np.ndarray],
    labels: np.ndarray,
    mask: np.ndarray | None = None,
) -> ReadoutLoss:
    """Mean softmax cross-entropy of ``h W_yᵀ + b_y`` against ``labels``, with gradients.

    Parameters
    ----------
    h : numpy.ndarray, shape (..., H)
        Hidden states, float32 or float64.
    readout : dict of str to numpy.ndarray
        ``"W_y"`` (K, H) and ``"b_y"`` (K,), the dtype of ``h``.
    labels : numpy.ndarray of int, shape (...)
        Class of every row, in 0 … K − 1 (any value where ``mask`` is false).
    mask : numpy.ndarray of bool, shape (...), optional
        Rows that count (for example the steps before each sequence's end); all when omitted.

    Returns
    -------
    ReadoutLoss
        ``(loss, grads, dh, probabilities)``.

    Raises
    ------
    ValueError
        On shapes that do not fit, a label outside 0 … K − 1 in a counted row, or a mask
        with no true entry.
    TypeError
        On non-float ``h``, non-integer ``labels`` or dtypes that differ.
    """
    W_y, b_y = _check_readout(readout, h)
    K = W_y.shape[0]
    rows_shape = h.shape[:-1]
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers; got dtype {labels.dtype}")
    if labels.shape != rows_shape:
        raise ValueError(
            f"labels must have shape {rows_shape} (h without its last axis); got {labels.shape}"
        )
    if mask is None:
        counted = np.ones(rows_shape, bool)
    else:
        counted = np.asarray(mask)
        if counted.dtype != bool or counted.shape != rows_shape:
            raise ValueError(
                f"mask must be a bool array of shape {rows_shape}; "
                f"got {counted.dtype} {counted.shape}"
            )
    n = int(counted.sum())
    if n == 0:
        raise ValueError("mask must mark at least one row")
    flat_labels = np.where(counted, labels, 0).reshape(-1)
    if flat_labels.size and (flat_labels.min() < 0 or flat_labels.max() >= K):
        raise ValueError(f"labels must be in 0 … K - 1 = {K - 1} where they count")
    flat_h = h.reshape(-1, h.shape[-1])
    p = softmax(flat_h @ W_y.T + b_y)
    rows = np.arange(flat_h.shape[0])
    flat_counted = counted.reshape(-1)
    picked = np.maximum(p[rows, flat_labels], np.finfo(p.dtype).tiny)
    loss = float(-(np.sum(np.log(picked)[flat_counted]) / n))
    dlogits = p.copy()
    dlogits[rows, flat_labels] -= 1.0
    dlogits /= n
    if mask is not None:
        dlogits *= flat_counted[:, None]
    grads = {"W_y": dlogits.T @ flat_h, "b_y": dlogits.sum(axis=0)}
    dh = (dlogits @ W_y).reshape(h.shape)
    return ReadoutLoss(loss, grads, dh, p.reshape((*rows_shape, K)))
