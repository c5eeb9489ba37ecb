# Generated from lstm_sym/spec/cells/gru_torch.cell by `lstm-sym regenerate` — do not edit.
"""Gated recurrent unit, cuDNN / PyTorch form (GRU-torch): generated NumPy kernel (forward, backward through time, one step).

The GRU as torch.nn.GRU and cuDNN compute it: the reset gate scales the recurrent
product W_hn h + b_hn after the matrix multiply (so cuDNN can run all recurrent products
as one GEMM), and the update gate z weighs the previous state.

One step, per unit (``W @ [u, v]`` acts on the concatenation of ``u`` and ``v``;
``<state>_prev`` is the state at the previous step)::

    a_r = W_r @ [h_prev, x] + b_r
    r = sigmoid(a_r)
    a_z = W_z @ [h_prev, x] + b_z
    z = sigmoid(a_z)
    a_xn = W_xn @ [x] + b_xn
    a_hn = W_hn @ [h_prev] + b_hn
    n = tanh(a_xn + r*a_hn)
    h = (1 - z)*n + z*h_prev

Shapes: ``xs`` (T, B, D); every state (B, H); the parameters as in
:func:`parameter_shapes`. The dtype (float32 or float64) follows ``xs``.
The backward pass was derived symbolically by lstm_sym and is checked against finite
differences, an autodiff oracle and a symbolic identity before it is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "CELL",
    "INPUT_NAME",
    "LINEAR_STACKS",
    "OUTPUT_STATE",
    "PARAMETER_NAMES",
    "STATE_NAMES",
    "backward",
    "forward",
    "init_params",
    "parameter_shapes",
    "step",
    "step_backward",
]

#: Name of the cell this module implements.
CELL = "gru_torch"
#: Keys of the parameter dict, in spec order.
PARAMETER_NAMES = ("W_r", "b_r", "W_z", "b_z", "W_xn", "b_xn", "W_hn", "b_hn", )
#: Keys of the state dict.
STATE_NAMES = ("h", )
#: The state emitted at every step.
OUTPUT_STATE = "h"
#: Name of the input in the spec (an operand of the linear maps below).
INPUT_NAME = "x"
#: Stacked linear maps, in forward order: (operands in column order, number of members).
#: Each is one GEMM per step on its recurrent operands, plus one hoisted GEMM on the input.
LINEAR_STACKS = ((("h_prev", "x", ), 2), (("x", ), 1), (("h_prev", ), 1), )

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Drawn when the module is loaded: a cache carries it, and only this module's backward
#: accepts it (a cache of another cell with the same name, or another copy, is refused).
_CACHE_TOKEN = int(np.random.default_rng().integers(1 << 62))
#: Rows (steps × batch) per block of the hoisted input projection and of the weight-gradient
#: GEMMs: large enough for efficient matrix products, small enough to cap the extra memory.
_CHUNK_ROWS = 1024
#: Bytes of forward-only adjoint factors computed per block of steps in the backward pass
#: (at most _FACTOR_STEPS steps, and at most those of one block of _CHUNK_ROWS rows): small
#: enough to stay in cache until the block's steps read them, and to add little memory.
_FACTOR_BYTES = 1 << 18
#: Enough steps per factor block to spread the per-call cost when the batch is small.
_FACTOR_STEPS = 32


def _sigmoid(_a: np.ndarray, _out: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2, elementwise, into ``out``.

    The tanh form cannot overflow for any ``a`` (no warnings at saturation) and needs no
    temporary array. Its absolute error is within one rounding of 1, so values far in the
    lower tail (below about 1e-16 in float64, 1e-8 in float32) come out as 0.
    """
    np.multiply(_a, 0.5, out=_out)
    np.tanh(_out, out=_out)
    _out *= 0.5
    _out += 0.5
    return _out


def _matmul_into(_a: np.ndarray, _b: np.ndarray, _out: np.ndarray, _accumulate: bool) -> None:
    """``out = a @ b``, or ``out += a @ b`` when ``accumulate`` (only then with a temporary)."""
    if _accumulate:
        _out += np.matmul(_a, _b)
    else:
        np.matmul(_a, _b, out=_out)


def parameter_shapes(input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Return the shape of every parameter for input size ``D`` and hidden size ``H``.

    Parameters
    ----------
    input_size : int
        ``D``, the number of input features.
    hidden_size : int
        ``H``, the number of units of every state.

    Returns
    -------
    dict of str to tuple of int
        Keyed by :data:`PARAMETER_NAMES`.
    """
    _D, _H = input_size, hidden_size
    return {
        "W_r": (_H, _H + _D),
        "b_r": (_H,),
        "W_z": (_H, _H + _D),
        "b_z": (_H,),
        "W_xn": (_H, _D),
        "b_xn": (_H,),
        "W_hn": (_H, _H),
        "b_hn": (_H,),
    }


def init_params(
    input_size: int,
    hidden_size: int,
    *,
    seed: int | None = None,
    dtype: Any = np.float64,
) -> dict[str, np.ndarray]:
    """Draw parameters uniformly from (-1/sqrt(H), 1/sqrt(H)), as torch initialises RNNs.

    Weights of linear maps on the same concatenation are views into one stacked buffer, so
    the readable names and the fast stacked form share memory.

    Parameters
    ----------
    input_size : int
        ``D``, the number of input features.
    hidden_size : int
        ``H``, the number of units of every state.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same parameters.
    dtype : float32 or float64
        dtype of every parameter.

    Returns
    -------
    dict of str to numpy.ndarray
        Keyed by :data:`PARAMETER_NAMES`, shapes as in :func:`parameter_shapes`.
    """
    _D = _check_size("input_size", input_size)
    _H = _check_size("hidden_size", hidden_size)
    _dtype = np.dtype(dtype)
    if _dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {_dtype}")
    _rng = np.random.default_rng(seed)
    _bound = 1 / np.sqrt(_H)
    _W_stack0 = _rng.uniform(-_bound, _bound, size=(2 * _H, _H + _D)).astype(_dtype)
    _b_stack0 = _rng.uniform(-_bound, _bound, size=(2 * _H,)).astype(_dtype)
    _W_stack1 = _rng.uniform(-_bound, _bound, size=(_H, _D)).astype(_dtype)
    _b_stack1 = _rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype)
    _W_stack2 = _rng.uniform(-_bound, _bound, size=(_H, _H)).astype(_dtype)
    _b_stack2 = _rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype)
    return {
        "W_r": _W_stack0[0:_H],
        "b_r": _b_stack0[0:_H],
        "W_z": _W_stack0[_H:2 * _H],
        "b_z": _b_stack0[_H:2 * _H],
        "W_xn": _W_stack1[0:_H],
        "b_xn": _b_stack1[0:_H],
        "W_hn": _W_stack2[0:_H],
        "b_hn": _b_stack2[0:_H],
    }


def forward(
    xs: np.ndarray,
    params: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    """Run the cell over a whole sequence.

    Parameters
    ----------
    xs : numpy.ndarray, shape (T, B, D)
        Inputs of every step, float32 or float64.
    params : mapping of str to numpy.ndarray
        Exactly the keys :data:`PARAMETER_NAMES`, same dtype as ``xs``.
    state : mapping of str to numpy.ndarray, optional
        Initial state, keys :data:`STATE_NAMES`, each (B, H); zeros when omitted.

    Returns
    -------
    hs : numpy.ndarray, shape (T, B, H)
        The output state ``h`` after every step.
    state : dict of str to numpy.ndarray
        The final state, each (B, H).
    cache : dict
        What :func:`backward` needs; treat it as opaque.

    Raises
    ------
    ValueError
        On a wrong rank or shape, a size that does not match the parameters, or a missing
        or unexpected key.
    TypeError
        On a non-float dtype, or dtypes that differ between ``xs``, ``params`` and ``state``.
    """
    return _forward(xs, params, state, _input_name="xs")


def _forward(
    _inputs: Any,
    params: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray] | None,
    _input_name: str,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    # A copy: backward must see the inputs forward saw, even if the caller changes them.
    _xs = _check_array(_input_name, _inputs, 3, "(T, B, D)").copy()
    _T, _B, _D = _xs.shape
    _dtype = _xs.dtype
    _H = _check_params(params, _D, _dtype, _input_name)
    _steps = max(1, _CHUNK_ROWS // _B)
    _initial = _check_state("state", state, _B, _H, _dtype)
    # Linear maps on [h_prev, x], stacked: one GEMM.
    _W_stack0 = np.concatenate((params["W_r"], params["W_z"],), axis=0)
    _b_stack0 = np.concatenate((params["b_r"], params["b_z"],))
    # Rows a_r, a_z feed sigmoids: halved (exactly), they give a / 2, and σ(a) = (1 + tanh(a / 2)) / 2.
    _W_stack0[0:2 * _H] *= 0.5
    _b_stack0[0:2 * _H] *= 0.5
    _WT_stack0__x = _W_stack0[:, _H:_H + _D].T
    _a_stack0_chunk = np.empty((min(_T, _steps), _B, 2 * _H), _dtype)
    _WT_stack0__h_prev = _W_stack0[:, 0:_H].T
    _product0 = np.empty((_B, 2 * _H), _dtype)
    # Linear maps on [x], stacked: one GEMM.
    _W_stack1 = np.concatenate((params["W_xn"],), axis=0)
    _b_stack1 = np.concatenate((params["b_xn"],))
    _WT_stack1__x = _W_stack1[:, 0:_D].T
    _a_stack1_chunk = np.empty((min(_T, _steps), _B, _H), _dtype)
    # Linear maps on [h_prev], stacked: one GEMM.
    _W_stack2 = np.concatenate((params["W_hn"],), axis=0)
    _b_stack2 = np.concatenate((params["b_hn"],))
    _a_stack2_seq = np.broadcast_to(_b_stack2, (_T, _B, _H)).copy()
    _WT_stack2__h_prev = _W_stack2[:, 0:_H].T
    _product2 = np.empty((_B, _H), _dtype)
    # History of every state: index t holds the state before step t.
    h_seq = np.empty((_T + 1, _B, _H), _dtype)
    h_seq[0] = _initial["h"]
    # Forward values the backward pass reads.
    _gates0_seq = np.empty((_T, _B, 2 * _H), _dtype)
    r_seq = _gates0_seq[:, :, 0:_H]
    z_seq = _gates0_seq[:, :, _H:2 * _H]
    n_seq = np.empty((_T, _B, _H), _dtype)
    # Step buffers, reused at every step: the loop allocates nothing.
    _work0 = np.empty((_B, _H), _dtype)
    for _t in range(_T):
        _chunk_step = _t % _steps
        if _chunk_step == 0:
            # Input projection of the chunk's steps at once, hoisted out of the step.
            _t_end = min(_T, _t + _steps)
            np.matmul(_xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _WT_stack0__x, out=_a_stack0_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, 2 * _H))
            _a_stack0_chunk[: _t_end - _t] += _b_stack0
            np.matmul(_xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _WT_stack1__x, out=_a_stack1_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, _H))
            _a_stack1_chunk[: _t_end - _t] += _b_stack1
        h_prev = h_seq[_t]
        _a_stack0 = _a_stack0_chunk[_chunk_step]
        np.matmul(h_prev, _WT_stack0__h_prev, out=_product0)
        _a_stack0 += _product0
        _gates0 = _gates0_seq[_t]
        # r, z at once: tanh, and (1 + tanh(a / 2)) / 2 on the rows holding a / 2.
        np.tanh(_a_stack0, out=_gates0)
        _gates0[:, 0:2 * _H] *= 0.5
        _gates0[:, 0:2 * _H] += 0.5
        r = r_seq[_t]
        z = z_seq[_t]
        _a_stack1 = _a_stack1_chunk[_chunk_step]
        a_xn = _a_stack1[:, 0:_H]
        _a_stack2 = _a_stack2_seq[_t]
        np.matmul(h_prev, _WT_stack2__h_prev, out=_product2)
        _a_stack2 += _product2
        a_hn = _a_stack2[:, 0:_H]
        n = n_seq[_t]
        # n = np.tanh(a_hn*r + a_xn)
        np.multiply(a_hn, r, out=n)
        n += a_xn
        np.tanh(n, out=n)
        h = h_seq[_t + 1]
        # h = h_prev*z + n*(1 - z)
        np.multiply(h_prev, z, out=h)
        np.subtract(1, z, out=_work0)
        _work0 *= n
        h += _work0
    _hs = h_seq[1:].copy()
    _final = {
        "h": h_seq[_T].copy(),
    }
    _cache: dict[str, Any] = {
        "cell": CELL,
        "module": _CACHE_TOKEN,
        "xs": _xs,
        "params": {},
        "_W_stack0": _W_stack0,
        "_W_stack1": _W_stack1,
        "_W_stack2": _W_stack2,
        "_a_stack2_seq": _a_stack2_seq,
        "h_seq": h_seq,
        "r_seq": r_seq,
        "z_seq": z_seq,
        "n_seq": n_seq,
    }
    return _hs, _final, _cache


def backward(
    dhs: np.ndarray,
    cache: Mapping[str, Any],
    dstate: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Backpropagate through time.

    Parameters
    ----------
    dhs : numpy.ndarray, shape (T, B, H)
        Gradient of the loss with respect to ``hs``.
    cache : dict
        The cache returned by :func:`forward`.
    dstate : mapping of str to numpy.ndarray, optional
        Gradient with respect to the final state, keys :data:`STATE_NAMES`, each (B, H);
        zeros when omitted.

    Returns
    -------
    dict of str to numpy.ndarray
        The gradient of every parameter (same keys and shapes as ``params``), ``"xs"``
        (T, B, D), and of the initial state as ``"<state>0"`` (B, H) for each state.

    Raises
    ------
    ValueError
        If ``dhs`` or ``dstate`` does not match the shapes of the forward pass, or
        ``cache`` does not come from :func:`forward` of this cell.
    TypeError
        On a dtype other than the forward pass's.
    """
    if not isinstance(cache, Mapping) or cache.get("cell") != CELL:
        raise ValueError(f"cache must be the cache returned by {CELL}.forward")
    if cache.get("module") != _CACHE_TOKEN:
        raise ValueError(
            f"cache comes from another module of a cell named {CELL!r}: pass the cache "
            "returned by forward of this module"
        )
    _xs = cache["xs"]
    _T, _B, _D = _xs.shape
    _dtype = _xs.dtype
    _H = cache["h_seq"].shape[2]
    dhs = _check_array("dhs", dhs, 3, "(T, B, H)", _dtype)
    if dhs.shape != (_T, _B, _H):
        raise ValueError(f"dhs must have the shape of hs, (T, B, H) = {(_T, _B, _H)}; got {dhs.shape}")
    _final = _check_state("dstate", dstate, _B, _H, _dtype)
    _steps = max(1, _CHUNK_ROWS // _B)
    _dxs = np.empty((_T, _B, _D), _dtype)  # C order: each block of steps is one contiguous slab
    _d_h_carry = _final["h"].copy()
    h_seq = cache["h_seq"]
    r_seq = cache["r_seq"]
    z_seq = cache["z_seq"]
    n_seq = cache["n_seq"]
    _a_stack2_seq = cache["_a_stack2_seq"]
    _W_stack0 = cache["_W_stack0"]
    _da_stack0_chunk = np.empty((min(_T, _steps), _B, 2 * _H), _dtype)
    _dW_stack0 = np.zeros_like(_W_stack0)
    _db_stack0 = np.zeros(2 * _H, _dtype)
    _W_stack0__h_prev = _W_stack0[:, 0:_H]
    _W_stack1 = cache["_W_stack1"]
    _da_stack1_chunk = np.empty((min(_T, _steps), _B, _H), _dtype)
    _dW_stack1 = np.zeros_like(_W_stack1)
    _db_stack1 = np.zeros(_H, _dtype)
    _W_stack2 = cache["_W_stack2"]
    _da_stack2_chunk = np.empty((min(_T, _steps), _B, _H), _dtype)
    _dW_stack2 = np.zeros_like(_W_stack2)
    _db_stack2 = np.zeros(_H, _dtype)
    _W_stack2__h_prev = _W_stack2[:, 0:_H]
    # Forward-only factors of the adjoints, computed a block of steps at a time.
    _factor_steps = max(1, min(_steps, _FACTOR_STEPS, _FACTOR_BYTES // (_B * 4 * _H * _dtype.itemsize)))
    _factors = np.empty((min(_T, _factor_steps), _B, 4, _H), _dtype)
    _block_work0_all = np.empty((min(_T, _factor_steps), _B, _H), _dtype)
    # Step buffers, reused at every step: the loop allocates nothing.
    d_h_in = np.empty((_B, _H), _dtype)
    d_h_prev__stack2 = np.empty((_B, _H), _dtype)
    d_h_prev__stack0 = np.empty((_B, _H), _dtype)
    for _t in range(_T - 1, -1, -1):
        _chunk_step = _t % _steps
        _factor_step = _t % _factor_steps
        if _t == _T - 1 or _factor_step == _factor_steps - 1:
            # Steps t0 … t: every forward-only factor of their adjoints, for all at once.
            _t0 = _t - _factor_step
            h_prev = h_seq[_t0:_t + 1]
            r = r_seq[_t0:_t + 1]
            z = z_seq[_t0:_t + 1]
            a_hn = _a_stack2_seq[_t0:_t + 1, :, 0:_H]
            n = n_seq[_t0:_t + 1]
            _block = _factors[: _t + 1 - _t0]
            _block_work0 = _block_work0_all[: _t + 1 - _t0]
            fac_a_r__h_in = _block[:, :, 0]
            # fac_a_r__h_in = 2*a_hn*r*(1 - n**2)*(1 - r)*(1 - z)
            np.subtract(1, r, out=fac_a_r__h_in)
            fac_a_r__h_in *= a_hn
            fac_a_r__h_in *= r
            np.subtract(1, z, out=_block_work0)
            fac_a_r__h_in *= _block_work0
            np.square(n, out=_block_work0)
            np.subtract(1, _block_work0, out=_block_work0)
            fac_a_r__h_in *= _block_work0
            fac_a_r__h_in *= 2
            fac_a_z__h_in = _block[:, :, 1]
            # fac_a_z__h_in = 2*z*(1 - z)*(h_prev - n)
            np.subtract(1, z, out=fac_a_z__h_in)
            fac_a_z__h_in *= z
            np.subtract(h_prev, n, out=_block_work0)
            fac_a_z__h_in *= _block_work0
            fac_a_z__h_in *= 2
            fac_a_hn__h_in = _block[:, :, 2]
            # fac_a_hn__h_in = r*(1 - n**2)*(1 - z)
            np.subtract(1, z, out=fac_a_hn__h_in)
            fac_a_hn__h_in *= r
            np.square(n, out=_block_work0)
            np.subtract(1, _block_work0, out=_block_work0)
            fac_a_hn__h_in *= _block_work0
            fac_a_xn__h_in = _block[:, :, 3]
            # fac_a_xn__h_in = (1 - n**2)*(1 - z)
            np.subtract(1, z, out=fac_a_xn__h_in)
            np.square(n, out=_block_work0)
            np.subtract(1, _block_work0, out=_block_work0)
            fac_a_xn__h_in *= _block_work0
        _factors_t = _factors[_factor_step]
        fac_a_hn__h_in = _factors_t[:, 2]
        fac_a_xn__h_in = _factors_t[:, 3]
        z = z_seq[_t]
        np.add(dhs[_t], _d_h_carry, out=d_h_in)
        _da_stack2 = _da_stack2_chunk[_chunk_step]
        d_a_hn = _da_stack2[:, 0:_H]
        np.multiply(d_h_in, fac_a_hn__h_in, out=d_a_hn)
        np.matmul(_da_stack2, _W_stack2__h_prev, out=d_h_prev__stack2)
        _da_stack1 = _da_stack1_chunk[_chunk_step]
        d_a_xn = _da_stack1[:, 0:_H]
        np.multiply(d_h_in, fac_a_xn__h_in, out=d_a_xn)
        _da_stack0 = _da_stack0_chunk[_chunk_step]
        # d_a_r, d_a_z hold adjoints of a / 2 (twice those of a): halved weights.
        # d_a_r, d_a_z = d_h_in * (fac_a_r__h_in, fac_a_z__h_in), at once
        np.multiply(d_h_in[:, None, :], _factors_t[:, 0:2], out=_da_stack0.reshape(_B, 2, _H))
        np.matmul(_da_stack0, _W_stack0__h_prev, out=d_h_prev__stack0)
        # _d_h_carry = d_h_in*z + d_h_prev__stack0 + d_h_prev__stack2
        np.multiply(d_h_in, z, out=_d_h_carry)
        _d_h_carry += d_h_prev__stack0
        _d_h_carry += d_h_prev__stack2
        if _chunk_step == 0:
            # Steps t … t_end − 1 are done: fold them into the weight gradients.
            _t_end = min(_T, _t + _steps)
            _da_stack0_flat = _da_stack0_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, 2 * _H)
            _matmul_into(_da_stack0_flat.T, h_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack0[:, 0:_H], _accumulate=_t_end < _T)
            _matmul_into(_da_stack0_flat.T, _xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _dW_stack0[:, _H:_H + _D], _accumulate=_t_end < _T)
            _matmul_into(_da_stack0_flat, _W_stack0[:, _H:_H + _D], _dxs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _accumulate=False)
            _db_stack0 += _da_stack0_flat.sum(axis=0)
            _da_stack1_flat = _da_stack1_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, _H)
            _matmul_into(_da_stack1_flat.T, _xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _dW_stack1[:, 0:_D], _accumulate=_t_end < _T)
            _matmul_into(_da_stack1_flat, _W_stack1[:, 0:_D], _dxs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _accumulate=True)
            _db_stack1 += _da_stack1_flat.sum(axis=0)
            _da_stack2_flat = _da_stack2_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, _H)
            _matmul_into(_da_stack2_flat.T, h_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack2[:, 0:_H], _accumulate=_t_end < _T)
            _db_stack2 += _da_stack2_flat.sum(axis=0)
    # Halved rows: d(L)/d(W) = d(L)/d(W / 2) / 2.
    _dW_stack0[0:2 * _H] *= 0.5
    _db_stack0[0:2 * _H] *= 0.5
    return {
        "W_r": _dW_stack0[0:_H],
        "b_r": _db_stack0[0:_H],
        "W_z": _dW_stack0[_H:2 * _H],
        "b_z": _db_stack0[_H:2 * _H],
        "W_xn": _dW_stack1[0:_H],
        "b_xn": _db_stack1[0:_H],
        "W_hn": _dW_stack2[0:_H],
        "b_hn": _db_stack2[0:_H],
        "xs": _dxs,
        "h0": _d_h_carry,
    }


def step(
    x: np.ndarray,
    state: Mapping[str, np.ndarray] | None,
    params: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run one time step.

    Parameters
    ----------
    x : numpy.ndarray, shape (B, D)
        Input of this step.
    state : mapping of str to numpy.ndarray or None
        State before the step, keys :data:`STATE_NAMES`, each (B, H); zeros when ``None``.
    params : mapping of str to numpy.ndarray
        As for :func:`forward`.

    Returns
    -------
    state : dict of str to numpy.ndarray
        State after the step; ``state["h"]`` is the step's output.
    cache : dict
        What :func:`step_backward` needs.
    """
    x = _check_array("x", x, 2, "(B, D)")
    _, _final, _cache = _forward(x[np.newaxis], params, state, _input_name="x")
    return _final, _cache


def step_backward(
    dstate: Mapping[str, np.ndarray] | None,
    cache: Mapping[str, Any],
) -> dict[str, np.ndarray]:
    """Backpropagate through one step.

    Parameters
    ----------
    dstate : mapping of str to numpy.ndarray or None
        Gradient with respect to the state after the step (keys :data:`STATE_NAMES`,
        each (B, H)); zeros when ``None``.
    cache : dict
        The cache returned by :func:`step`.

    Returns
    -------
    dict of str to numpy.ndarray
        The gradient of every parameter, ``"x"`` (B, D), and of the state before the step
        as ``"<state>_prev"`` (B, H), ready to be the ``dstate`` of the step before.
    """
    if not isinstance(cache, Mapping) or cache.get("cell") != CELL:
        raise ValueError(f"cache must be the cache returned by {CELL}.step")
    if cache.get("module") != _CACHE_TOKEN:
        raise ValueError(
            f"cache comes from another module of a cell named {CELL!r}: pass the cache "
            "returned by step of this module"
        )
    if cache["xs"].shape[0] != 1:
        raise ValueError("cache comes from forward over several steps; pass the cache of step()")
    _, _B, _ = cache["xs"].shape
    _H = cache["h_seq"].shape[2]
    _dhs = np.zeros((1, _B, _H), cache["xs"].dtype)
    _grads = backward(_dhs, cache, dstate)
    _result = {_name: _grads[_name] for _name in PARAMETER_NAMES}
    _result["x"] = _grads["xs"][0]
    for _name in STATE_NAMES:
        _result[_name + "_prev"] = _grads[_name + "0"]
    return _result


def _check_size(_name: str, _value: Any) -> int:
    if isinstance(_value, bool) or not isinstance(_value, (int, np.integer)) or _value < 1:
        raise ValueError(f"{_name} must be a positive integer; got {_value!r}")
    return int(_value)


def _check_array(
    _name: str, _value: Any, _ndim: int, _shape_text: str, _dtype: np.dtype | None = None
) -> np.ndarray:
    _array = np.asarray(_value)
    if _array.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{_name} must be a float32 or float64 array; got dtype {_array.dtype}")
    if _dtype is not None and _array.dtype != _dtype:
        raise TypeError(f"{_name} must have dtype {_dtype} like the inputs; got {_array.dtype}")
    if _array.ndim != _ndim:
        raise ValueError(
            f"{_name} must have shape {_shape_text} ({_ndim} dimensions); got shape {_array.shape}"
        )
    if 0 in _array.shape:
        raise ValueError(f"{_name} must not be empty; got shape {_array.shape}")
    return _array


def _check_params(
    _params: Mapping[str, np.ndarray], _D: int, _dtype: np.dtype, _input_name: str
) -> int:
    if not isinstance(_params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(_params).__name__}")
    _missing = [_name for _name in PARAMETER_NAMES if _name not in _params]
    if _missing:
        raise ValueError(f"params is missing {_missing}; expected keys {list(PARAMETER_NAMES)}")
    _extra = sorted(str(_name) for _name in _params if _name not in PARAMETER_NAMES)
    if _extra:
        raise ValueError(f"params has unexpected keys {_extra}; expected keys {list(PARAMETER_NAMES)}")
    _first = np.asarray(_params["W_r"])
    if _first.ndim < 1 or _first.shape[0] < 1:
        raise ValueError(f"params['W_r'] must have H rows; got shape {_first.shape}")
    _H = int(_first.shape[0])
    _expected = parameter_shapes(_D, _H)
    for _name in PARAMETER_NAMES:
        _value = _params[_name]
        if not isinstance(_value, np.ndarray):
            raise TypeError(f"params['{_name}'] must be a numpy array; got {type(_value).__name__}")
        if _value.dtype != _dtype:
            raise TypeError(f"params['{_name}'] must have dtype {_dtype} like {_input_name}; got {_value.dtype}")
        if _value.shape != _expected[_name]:
            raise ValueError(
                f"params['{_name}'] must have shape {_expected[_name]} "
                f"(H={_H} from params['W_r'], D={_D} from {_input_name}); got {_value.shape}"
            )
    return _H


def _check_state(
    _name: str, _state: Mapping[str, np.ndarray] | None, _B: int, _H: int, _dtype: np.dtype
) -> dict[str, np.ndarray]:
    if _state is None:
        return {_key: np.zeros((_B, _H), _dtype) for _key in STATE_NAMES}
    if not isinstance(_state, Mapping):
        raise TypeError(f"{_name} must be a dict with keys {list(STATE_NAMES)}; got {type(_state).__name__}")
    _keys = sorted(str(_key) for _key in _state)
    if _keys != sorted(STATE_NAMES):
        raise ValueError(f"{_name} must have exactly the keys {list(STATE_NAMES)}; got {_keys}")
    _checked = {}
    for _key in STATE_NAMES:
        _value = _check_array(f"{_name}['{_key}']", _state[_key], 2, "(B, H)", _dtype)
        if _value.shape != (_B, _H):
            raise ValueError(
                f"{_name}['{_key}'] must have shape (B, H) = {(_B, _H)} to match the batch of the "
                f"inputs and H of params; got {_value.shape}"
            )
        _checked[_key] = _value
    return _checked
