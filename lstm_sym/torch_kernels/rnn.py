# Generated from lstm_sym/spec/cells/rnn.cell by `lstm-sym regenerate` — do not edit.
"""Simple recurrent network (RNN): generated PyTorch module (an autograd.Function over the sequence).

The plain recurrent network the gated cells improve on: the new hidden state is a tanh
layer of the previous hidden state and the input, with nothing that decides what to
keep.

One step, per unit (``W @ [u, v]`` acts on the concatenation of ``u`` and ``v``;
``<state>_prev`` is the state at the previous step)::

    a_h = W_h @ [h_prev, x] + b_h
    h = tanh(a_h)

Shapes: ``xs`` (T, B, D); every state (B, H); the parameters as in
:func:`parameter_shapes`. Any floating dtype and any device, following ``xs``.
The backward pass is the derived one (lstm_sym prints it from the same derivation as the
NumPy kernel), not autograd's: the forward pass saves only what it reads.
This module imports only torch.
"""

from __future__ import annotations

import torch as _torch
from torch.autograd.function import once_differentiable as _once_differentiable

__all__ = [
    "CELL",
    "OUTPUT_STATE",
    "PARAMETER_NAMES",
    "STATE_NAMES",
    "Cell",
    "SequenceFunction",
    "forward",
    "parameter_shapes",
]

#: Name of the cell this module implements.
CELL = "rnn"
#: Parameters, in spec order: the positional tensors of :class:`SequenceFunction` after ``xs``.
PARAMETER_NAMES = ("W_h", "b_h", )
#: States, in spec order: the last positional tensors of :class:`SequenceFunction`.
STATE_NAMES = ("h", )
#: The state emitted at every step.
OUTPUT_STATE = "h"
#: Rows (steps × batch) per block of the backward pass: its adjoint factors are computed,
#: and its weight gradients folded in, a block of max(1, _BLOCK_ROWS // B) steps at a time.
_BLOCK_ROWS = 1024
#: Products of at least this many multiply-adds run on oneDNN for float32 on the CPU, where
#: it is available and enabled (``torch.backends.mkldnn``; ``nn.LSTM`` uses it there too):
#: measured about twice as fast as ``torch.mm`` from about 10⁶ multiply-adds up, slower below.
_ONEDNN_MIN_MACS = 1 << 20
try:
    _ONEDNN_LINEAR = _torch.ops.mkldnn._linear_pointwise if _torch.backends.mkldnn.is_available() else None
    _ONEDNN_PACK = _torch.ops.mkldnn._reorder_linear_weight if _ONEDNN_LINEAR is not None else None
except (AttributeError, RuntimeError):  # a build without these operators
    _ONEDNN_LINEAR = _ONEDNN_PACK = None


def _onednn(x: _torch.Tensor, macs: int) -> bool:
    """Whether a product of ``macs`` multiply-adds on ``x``'s dtype and device goes to oneDNN."""
    return bool(
        _ONEDNN_LINEAR is not None
        and x.dtype == _torch.float32
        and x.is_cpu
        and macs >= _ONEDNN_MIN_MACS
        and _torch.backends.mkldnn.enabled
    )


def _weight(w, rows):  # type: ignore[no-untyped-def]
    """``w`` (N, K), packed in oneDNN's layout when :func:`_gemm` sends ``rows`` rows to oneDNN."""
    if _ONEDNN_PACK is not None and _onednn(w, rows * w.shape[0] * w.shape[1]):
        return _ONEDNN_PACK(w, rows)
    return w


def _gemm(a, w, c=None, out=None):  # type: ignore[no-untyped-def]
    """Return ``c + a @ w.T`` (no ``c`` when None), written into ``out`` when given.

    ``a`` (M, K), ``w`` (N, K) or packed by :func:`_weight` for M rows, ``c`` (M, N) or (N,).
    Large float32 products on the CPU go to oneDNN (see :data:`_ONEDNN_MIN_MACS`); the
    rest to ``torch.addmm``/``torch.mm``.
    """
    if _onednn(a, a.shape[0] * a.shape[1] * w.shape[0]):
        bias = c if c is not None and c.dim() == 1 else None
        product = _ONEDNN_LINEAR(a, w, bias, "none", [], "")  # type: ignore[misc]
        if c is not None and bias is None:
            return _torch.add(c, product, out=out) if out is not None else c + product
        return out.copy_(product) if out is not None else product
    if c is None:
        return _torch.mm(a, w.t(), out=out) if out is not None else _torch.mm(a, w.t())
    return _torch.addmm(c, a, w.t(), out=out) if out is not None else _torch.addmm(c, a, w.t())


def parameter_shapes(input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Return the shape of every parameter for input size ``D`` and hidden size ``H``."""
    _D, _H = int(input_size), int(hidden_size)
    return {
        "W_h": (_H, _H + _D),
        "b_h": (_H,),
    }


class SequenceFunction(_torch.autograd.Function):
    """The whole sequence as one autograd node: ``apply(xs, *params, *state)``.

    Returns ``(hs, *final_state)``: ``hs`` (T, B, H) and each final state (B, H), in the
    order of :data:`PARAMETER_NAMES` and :data:`STATE_NAMES`. Prefer :func:`forward`.
    """

    @staticmethod
    def forward(ctx, *_tensors):  # type: ignore[no-untyped-def, override]
        _xs = _tensors[0].contiguous()
        (W_h, b_h, ) = _tensors[1:3]
        (h_prev, ) = _tensors[3:]
        _T, _B, _D = _xs.shape
        _H = h_prev.shape[1]
        # Linear maps on [h_prev, x], stacked: one GEMM per step.
        _W0 = _torch.cat((W_h,))
        _b0 = _torch.cat((b_h,))
        # The input projection of every step at once, bias included.
        _a0_seq = _gemm(_xs.reshape(_T * _B, _D), _W0[:, _H:_H + _D].contiguous(), _b0).view(_T, _B, _H)
        _a0_steps = _a0_seq.unbind(0)
        _W0_h_prev = _weight(_W0[:, 0:_H].contiguous(), _B)
        _h_seq = _xs.new_empty((_T + 1, _B, _H))
        _h_seq[0] = h_prev
        _h_seq_out = _h_seq.unbind(0)
        for _t in range(_T):
            _a0 = _a0_steps[_t]
            _gemm(h_prev, _W0_h_prev, _a0, _a0)
            a_h = _a0
            h = _torch.tanh(a_h, out=_h_seq_out[_t + 1])
            h_prev = h
        ctx.save_for_backward(_xs, *_tensors[1:3], _h_seq, )
        return (_h_seq[1:], _h_seq[_T].clone(),)

    @staticmethod
    @_once_differentiable
    def backward(ctx, *_grads):  # type: ignore[no-untyped-def, override]
        (_xs, W_h, b_h, _h_seq, ) = ctx.saved_tensors
        _T, _B, _D = _xs.shape
        _H = _h_seq.shape[2]
        _zero = _xs.new_zeros((_B, _H))
        _dhs = _grads[0] if _grads[0] is not None else _xs.new_zeros((_T, _B, _H))
        _dhs_steps = _dhs.unbind(0)
        _steps = max(1, _BLOCK_ROWS // _B)
        # Linear maps on [h_prev, x], stacked: one GEMM per step.
        _W0 = _torch.cat((W_h,))
        _b0 = _torch.cat((b_h,))
        _dxs = _xs.new_empty((_T, _B, _D))
        _da0_chunk = _xs.new_empty((min(_T, _steps), _B, _H))
        _da0_steps = _da0_chunk.unbind(0)
        _db0 = _xs.new_zeros((_H,))
        _dW0_h_prev = _xs.new_zeros((_H, _H))
        _W0_h_prev_T = _weight(_W0[:, 0:_H].t().contiguous(), _B)
        _dW0_x = _xs.new_zeros((_D, _H))
        _W0_x_T = _W0[:, _H:_H + _D].t().contiguous()
        _fac = _xs.new_empty((min(_T, _steps), _B, 1, _H))
        _fac_steps = _fac.unbind(0)
        # Gradients arriving at the final state; the output state's also gets the last step's.
        _final_h = _grads[1] if _grads[1] is not None else _zero
        d_h_in = _final_h + _dhs_steps[_T - 1]
        for _t in range(_T - 1, -1, -1):
            _s = _t % _steps
            if _t == _T - 1 or _s == _steps - 1:
                # Steps t0 … t: every forward-only factor of their adjoints, at once.
                _t0 = _t - _s
                h = _h_seq[_t0 + 1:_t + 1 + 1]
                _fac_block = _fac[: _t + 1 - _t0]
                # fac_a_h__h_in = 1 - h**2
                _fac_block[:, :, 0].copy_(1 - _torch.square(h))
            _fac_t = _fac_steps[_s]
            _da0 = _da0_steps[_s]
            _dh_next = _dhs_steps[_t - 1] if _t else _zero
            # d_a_h = d_h_in*fac_a_h__h_in
            _torch.mul(d_h_in, _fac_t[:, 0], out=_da0[:, 0:_H])
            # d_h_prev = d_h_prev__stack0 + _dh_next
            _v_h_prev = _gemm(_da0, _W0_h_prev_T, _dh_next)
            _carry_h = _v_h_prev
            d_h_in = _carry_h
            if _s == 0:
                # Steps t … t_end − 1 are done: fold them into the weight and input gradients.
                _t_end = min(_T, _t + _steps)
                _n = (_t_end - _t) * _B
                _da0_flat = _da0_chunk[: _t_end - _t].reshape(_n, _H)
                _db0 += _da0_flat.sum(0)
                _gemm(_h_seq[_t:_t_end].reshape(_n, _H).t(), _da0_flat.t(), _dW0_h_prev, _dW0_h_prev)
                _dxs_chunk = _dxs[_t:_t_end].view(_n, _D)
                _gemm(_da0_flat, _W0_x_T, out=_dxs_chunk)
                _gemm(_xs[_t:_t_end].reshape(_n, _D).t(), _da0_flat.t(), _dW0_x, _dW0_x)
        return (
            _dxs,
            _torch.cat((_dW0_h_prev[:, 0:_H].t(), _dW0_x[:, 0:_H].t()), 1),
            _db0[0:_H],
            d_h_in,
        )


def forward(
    xs: _torch.Tensor,
    params: dict[str, _torch.Tensor],
    state: dict[str, _torch.Tensor] | None = None,
) -> tuple[_torch.Tensor, dict[str, _torch.Tensor]]:
    """Run the cell over a whole sequence, differentiably.

    Parameters
    ----------
    xs : torch.Tensor, shape (T, B, D)
        Inputs of every step (floating point; the dtype and device of everything else).
    params : dict of str to torch.Tensor
        Exactly the keys :data:`PARAMETER_NAMES`, shapes as :func:`parameter_shapes`.
    state : dict of str to torch.Tensor, optional
        Initial state, keys :data:`STATE_NAMES`, each (B, H); zeros when omitted.

    Returns
    -------
    hs : torch.Tensor, shape (T, B, H)
        The output state ``h`` after every step.
    state : dict of str to torch.Tensor
        The final state, each (B, H).

    Raises
    ------
    ValueError
        On a wrong rank or shape, or a missing or unexpected key.
    TypeError
        On a tensor that is not floating point, or dtypes or devices that differ from ``xs``.
    """
    if not isinstance(xs, _torch.Tensor) or not xs.is_floating_point():
        raise TypeError(f"xs must be a floating-point torch.Tensor; got {_describe(xs)}")
    if xs.dim() != 3 or 0 in xs.shape:
        raise ValueError(f"xs must have shape (T, B, D) with no empty axis; got {tuple(xs.shape)}")
    _T, _B, _D = xs.shape
    if not isinstance(params, dict) or sorted(params) != sorted(PARAMETER_NAMES):
        _keys = sorted(str(k) for k in params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with exactly the keys {list(PARAMETER_NAMES)}; got {_keys}")
    _H = params["W_h"].shape[0] if params["W_h"].dim() else 0
    _expected = parameter_shapes(_D, _H)
    for _name in PARAMETER_NAMES:
        _check(f"params['{_name}']", params[_name], xs, _expected[_name])
    if state is None:
        state = {_name: xs.new_zeros((_B, _H)) for _name in STATE_NAMES}
    if not isinstance(state, dict) or sorted(state) != sorted(STATE_NAMES):
        _keys = sorted(str(k) for k in state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"state must be a dict with exactly the keys {list(STATE_NAMES)}; got {_keys}")
    for _name in STATE_NAMES:
        _check(f"state['{_name}']", state[_name], xs, (_B, _H))
    _outputs = SequenceFunction.apply(
        xs, *(params[_name] for _name in PARAMETER_NAMES), *(state[_name] for _name in STATE_NAMES)
    )
    return _outputs[0], dict(zip(STATE_NAMES, _outputs[1:], strict=True))


def _describe(value: object) -> str:
    if isinstance(value, _torch.Tensor):
        return f"dtype {value.dtype}"
    return type(value).__name__


def _check(name: str, value: object, xs: _torch.Tensor, shape: tuple[int, ...]) -> None:
    if not isinstance(value, _torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
    if value.dtype != xs.dtype:
        raise TypeError(f"{name} must have dtype {xs.dtype} like xs; got {value.dtype}")
    if value.device != xs.device:
        raise TypeError(f"{name} must be on {xs.device} like xs; got {value.device}")
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {tuple(value.shape)}")


class Cell(_torch.nn.Module):
    """One layer of the cell as an ``nn.Module``, with one parameter per spec parameter.

    Parameters are drawn from U(-1/sqrt(H), 1/sqrt(H)), as torch initialises its RNNs.
    ``forward(xs, state=None)`` returns ``(hs, final_state)`` as :func:`forward`.
    """

    def __init__(self, input_size: int, hidden_size: int, *, dtype=None, device=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        for _name, _shape in parameter_shapes(self.input_size, self.hidden_size).items():
            self.register_parameter(_name, _torch.nn.Parameter(_torch.empty(_shape, dtype=dtype, device=device)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
        _bound = self.hidden_size**-0.5
        with _torch.no_grad():
            for _parameter in self.parameters():
                _parameter.uniform_(-_bound, _bound)

    def forward(self, xs: _torch.Tensor, state: dict[str, _torch.Tensor] | None = None):  # type: ignore[no-untyped-def]
        return forward(xs, {_name: getattr(self, _name) for _name in PARAMETER_NAMES}, state)

    def extra_repr(self) -> str:
        return f"cell={CELL!r}, input_size={self.input_size}, hidden_size={self.hidden_size}"
