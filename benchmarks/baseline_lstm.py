"""A hand-written, fused NumPy LSTM: the baseline the generated kernel is timed against.

Written from scratch for the benchmarks, independent of the generator. It is meant to be as
fast as plain NumPy allows, so that "faster than the baseline" means something:

* the weights are packed once, outside the timed region, into the layout the loops want:
  ``Wh`` (H, 4H) and ``Wx`` (D, 4H), gate columns in the order ``[o, i, f, g]`` so that the
  three sigmoid gates are contiguous, and the three gates multiplied by ``dC`` in backward
  (``i, f, g``) are contiguous too;
* the forward copies of the sigmoid-gate columns are pre-scaled by 1/2 (exact in binary), so
  one ``tanh`` over all ``4H`` pre-activations gives ``tanh(a/2)`` for the sigmoid gates and
  ``sigmoid(a) = 0.5 * tanh(a/2) + 0.5`` costs two in-place passes; it never overflows;
* the input projection of all steps is one GEMM before the loop, written straight into the
  preallocated gate buffer; each step does one recurrent GEMM (``out=``) and a handful of
  in-place ufuncs, no temporaries;
* backward precomputes, in chunks of steps that stay in cache, every factor that depends only
  on forward values (``o (1 - tanh(C)^2)``, ``sigma'(a) * ...``), so the recurrent loop is five
  in-place ufuncs (one of them broadcast over the three gates multiplied by ``dC``) and one GEMM
  per step; the gate adjoints of all steps are kept contiguous, and the weight gradients, the bias
  gradient and ``dxs`` are each one GEMM (or one reduction) after the loop. (Measured: writing
  ``dC`` and ``da_o`` with one broadcast ufunc into a (B, 5H) row was slower, because the weight
  GEMMs then read a strided adjoint matrix.)

Gradients agree with :mod:`lstm_sym.kernels.lstm` to rounding (see ``check_baseline`` in
``bench_kernels.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Packed", "backward", "forward", "pack_params", "unpack_grads"]

#: Order of the gate blocks in the packed columns.
GATE_ORDER = ("o", "i", "f", "C")
#: Bytes of backward precomputation processed per chunk of steps (kept cache-resident).
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Packed:
    """Weights in the baseline's own layout.

    Attributes
    ----------
    Wh_s, Wx_s, b_s : numpy.ndarray
        Forward copies, shapes (H, 4H), (D, 4H), (4H,); sigmoid-gate columns scaled by 1/2.
    Wh, Wx : numpy.ndarray
        Unscaled weights (H, 4H), (D, 4H), used by the backward GEMMs.
    """

    Wh_s: np.ndarray
    Wx_s: np.ndarray
    b_s: np.ndarray
    Wh: np.ndarray
    Wx: np.ndarray

    @property
    def hidden_size(self) -> int:
        """``H``."""
        return int(self.Wh.shape[0])


def pack_params(params: Mapping[str, np.ndarray]) -> Packed:
    """Pack per-gate parameters (``W_f`` (H, H + D) acting on ``[h, x]``, ``b_f`` (H,), ...).

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        Keys ``W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o`` as in :mod:`lstm_sym.kernels.lstm`.

    Returns
    -------
    Packed
        The baseline's layout; done once, outside any timed region.
    """
    H = params["W_f"].shape[0]
    W = np.concatenate([params[f"W_{g}"] for g in GATE_ORDER], axis=0)  # (4H, H + D)
    b = np.concatenate([params[f"b_{g}"] for g in GATE_ORDER])
    Wh = np.ascontiguousarray(W[:, :H].T)
    Wx = np.ascontiguousarray(W[:, H:].T)
    Wh_s, Wx_s, b_s = Wh.copy(), Wx.copy(), b.copy()
    for array in (Wh_s, Wx_s, b_s):
        array[..., : 3 * H] *= 0.5
    return Packed(Wh_s=Wh_s, Wx_s=Wx_s, b_s=b_s, Wh=Wh, Wx=Wx)


def unpack_grads(grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Convert packed gradients to the per-gate keys and shapes of the generated kernel.

    Parameters
    ----------
    grads : mapping of str to numpy.ndarray
        As returned by :func:`backward`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``W_f`` (H, H + D), ``b_f`` (H,), ..., ``xs``, ``h0``, ``C0``.
    """
    H = grads["Wh"].shape[0]
    result = {}
    for k, gate in enumerate(GATE_ORDER):
        columns = slice(k * H, (k + 1) * H)
        result[f"W_{gate}"] = np.concatenate(
            [grads["Wh"][:, columns].T, grads["Wx"][:, columns].T], axis=1
        )
        result[f"b_{gate}"] = grads["b"][columns].copy()
    for key in ("xs", "h0", "C0"):
        result[key] = grads[key]
    return result


def forward(
    xs: np.ndarray, packed: Packed, state: Mapping[str, np.ndarray] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    """Run the LSTM over a sequence.

    Parameters
    ----------
    xs : numpy.ndarray, shape (T, B, D)
        Inputs, float32 or float64 (the packed weights must have the same dtype).
    packed : Packed
        Weights from :func:`pack_params`.
    state : mapping of str to numpy.ndarray, optional
        Initial ``h`` and ``C``, each (B, H); zeros when omitted.

    Returns
    -------
    hs : numpy.ndarray, shape (T, B, H)
        Hidden state after every step (a view into the cache; do not modify it).
    final : dict of str to numpy.ndarray
        Final ``h`` and ``C`` (views).
    cache : dict
        What :func:`backward` needs.
    """
    T, B, D = xs.shape
    H = packed.hidden_size
    dtype = xs.dtype
    H3 = 3 * H
    # Gate buffer: input projection of every step in one GEMM, then the bias.
    G = np.empty((T, B, 4 * H), dtype)
    np.matmul(xs.reshape(T * B, D), packed.Wx_s, out=G.reshape(T * B, 4 * H))
    G += packed.b_s
    h_seq = np.empty((T + 1, B, H), dtype)
    C_seq = np.empty((T + 1, B, H), dtype)
    if state is None:
        h_seq[0] = 0
        C_seq[0] = 0
    else:
        h_seq[0] = state["h"]
        C_seq[0] = state["C"]
    tanh_C = np.empty((T, B, H), dtype)
    product = np.empty((B, 4 * H), dtype)
    i_g = np.empty((B, H), dtype)
    Wh_s = packed.Wh_s
    for t in range(T):
        g = G[t]
        np.matmul(h_seq[t], Wh_s, out=product)
        g += product
        np.tanh(g, out=g)
        sig = g[:, :H3]
        sig *= 0.5
        sig += 0.5
        C = C_seq[t + 1]
        np.multiply(g[:, 2 * H : H3], C_seq[t], out=C)
        np.multiply(g[:, H : 2 * H], g[:, H3:], out=i_g)
        C += i_g
        np.tanh(C, out=tanh_C[t])
        np.multiply(g[:, :H], tanh_C[t], out=h_seq[t + 1])
    cache = {"xs": xs, "packed": packed, "G": G, "h_seq": h_seq, "C_seq": C_seq, "tanh_C": tanh_C}
    return h_seq[1:], {"h": h_seq[T], "C": C_seq[T]}, cache


def _precompute(cache: Mapping[str, Any], t0: int, t1: int, P: np.ndarray) -> None:
    """Fill ``P[:t1 - t0]`` (K, B, 5, H) with the forward-only factors of steps t0..t1-1.

    Slots: 0 ``o (1 - tanh(C)^2)``, 1 ``o' tanh(C)``, 2 ``i' g``, 3 ``f' C_prev``,
    4 ``i (1 - g^2)``, where ``s'`` is ``s (1 - s)`` for a sigmoid gate ``s``.
    """
    G = cache["G"][t0:t1]
    H = G.shape[2] // 4
    P = P[: t1 - t0]
    o, i, g = G[..., :H], G[..., H : 2 * H], G[..., 3 * H :]
    tanh_C = cache["tanh_C"][t0:t1]
    C_prev = cache["C_seq"][t0:t1]
    # Sigmoid derivatives of o, i, f at once, into slots 1..3.
    sig = G[..., : 3 * H]
    deriv = P[:, :, 1:4, :].reshape(sig.shape)
    np.multiply(sig, sig, out=deriv)
    np.subtract(sig, deriv, out=deriv)
    P[:, :, 1] *= tanh_C
    P[:, :, 2] *= g
    P[:, :, 3] *= C_prev
    slot = P[:, :, 0]
    np.multiply(tanh_C, tanh_C, out=slot)
    np.subtract(1, slot, out=slot)
    slot *= o
    slot = P[:, :, 4]
    np.multiply(g, g, out=slot)
    np.subtract(1, slot, out=slot)
    slot *= i


def backward(
    dhs: np.ndarray, cache: Mapping[str, Any], dstate: Mapping[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Backpropagate through time.

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        Gradient with respect to ``hs``.
    cache : dict
        From :func:`forward`; left unchanged, so backward may be called again.
    dstate : mapping of str to numpy.ndarray, optional
        Gradient with respect to the final ``h`` and ``C``; zeros when omitted.

    Returns
    -------
    dict of str to numpy.ndarray
        ``Wh`` (H, 4H), ``Wx`` (D, 4H), ``b`` (4H,) in the packed layout (see
        :func:`unpack_grads`), ``xs`` (T, B, D), ``h0`` and ``C0`` (B, H).
    """
    xs, packed = cache["xs"], cache["packed"]
    T, B, D = xs.shape
    H = packed.hidden_size
    dtype = xs.dtype
    G = cache["G"]
    da_seq = np.empty((T, B, 4 * H), dtype)  # gate adjoints of every step, [o, i, f, g]
    dC = np.empty((B, H), dtype)
    dh = np.zeros((B, H), dtype)
    dC_next = np.zeros((B, H), dtype)
    if dstate is not None:
        dh[...] = dstate["h"]
        dC_next[...] = dstate["C"]
    K = max(1, min(T, _CHUNK_BYTES // (B * 5 * H * dtype.itemsize)))
    P = np.empty((K, B, 5, H), dtype)
    WhT = packed.Wh.T
    t1 = T
    while t1 > 0:
        t0 = max(0, t1 - K)
        _precompute(cache, t0, t1, P)
        for t in range(t1 - 1, t0 - 1, -1):
            p = P[t - t0]
            da = da_seq[t]
            dh += dhs[t]
            np.multiply(dh, p[:, 0], out=dC)
            dC += dC_next
            np.multiply(dh, p[:, 1], out=da[:, :H])
            np.multiply(dC[:, None, :], p[:, 2:5], out=da[:, H:].reshape(B, 3, H))
            np.multiply(dC, G[t, :, 2 * H : 3 * H], out=dC_next)
            np.matmul(da, WhT, out=dh)
        t1 = t0
    dA = da_seq.reshape(T * B, 4 * H)
    dWh = np.matmul(cache["h_seq"][:T].reshape(T * B, H).T, dA)
    dWx = np.matmul(xs.reshape(T * B, D).T, dA)
    db = dA.sum(axis=0)
    dxs = np.matmul(dA, packed.Wx.T).reshape(T, B, D)
    return {"Wh": dWh, "Wx": dWx, "b": db, "xs": dxs, "h0": dh, "C0": dC_next}
