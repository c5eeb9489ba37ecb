# Generated from lstm_sym/spec/cells/lstm_nfg.cell by `lstm-sym regenerate` — do not edit.
"""Peephole LSTM without forget gate (NFG): generated NumPy kernel (forward, backward through time, one step).

Greff et al.'s NFG variant of the peephole LSTM: the forget gate is fixed at one, so the
cell state only accumulates, as in Hochreiter and Schmidhuber's original LSTM of 1997.

One step, per unit (``W @ [u, v]`` acts on the concatenation of ``u`` and ``v``;
``<state>_prev`` is the state at the previous step)::

    a_i = W_i @ [h_prev, x] + b_i
    i = sigmoid(a_i + p_i*C_prev)
    a_C = W_C @ [h_prev, x] + b_C
    C_tilde = tanh(a_C)
    C = C_prev + i*C_tilde
    a_o = W_o @ [h_prev, x] + b_o
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
CELL = "lstm_nfg"
#: Keys of the parameter dict, in spec order.
PARAMETER_NAMES = ("W_i", "b_i", "W_C", "b_C", "W_o", "b_o", "p_i", "p_o", )
#: Keys of the state dict.
STATE_NAMES = ("h", "C", )
#: The state emitted at every step.
OUTPUT_STATE = "h"
#: Name of the input in the spec (an operand of the linear maps below).
INPUT_NAME = "x"
#: Stacked linear maps, in forward order: (operands in column order, number of members).
#: Each is one GEMM per step on its recurrent operands, plus one hoisted GEMM on the input.
LINEAR_STACKS = ((("h_prev", "x", ), 3), )

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Rows (steps × batch) per block of the hoisted input projection and of the weight-gradient
#: GEMMs: large enough for efficient matrix products, small enough to cap the extra memory.
_CHUNK_ROWS = 1024
#: Bytes of forward-only adjoint factors computed per block of steps in the backward pass
#: (at most _FACTOR_STEPS steps, and at most those of one block of _CHUNK_ROWS rows): small
#: enough to stay in cache until the block's steps read them, and to add little memory.
_FACTOR_BYTES = 1 << 18
#: Enough steps per factor block to spread the per-call cost when the batch is small.
_FACTOR_STEPS = 32


def _sigmoid(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2, elementwise, into ``out``.

    The tanh form cannot overflow for any ``a`` (no warnings at saturation) and needs no
    temporary array. Its absolute error is within one rounding of 1, so values far in the
    lower tail (below about 1e-16 in float64, 1e-8 in float32) come out as 0.
    """
    np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool) -> None:
    """``out = a @ b``, or ``out += a @ b`` when ``accumulate`` (only then with a temporary)."""
    if accumulate:
        out += np.matmul(a, b)
    else:
        np.matmul(a, b, out=out)


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
    D, H = input_size, hidden_size
    return {
        "W_i": (H, H + D),
        "b_i": (H,),
        "W_C": (H, H + D),
        "b_C": (H,),
        "W_o": (H, H + D),
        "b_o": (H,),
        "p_i": (H,),
        "p_o": (H,),
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
    D = _check_size("input_size", input_size)
    H = _check_size("hidden_size", hidden_size)
    dtype = np.dtype(dtype)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    W_stack0 = rng.uniform(-bound, bound, size=(3 * H, H + D)).astype(dtype)
    b_stack0 = rng.uniform(-bound, bound, size=(3 * H,)).astype(dtype)
    return {
        "W_i": W_stack0[0:H],
        "b_i": b_stack0[0:H],
        "W_C": W_stack0[H:2 * H],
        "b_C": b_stack0[H:2 * H],
        "W_o": W_stack0[2 * H:3 * H],
        "b_o": b_stack0[2 * H:3 * H],
        "p_i": rng.uniform(-bound, bound, size=(H,)).astype(dtype),
        "p_o": rng.uniform(-bound, bound, size=(H,)).astype(dtype),
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
    return _forward(xs, params, state, input_name="xs")


def _forward(
    xs: Any,
    params: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray] | None,
    input_name: str,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    xs = _check_array(input_name, xs, 3, "(T, B, D)")
    T, B, D = xs.shape
    dtype = xs.dtype
    H = _check_params(params, D, dtype, input_name)
    steps = max(1, _CHUNK_ROWS // B)
    initial = _check_state("state", state, B, H, dtype)
    # Linear maps on [h_prev, x], stacked: one GEMM.
    W_stack0 = np.concatenate((params["W_i"], params["W_C"], params["W_o"],), axis=0)
    b_stack0 = np.concatenate((params["b_i"], params["b_C"], params["b_o"],))
    W_stack0_x_T = W_stack0[:, H:H + D].T
    a_stack0_chunk = np.empty((min(T, steps), B, 3 * H), dtype)
    W_stack0_h_prev_T = W_stack0[:, 0:H].T
    product0 = np.empty((B, 3 * H), dtype)
    # History of every state: index t holds the state before step t.
    h_seq = np.empty((T + 1, B, H), dtype)
    h_seq[0] = initial["h"]
    C_seq = np.empty((T + 1, B, H), dtype)
    C_seq[0] = initial["C"]
    # Forward values the backward pass reads.
    i_seq = np.empty((T, B, H), dtype)
    C_tilde_seq = np.empty((T, B, H), dtype)
    o_seq = np.empty((T, B, H), dtype)
    tanh_C_seq = np.empty((T, B, H), dtype)
    p_i = params["p_i"]
    p_o = params["p_o"]
    for t in range(T):
        chunk_step = t % steps
        if chunk_step == 0:
            # Input projection of the chunk's steps at once, hoisted out of the step.
            t_end = min(T, t + steps)
            np.matmul(xs[t:t_end].reshape((t_end - t) * B, D), W_stack0_x_T, out=a_stack0_chunk[: t_end - t].reshape((t_end - t) * B, 3 * H))
            a_stack0_chunk[: t_end - t] += b_stack0
        h_prev = h_seq[t]
        C_prev = C_seq[t]
        a_stack0 = a_stack0_chunk[chunk_step]
        np.matmul(h_prev, W_stack0_h_prev_T, out=product0)
        a_stack0 += product0
        a_i = a_stack0[:, 0:H]
        a_C = a_stack0[:, H:2 * H]
        a_o = a_stack0[:, 2 * H:3 * H]
        i = i_seq[t]
        # i = _sigmoid(C_prev*p_i + a_i)
        np.multiply(C_prev, p_i, out=i)
        i += a_i
        _sigmoid(i, out=i)
        C_tilde = C_tilde_seq[t]
        np.tanh(a_C, out=C_tilde)
        C = C_seq[t + 1]
        # C = C_prev + C_tilde*i
        np.multiply(C_tilde, i, out=C)
        C += C_prev
        o = o_seq[t]
        # o = _sigmoid(C*p_o + a_o)
        np.multiply(C, p_o, out=o)
        o += a_o
        _sigmoid(o, out=o)
        tanh_C = tanh_C_seq[t]
        np.tanh(C, out=tanh_C)
        h = h_seq[t + 1]
        np.multiply(o, tanh_C, out=h)
    hs = h_seq[1:].copy()
    final = {
        "h": h_seq[T].copy(),
        "C": C_seq[T].copy(),
    }
    cache: dict[str, Any] = {
        "cell": CELL,
        "xs": xs,
        "params": {"p_i": params["p_i"], "p_o": params["p_o"]},
        "W_stack0": W_stack0,
        "h_seq": h_seq,
        "C_seq": C_seq,
        "i_seq": i_seq,
        "C_tilde_seq": C_tilde_seq,
        "o_seq": o_seq,
        "tanh_C_seq": tanh_C_seq,
    }
    return hs, final, cache


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
    xs = cache["xs"]
    T, B, D = xs.shape
    dtype = xs.dtype
    H = cache["h_seq"].shape[2]
    dhs = _check_array("dhs", dhs, 3, "(T, B, H)", dtype)
    if dhs.shape != (T, B, H):
        raise ValueError(f"dhs must have the shape of hs, (T, B, H) = {(T, B, H)}; got {dhs.shape}")
    final = _check_state("dstate", dstate, B, H, dtype)
    steps = max(1, _CHUNK_ROWS // B)
    dxs = np.empty((T, B, D), dtype)  # C order: each block of steps is one contiguous slab
    d_h_carry = final["h"].copy()
    d_C_carry = final["C"].copy()
    h_seq = cache["h_seq"]
    C_seq = cache["C_seq"]
    i_seq = cache["i_seq"]
    C_tilde_seq = cache["C_tilde_seq"]
    o_seq = cache["o_seq"]
    tanh_C_seq = cache["tanh_C_seq"]
    W_stack0 = cache["W_stack0"]
    da_stack0_chunk = np.empty((min(T, steps), B, 3 * H), dtype)
    dW_stack0 = np.zeros_like(W_stack0)
    db_stack0 = np.zeros(3 * H, dtype)
    W_stack0_h_prev = W_stack0[:, 0:H]
    p_i = cache["params"]["p_i"]
    d_p_i_sum = np.zeros(H, dtype)
    p_o = cache["params"]["p_o"]
    d_p_o_sum = np.zeros(H, dtype)
    # Forward-only factors of the adjoints, computed a block of steps at a time.
    factor_steps = max(1, min(steps, _FACTOR_STEPS, _FACTOR_BYTES // (B * 5 * H * dtype.itemsize)))
    factors = np.empty((min(T, factor_steps), B, 5, H), dtype)
    block_work0_all = np.empty((min(T, factor_steps), B, H), dtype)
    # Step buffers, reused at every step: the loop allocates nothing.
    d_h_in = np.empty((B, H), dtype)
    d_C = np.empty((B, H), dtype)
    for t in range(T - 1, -1, -1):
        chunk_step = t % steps
        factor_step = t % factor_steps
        if t == T - 1 or factor_step == factor_steps - 1:
            # Steps t0 … t: every forward-only factor of their adjoints, for all at once.
            t0 = t - factor_step
            i = i_seq[t0:t + 1]
            C_tilde = C_tilde_seq[t0:t + 1]
            o = o_seq[t0:t + 1]
            tanh_C = tanh_C_seq[t0:t + 1]
            block = factors[: t + 1 - t0]
            block_work0 = block_work0_all[: t + 1 - t0]
            fac_a_i__C = block[:, :, 0]
            # fac_a_i__C = C_tilde*i*(1 - i)
            np.subtract(1, i, out=fac_a_i__C)
            fac_a_i__C *= C_tilde
            fac_a_i__C *= i
            fac_a_C__C = block[:, :, 1]
            # fac_a_C__C = i*(1 - C_tilde**2)
            np.square(C_tilde, out=fac_a_C__C)
            np.subtract(1, fac_a_C__C, out=fac_a_C__C)
            fac_a_C__C *= i
            fac_C__h_in = block[:, :, 2]
            # fac_C__h_in = o*p_o*tanh_C*(1 - o) + o*(1 - tanh_C**2)
            np.square(tanh_C, out=fac_C__h_in)
            np.subtract(1, fac_C__h_in, out=fac_C__h_in)
            fac_C__h_in *= o
            np.subtract(1, o, out=block_work0)
            block_work0 *= o
            block_work0 *= p_o
            block_work0 *= tanh_C
            fac_C__h_in += block_work0
            fac_a_o__h_in = block[:, :, 3]
            # fac_a_o__h_in = o*tanh_C*(1 - o)
            np.subtract(1, o, out=fac_a_o__h_in)
            fac_a_o__h_in *= o
            fac_a_o__h_in *= tanh_C
            fac_C_prev__C = block[:, :, 4]
            # fac_C_prev__C = C_tilde*i*p_i*(1 - i) + 1
            np.subtract(1, i, out=fac_C_prev__C)
            fac_C_prev__C *= C_tilde
            fac_C_prev__C *= i
            fac_C_prev__C *= p_i
            fac_C_prev__C += 1
        factors_t = factors[factor_step]
        fac_C__h_in = factors_t[:, 2]
        fac_a_o__h_in = factors_t[:, 3]
        fac_C_prev__C = factors_t[:, 4]
        np.add(dhs[t], d_h_carry, out=d_h_in)
        d_C_in = d_C_carry
        # d_C = d_C_in + d_h_in*fac_C__h_in
        np.multiply(d_h_in, fac_C__h_in, out=d_C)
        d_C += d_C_in
        da_stack0 = da_stack0_chunk[chunk_step]
        # d_a_i, d_a_C = d_C * (fac_a_i__C, fac_a_C__C), at once
        np.multiply(d_C[:, None, :], factors_t[:, 0:2], out=da_stack0.reshape(B, 3, H)[:, 0:2])
        d_a_o = da_stack0[:, 2 * H:3 * H]
        np.multiply(d_h_in, fac_a_o__h_in, out=d_a_o)
        np.matmul(da_stack0, W_stack0_h_prev, out=d_h_carry)
        np.multiply(d_C, fac_C_prev__C, out=d_C_carry)
        if chunk_step == 0:
            # Steps t … t_end − 1 are done: fold them into the weight gradients.
            t_end = min(T, t + steps)
            da_stack0_flat = da_stack0_chunk[: t_end - t].reshape((t_end - t) * B, 3 * H)
            _matmul_into(da_stack0_flat.T, h_seq[t:t_end].reshape((t_end - t) * B, H), dW_stack0[:, 0:H], accumulate=t_end < T)
            _matmul_into(da_stack0_flat.T, xs[t:t_end].reshape((t_end - t) * B, D), dW_stack0[:, H:H + D], accumulate=t_end < T)
            _matmul_into(da_stack0_flat, W_stack0[:, H:H + D], dxs[t:t_end].reshape((t_end - t) * B, D), accumulate=False)
            db_stack0 += da_stack0_flat.sum(axis=0)
            d_p_i_sum += np.einsum("tbh,tbh->h", da_stack0_chunk[: t_end - t, :, 0:H], C_seq[t:t_end])
            d_p_o_sum += np.einsum("tbh,tbh->h", da_stack0_chunk[: t_end - t, :, 2 * H:3 * H], C_seq[t + 1:t_end + 1])
    return {
        "W_i": dW_stack0[0:H],
        "b_i": db_stack0[0:H],
        "W_C": dW_stack0[H:2 * H],
        "b_C": db_stack0[H:2 * H],
        "W_o": dW_stack0[2 * H:3 * H],
        "b_o": db_stack0[2 * H:3 * H],
        "p_i": d_p_i_sum,
        "p_o": d_p_o_sum,
        "xs": dxs,
        "h0": d_h_carry,
        "C0": d_C_carry,
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
    _, final, cache = _forward(x[np.newaxis], params, state, input_name="x")
    return final, cache


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
    if cache["xs"].shape[0] != 1:
        raise ValueError("cache comes from forward over several steps; pass the cache of step()")
    _, B, _ = cache["xs"].shape
    H = cache["h_seq"].shape[2]
    dhs = np.zeros((1, B, H), cache["xs"].dtype)
    grads = backward(dhs, cache, dstate)
    result = {name: grads[name] for name in PARAMETER_NAMES}
    result["x"] = grads["xs"][0]
    for name in STATE_NAMES:
        result[name + "_prev"] = grads[name + "0"]
    return result


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_array(
    name: str, value: Any, ndim: int, shape_text: str, dtype: np.dtype | None = None
) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array; got dtype {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} like the inputs; got {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(
            f"{name} must have shape {shape_text} ({ndim} dimensions); got shape {array.shape}"
        )
    if 0 in array.shape:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    return array


def _check_params(
    params: Mapping[str, np.ndarray], D: int, dtype: np.dtype, input_name: str
) -> int:
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    missing = [name for name in PARAMETER_NAMES if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {list(PARAMETER_NAMES)}")
    extra = sorted(str(name) for name in params if name not in PARAMETER_NAMES)
    if extra:
        raise ValueError(f"params has unexpected keys {extra}; expected keys {list(PARAMETER_NAMES)}")
    first = np.asarray(params["W_i"])
    if first.ndim < 1 or first.shape[0] < 1:
        raise ValueError(f"params['W_i'] must have H rows; got shape {first.shape}")
    H = int(first.shape[0])
    expected = parameter_shapes(D, H)
    for name in PARAMETER_NAMES:
        value = params[name]
        if not isinstance(value, np.ndarray):
            raise TypeError(f"params['{name}'] must be a numpy array; got {type(value).__name__}")
        if value.dtype != dtype:
            raise TypeError(f"params['{name}'] must have dtype {dtype} like {input_name}; got {value.dtype}")
        if value.shape != expected[name]:
            raise ValueError(
                f"params['{name}'] must have shape {expected[name]} "
                f"(H={H} from params['W_i'], D={D} from {input_name}); got {value.shape}"
            )
    return H


def _check_state(
    name: str, state: Mapping[str, np.ndarray] | None, B: int, H: int, dtype: np.dtype
) -> dict[str, np.ndarray]:
    if state is None:
        return {key: np.zeros((B, H), dtype) for key in STATE_NAMES}
    if not isinstance(state, Mapping):
        raise TypeError(f"{name} must be a dict with keys {list(STATE_NAMES)}; got {type(state).__name__}")
    keys = sorted(str(key) for key in state)
    if keys != sorted(STATE_NAMES):
        raise ValueError(f"{name} must have exactly the keys {list(STATE_NAMES)}; got {keys}")
    checked = {}
    for key in STATE_NAMES:
        value = _check_array(f"{name}['{key}']", state[key], 2, "(B, H)", dtype)
        if value.shape != (B, H):
            raise ValueError(
                f"{name}['{key}'] must have shape (B, H) = {(B, H)} to match the batch of the "
                f"inputs and H of params; got {value.shape}"
            )
        checked[key] = value
    return checked
