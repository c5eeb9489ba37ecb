# Generated from lstm_sym/spec/cells/lstm_fgr.cell by `lstm-sym regenerate` — do not edit.
"""Peephole LSTM with full gate recurrence (FGR): generated NumPy kernel (forward, backward through time, one step).

Greff et al.'s FGR variant of the peephole LSTM: every gate also sees the three gates of
the previous step through its own recurrent weights, so the gates become part of the
state carried through time.

One step, per unit (``W @ [u, v]`` acts on the concatenation of ``u`` and ``v``;
``<state>_prev`` is the state at the previous step)::

    a_f = W_f @ [h_prev, x, i_prev, f_prev, o_prev] + b_f
    f = sigmoid(a_f + p_f*C_prev)
    a_i = W_i @ [h_prev, x, i_prev, f_prev, o_prev] + b_i
    i = sigmoid(a_i + p_i*C_prev)
    a_C = W_C @ [h_prev, x] + b_C
    C_tilde = tanh(a_C)
    C = f*C_prev + i*C_tilde
    a_o = W_o @ [h_prev, x, i_prev, f_prev, o_prev] + b_o
    o = sigmoid(a_o + p_o*C)
    h = o*tanh(C)

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
CELL = "lstm_fgr"
#: Keys of the parameter dict, in spec order.
PARAMETER_NAMES = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o", "p_f", "p_i", "p_o", )
#: Keys of the state dict.
STATE_NAMES = ("h", "C", "i", "f", "o", )
#: The state emitted at every step.
OUTPUT_STATE = "h"
#: Name of the input in the spec (an operand of the linear maps below).
INPUT_NAME = "x"
#: Stacked linear maps, in forward order: (operands in column order, number of members).
#: Each is one GEMM per step on its recurrent operands, plus one hoisted GEMM on the input.
LINEAR_STACKS = ((("h_prev", "x", "i_prev", "f_prev", "o_prev", ), 3), (("h_prev", "x", ), 1), )

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
        "W_f": (_H, 4 * _H + _D),
        "b_f": (_H,),
        "W_i": (_H, 4 * _H + _D),
        "b_i": (_H,),
        "W_C": (_H, _H + _D),
        "b_C": (_H,),
        "W_o": (_H, 4 * _H + _D),
        "b_o": (_H,),
        "p_f": (_H,),
        "p_i": (_H,),
        "p_o": (_H,),
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
    _W_stack0 = _rng.uniform(-_bound, _bound, size=(3 * _H, 4 * _H + _D)).astype(_dtype)
    _b_stack0 = _rng.uniform(-_bound, _bound, size=(3 * _H,)).astype(_dtype)
    _W_stack1 = _rng.uniform(-_bound, _bound, size=(_H, _H + _D)).astype(_dtype)
    _b_stack1 = _rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype)
    return {
        "W_f": _W_stack0[0:_H],
        "b_f": _b_stack0[0:_H],
        "W_i": _W_stack0[_H:2 * _H],
        "b_i": _b_stack0[_H:2 * _H],
        "W_C": _W_stack1[0:_H],
        "b_C": _b_stack1[0:_H],
        "W_o": _W_stack0[2 * _H:3 * _H],
        "b_o": _b_stack0[2 * _H:3 * _H],
        "p_f": _rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype),
        "p_i": _rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype),
        "p_o": _rng.uniform(-_bound, _bound, size=(_H,)).astype(_dtype),
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
    # Linear maps on [h_prev, x, i_prev, f_prev, o_prev], stacked: one GEMM.
    _W_stack0 = np.concatenate((params["W_f"], params["W_i"], params["W_o"],), axis=0)
    _b_stack0 = np.concatenate((params["b_f"], params["b_i"], params["b_o"],))
    _WT_stack0__x = _W_stack0[:, _H:_H + _D].T
    _a_stack0_chunk = np.empty((min(_T, _steps), _B, 3 * _H), _dtype)
    _WT_stack0__h_prev = _W_stack0[:, 0:_H].T
    _WT_stack0__i_prev = _W_stack0[:, _H + _D:2 * _H + _D].T
    _WT_stack0__f_prev = _W_stack0[:, 2 * _H + _D:3 * _H + _D].T
    _WT_stack0__o_prev = _W_stack0[:, 3 * _H + _D:4 * _H + _D].T
    _product0 = np.empty((_B, 3 * _H), _dtype)
    # Linear maps on [h_prev, x], stacked: one GEMM.
    _W_stack1 = np.concatenate((params["W_C"],), axis=0)
    _b_stack1 = np.concatenate((params["b_C"],))
    _WT_stack1__x = _W_stack1[:, _H:_H + _D].T
    _a_stack1_chunk = np.empty((min(_T, _steps), _B, _H), _dtype)
    _WT_stack1__h_prev = _W_stack1[:, 0:_H].T
    _product1 = np.empty((_B, _H), _dtype)
    # History of every state: index t holds the state before step t.
    h_seq = np.empty((_T + 1, _B, _H), _dtype)
    h_seq[0] = _initial["h"]
    C_seq = np.empty((_T + 1, _B, _H), _dtype)
    C_seq[0] = _initial["C"]
    i_seq = np.empty((_T + 1, _B, _H), _dtype)
    i_seq[0] = _initial["i"]
    f_seq = np.empty((_T + 1, _B, _H), _dtype)
    f_seq[0] = _initial["f"]
    o_seq = np.empty((_T + 1, _B, _H), _dtype)
    o_seq[0] = _initial["o"]
    # Forward values the backward pass reads.
    C_tilde_seq = np.empty((_T, _B, _H), _dtype)
    tanh_C_seq = np.empty((_T, _B, _H), _dtype)
    p_f = params["p_f"]
    p_i = params["p_i"]
    p_o = params["p_o"]
    # Step buffers, reused at every step: the loop allocates nothing.
    _work0 = np.empty((_B, _H), _dtype)
    for _t in range(_T):
        _chunk_step = _t % _steps
        if _chunk_step == 0:
            # Input projection of the chunk's steps at once, hoisted out of the step.
            _t_end = min(_T, _t + _steps)
            np.matmul(_xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _WT_stack0__x, out=_a_stack0_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, 3 * _H))
            _a_stack0_chunk[: _t_end - _t] += _b_stack0
            np.matmul(_xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _WT_stack1__x, out=_a_stack1_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, _H))
            _a_stack1_chunk[: _t_end - _t] += _b_stack1
        h_prev = h_seq[_t]
        C_prev = C_seq[_t]
        i_prev = i_seq[_t]
        f_prev = f_seq[_t]
        o_prev = o_seq[_t]
        _a_stack0 = _a_stack0_chunk[_chunk_step]
        np.matmul(h_prev, _WT_stack0__h_prev, out=_product0)
        _a_stack0 += _product0
        np.matmul(i_prev, _WT_stack0__i_prev, out=_product0)
        _a_stack0 += _product0
        np.matmul(f_prev, _WT_stack0__f_prev, out=_product0)
        _a_stack0 += _product0
        np.matmul(o_prev, _WT_stack0__o_prev, out=_product0)
        _a_stack0 += _product0
        a_f = _a_stack0[:, 0:_H]
        a_i = _a_stack0[:, _H:2 * _H]
        a_o = _a_stack0[:, 2 * _H:3 * _H]
        f = f_seq[_t + 1]
        # f = _sigmoid(C_prev*p_f + a_f)
        np.multiply(C_prev, p_f, out=f)
        f += a_f
        _sigmoid(f, f)
        i = i_seq[_t + 1]
        # i = _sigmoid(C_prev*p_i + a_i)
        np.multiply(C_prev, p_i, out=i)
        i += a_i
        _sigmoid(i, i)
        _a_stack1 = _a_stack1_chunk[_chunk_step]
        np.matmul(h_prev, _WT_stack1__h_prev, out=_product1)
        _a_stack1 += _product1
        a_C = _a_stack1[:, 0:_H]
        C_tilde = C_tilde_seq[_t]
        np.tanh(a_C, out=C_tilde)
        C = C_seq[_t + 1]
        # C = C_prev*f + C_tilde*i
        np.multiply(C_prev, f, out=C)
        np.multiply(C_tilde, i, out=_work0)
        C += _work0
        o = o_seq[_t + 1]
        # o = _sigmoid(C*p_o + a_o)
        np.multiply(C, p_o, out=o)
        o += a_o
        _sigmoid(o, o)
        tanh_C = tanh_C_seq[_t]
        np.tanh(C, out=tanh_C)
        h = h_seq[_t + 1]
        np.multiply(o, tanh_C, out=h)
    _hs = h_seq[1:].copy()
    _final = {
        "h": h_seq[_T].copy(),
        "C": C_seq[_T].copy(),
        "i": i_seq[_T].copy(),
        "f": f_seq[_T].copy(),
        "o": o_seq[_T].copy(),
    }
    _cache: dict[str, Any] = {
        "cell": CELL,
        "module": _CACHE_TOKEN,
        "xs": _xs,
        "params": {"p_f": params["p_f"].copy(), "p_i": params["p_i"].copy(), "p_o": params["p_o"].copy()},
        "_W_stack0": _W_stack0,
        "_W_stack1": _W_stack1,
        "h_seq": h_seq,
        "C_seq": C_seq,
        "i_seq": i_seq,
        "f_seq": f_seq,
        "o_seq": o_seq,
        "C_tilde_seq": C_tilde_seq,
        "tanh_C_seq": tanh_C_seq,
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
    _d_C_carry = _final["C"].copy()
    _d_i_carry = _final["i"].copy()
    _d_f_carry = _final["f"].copy()
    _d_o_carry = _final["o"].copy()
    h_seq = cache["h_seq"]
    C_seq = cache["C_seq"]
    i_seq = cache["i_seq"]
    f_seq = cache["f_seq"]
    o_seq = cache["o_seq"]
    C_tilde_seq = cache["C_tilde_seq"]
    tanh_C_seq = cache["tanh_C_seq"]
    _W_stack0 = cache["_W_stack0"]
    _da_stack0_chunk = np.empty((min(_T, _steps), _B, 3 * _H), _dtype)
    _dW_stack0 = np.zeros_like(_W_stack0)
    _db_stack0 = np.zeros(3 * _H, _dtype)
    _W_stack0__h_prev = _W_stack0[:, 0:_H]
    _W_stack0__i_prev = _W_stack0[:, _H + _D:2 * _H + _D]
    _W_stack0__f_prev = _W_stack0[:, 2 * _H + _D:3 * _H + _D]
    _W_stack0__o_prev = _W_stack0[:, 3 * _H + _D:4 * _H + _D]
    _W_stack1 = cache["_W_stack1"]
    _da_stack1_chunk = np.empty((min(_T, _steps), _B, _H), _dtype)
    _dW_stack1 = np.zeros_like(_W_stack1)
    _db_stack1 = np.zeros(_H, _dtype)
    _W_stack1__h_prev = _W_stack1[:, 0:_H]
    p_f = cache["params"]["p_f"]
    _d_p_f_sum = np.zeros(_H, _dtype)
    p_i = cache["params"]["p_i"]
    _d_p_i_sum = np.zeros(_H, _dtype)
    p_o = cache["params"]["p_o"]
    _d_p_o_sum = np.zeros(_H, _dtype)
    # Forward-only factors of the adjoints, computed a block of steps at a time.
    _factor_steps = max(1, min(_steps, _FACTOR_STEPS, _FACTOR_BYTES // (_B * 6 * _H * _dtype.itemsize)))
    _factors = np.empty((min(_T, _factor_steps), _B, 6, _H), _dtype)
    # Step buffers, reused at every step: the loop allocates nothing.
    d_h_in = np.empty((_B, _H), _dtype)
    d_o = np.empty((_B, _H), _dtype)
    d_C = np.empty((_B, _H), _dtype)
    d_i = np.empty((_B, _H), _dtype)
    d_f = np.empty((_B, _H), _dtype)
    d_h_prev__stack1 = np.empty((_B, _H), _dtype)
    d_h_prev__stack0 = np.empty((_B, _H), _dtype)
    _work0 = np.empty((_B, _H), _dtype)
    for _t in range(_T - 1, -1, -1):
        _chunk_step = _t % _steps
        _factor_step = _t % _factor_steps
        if _t == _T - 1 or _factor_step == _factor_steps - 1:
            # Steps t0 … t: every forward-only factor of their adjoints, for all at once.
            _t0 = _t - _factor_step
            f = f_seq[_t0 + 1:_t + 2]
            i = i_seq[_t0 + 1:_t + 2]
            o = o_seq[_t0 + 1:_t + 2]
            C_tilde = C_tilde_seq[_t0:_t + 1]
            tanh_C = tanh_C_seq[_t0:_t + 1]
            _block = _factors[: _t + 1 - _t0]
            fac_C__h_in = _block[:, :, 0]
            # fac_C__h_in = o*(1 - tanh_C**2)
            np.square(tanh_C, out=fac_C__h_in)
            np.subtract(1, fac_C__h_in, out=fac_C__h_in)
            fac_C__h_in *= o
            fac_C__o = _block[:, :, 1]
            # fac_C__o = o*p_o*(1 - o)
            np.subtract(1, o, out=fac_C__o)
            fac_C__o *= o
            fac_C__o *= p_o
            fac_a_C__C = _block[:, :, 2]
            # fac_a_C__C = i*(1 - C_tilde**2)
            np.square(C_tilde, out=fac_a_C__C)
            np.subtract(1, fac_a_C__C, out=fac_a_C__C)
            fac_a_C__C *= i
            fac_a_f__f = _block[:, :, 3]
            # fac_a_f__f = f*(1 - f)
            np.subtract(1, f, out=fac_a_f__f)
            fac_a_f__f *= f
            fac_a_i__i = _block[:, :, 4]
            # fac_a_i__i = i*(1 - i)
            np.subtract(1, i, out=fac_a_i__i)
            fac_a_i__i *= i
            fac_a_o__o = _block[:, :, 5]
            # fac_a_o__o = o*(1 - o)
            np.subtract(1, o, out=fac_a_o__o)
            fac_a_o__o *= o
        _factors_t = _factors[_factor_step]
        fac_C__h_in = _factors_t[:, 0]
        fac_C__o = _factors_t[:, 1]
        fac_a_C__C = _factors_t[:, 2]
        fac_a_f__f = _factors_t[:, 3]
        fac_a_i__i = _factors_t[:, 4]
        fac_a_o__o = _factors_t[:, 5]
        C_prev = C_seq[_t]
        f = f_seq[_t + 1]
        C_tilde = C_tilde_seq[_t]
        tanh_C = tanh_C_seq[_t]
        np.add(dhs[_t], _d_h_carry, out=d_h_in)
        d_C_in = _d_C_carry
        d_i_in = _d_i_carry
        d_f_in = _d_f_carry
        d_o_in = _d_o_carry
        # d_o = d_h_in*tanh_C + d_o_in
        np.multiply(d_h_in, tanh_C, out=d_o)
        d_o += d_o_in
        # d_C = d_C_in + d_h_in*fac_C__h_in + d_o*fac_C__o
        np.multiply(d_h_in, fac_C__h_in, out=d_C)
        d_C += d_C_in
        np.multiply(d_o, fac_C__o, out=_work0)
        d_C += _work0
        _da_stack1 = _da_stack1_chunk[_chunk_step]
        d_a_C = _da_stack1[:, 0:_H]
        np.multiply(d_C, fac_a_C__C, out=d_a_C)
        np.matmul(_da_stack1, _W_stack1__h_prev, out=d_h_prev__stack1)
        # d_i = C_tilde*d_C + d_i_in
        np.multiply(C_tilde, d_C, out=d_i)
        d_i += d_i_in
        # d_f = C_prev*d_C + d_f_in
        np.multiply(C_prev, d_C, out=d_f)
        d_f += d_f_in
        _da_stack0 = _da_stack0_chunk[_chunk_step]
        d_a_f = _da_stack0[:, 0:_H]
        np.multiply(d_f, fac_a_f__f, out=d_a_f)
        d_a_i = _da_stack0[:, _H:2 * _H]
        np.multiply(d_i, fac_a_i__i, out=d_a_i)
        d_a_o = _da_stack0[:, 2 * _H:3 * _H]
        np.multiply(d_o, fac_a_o__o, out=d_a_o)
        np.matmul(_da_stack0, _W_stack0__h_prev, out=d_h_prev__stack0)
        np.matmul(_da_stack0, _W_stack0__i_prev, out=_d_i_carry)
        np.matmul(_da_stack0, _W_stack0__f_prev, out=_d_f_carry)
        np.matmul(_da_stack0, _W_stack0__o_prev, out=_d_o_carry)
        np.add(d_h_prev__stack0, d_h_prev__stack1, out=_d_h_carry)
        # _d_C_carry = d_C*f + d_a_f*p_f + d_a_i*p_i
        np.multiply(d_C, f, out=_d_C_carry)
        np.multiply(d_a_f, p_f, out=_work0)
        _d_C_carry += _work0
        np.multiply(d_a_i, p_i, out=_work0)
        _d_C_carry += _work0
        if _chunk_step == 0:
            # Steps t … t_end − 1 are done: fold them into the weight gradients.
            _t_end = min(_T, _t + _steps)
            _da_stack0_flat = _da_stack0_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, 3 * _H)
            _matmul_into(_da_stack0_flat.T, h_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack0[:, 0:_H], _accumulate=_t_end < _T)
            _matmul_into(_da_stack0_flat.T, _xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _dW_stack0[:, _H:_H + _D], _accumulate=_t_end < _T)
            _matmul_into(_da_stack0_flat, _W_stack0[:, _H:_H + _D], _dxs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _accumulate=False)
            _matmul_into(_da_stack0_flat.T, i_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack0[:, _H + _D:2 * _H + _D], _accumulate=_t_end < _T)
            _matmul_into(_da_stack0_flat.T, f_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack0[:, 2 * _H + _D:3 * _H + _D], _accumulate=_t_end < _T)
            _matmul_into(_da_stack0_flat.T, o_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack0[:, 3 * _H + _D:4 * _H + _D], _accumulate=_t_end < _T)
            _db_stack0 += _da_stack0_flat.sum(axis=0)
            _da_stack1_flat = _da_stack1_chunk[: _t_end - _t].reshape((_t_end - _t) * _B, _H)
            _matmul_into(_da_stack1_flat.T, h_seq[_t:_t_end].reshape((_t_end - _t) * _B, _H), _dW_stack1[:, 0:_H], _accumulate=_t_end < _T)
            _matmul_into(_da_stack1_flat.T, _xs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _dW_stack1[:, _H:_H + _D], _accumulate=_t_end < _T)
            _matmul_into(_da_stack1_flat, _W_stack1[:, _H:_H + _D], _dxs[_t:_t_end].reshape((_t_end - _t) * _B, _D), _accumulate=True)
            _db_stack1 += _da_stack1_flat.sum(axis=0)
            _d_p_f_sum += np.einsum("tbh,tbh->h", _da_stack0_chunk[: _t_end - _t, :, 0:_H], C_seq[_t:_t_end])
            _d_p_i_sum += np.einsum("tbh,tbh->h", _da_stack0_chunk[: _t_end - _t, :, _H:2 * _H], C_seq[_t:_t_end])
            _d_p_o_sum += np.einsum("tbh,tbh->h", _da_stack0_chunk[: _t_end - _t, :, 2 * _H:3 * _H], C_seq[_t + 1:_t_end + 1])
    return {
        "W_f": _dW_stack0[0:_H],
        "b_f": _db_stack0[0:_H],
        "W_i": _dW_stack0[_H:2 * _H],
        "b_i": _db_stack0[_H:2 * _H],
        "W_C": _dW_stack1[0:_H],
        "b_C": _db_stack1[0:_H],
        "W_o": _dW_stack0[2 * _H:3 * _H],
        "b_o": _db_stack0[2 * _H:3 * _H],
        "p_f": _d_p_f_sum,
        "p_i": _d_p_i_sum,
        "p_o": _d_p_o_sum,
        "xs": _dxs,
        "h0": _d_h_carry,
        "C0": _d_C_carry,
        "i0": _d_i_carry,
        "f0": _d_f_carry,
        "o0": _d_o_carry,
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
    _first = np.asarray(_params["W_f"])
    if _first.ndim < 1 or _first.shape[0] < 1:
        raise ValueError(f"params['W_f'] must have H rows; got shape {_first.shape}")
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
                f"(H={_H} from params['W_f'], D={_D} from {_input_name}); got {_value.shape}"
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
