"""Map the LSTM kernel's parameters and state to and from `torch.nn.LSTM`.

The generated kernel `lstm_sym.kernels.lstm` keeps one weight matrix per gate acting on
the concatenation ``[h_prev, x]`` (``h`` columns first) and one bias per gate::

    W_f, W_i, W_C, W_o : (H, H + D)        b_f, b_i, b_C, b_o : (H,)

`torch.nn.LSTM` (one layer, unidirectional, ``bias=True``) stacks the gates row-wise
in the order ``i, f, g, o`` (``g`` is the candidate ``C̃``) and splits input and recurrent
weights, with two biases that are always added together::

    weight_ih_l0 : (4H, D)    weight_hh_l0 : (4H, H)    bias_ih_l0, bias_hh_l0 : (4H,)

so ``W_f = [weight_hh_l0[f], weight_ih_l0[f]]`` and ``b_f = bias_ih_l0[f] + bias_hh_l0[f]``.
Sequences need no conversion: ``xs`` (T, B, D) is the layout of ``batch_first=False``.
A state ``{"h", "C"}`` of (B, H) arrays becomes torch's ``(h_0, c_0)``, each (1, B, H).

The ``gru_*`` helpers do the same for `lstm_sym.kernels.gru_torch` and
`torch.nn.GRU`, which computes (rows stacked in the order ``r, z, n``)::

    r = σ(W_ir x + b_ir + W_hr h + b_hr)        z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))   h' = (1 − z) ⊙ n + z ⊙ h

so ``W_r = [W_hr, W_ir]``, ``b_r = b_ir + b_hr`` (likewise for ``z``), while the candidate
keeps its two halves apart, because ``r`` multiplies the recurrent one, bias included:
``W_xn = W_in``, ``b_xn = b_in``, ``W_hn = W_hn``, ``b_hn = b_hn``. A GRU state ``{"h"}``
becomes torch's ``h_0`` (1, B, H).

Stacks (`lstm_sym.layers.Stack`): ``stack_params_from_torch`` and
``stack_params_to_torch`` map every layer and direction of an ``nn.LSTM`` (to the ``lstm``
kernel) or an ``nn.GRU`` (to ``gru_torch``) with any ``num_layers`` and ``bidirectional``:
torch's ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}[_reverse]``, ``bias_*_l{k}[_reverse]``
become the stack's ``"l{k}[_reverse].W_f"``, … by the per-layer rules above. A stack's state
(each (num_layers * num_directions, B, H)) has torch's ``h_0`` / ``c_0`` layout already;
``stack_state_to_torch`` / ``stack_state_from_torch`` convert the arrays.

Importing this module needs PyTorch (``pip install torch==2.13.0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

try:
    import torch
except ImportError as error:  # pragma: no cover - exercised by a test that hides torch
    raise ImportError(
        "lstm_sym.interop.torch needs PyTorch, which is not installed; "
        "install it with: pip install torch==2.13.0"
    ) from error

__all__ = [
    "GATE_ORDER",
    "GRU_GATE_ORDER",
    "gru_params_from_torch",
    "gru_params_to_torch",
    "gru_state_from_torch",
    "gru_state_to_torch",
    "params_from_torch",
    "params_to_torch",
    "stack_params_from_torch",
    "stack_params_to_torch",
    "stack_state_from_torch",
    "stack_state_to_torch",
    "state_from_torch",
    "state_to_torch",
]

#: Our gate suffix for each block of rows of torch's stacked weights, in torch's order
#: (``i``, ``f``, ``g``, ``o``).
GATE_ORDER = ("i", "f", "C", "o")

# The keys of lstm_sym.kernels.lstm (not imported: the interop layer must not depend on the
# generated module being importable or type-clean).
_PARAMETER_NAMES = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")
_STATE_NAMES = ("h", "C")

#: The row blocks of torch.nn.GRU's stacked weights, in torch's order (reset, update, new).
GRU_GATE_ORDER = ("r", "z", "n")
# The keys of lstm_sym.kernels.gru_torch, and the shape of each as text.
_GRU_PARAMETER_NAMES = ("W_r", "b_r", "W_z", "b_z", "W_xn", "b_xn", "W_hn", "b_hn")
_GRU_SHAPES = {
    "W_r": "(H, H + D)",
    "W_z": "(H, H + D)",
    "W_xn": "(H, D)",
    "W_hn": "(H, H)",
}
_NUMPY_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_TORCH_DTYPES: dict[torch.dtype, np.dtype[Any]] = {
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
}


def params_from_torch(module: torch.nn.LSTM) -> dict[str, np.ndarray]:
    """Read the parameters of an `torch.nn.LSTM` as the kernel's parameter dict.

    Parameters
    ----------
    module : torch.nn.LSTM
        One layer, unidirectional, ``bias=True``, no projection, float32 or float64, with
        ``input_size = D`` and ``hidden_size = H``.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``W_f b_f W_i b_i W_C b_C W_o b_o``: ``W_*`` (H, H + D) with the ``h`` columns
        first, ``b_*`` (H,) equal to ``bias_ih_l0 + bias_hh_l0`` of the gate. Fresh arrays
        (they share no memory with the module) of the module's dtype.

    Raises
    ------
    ValueError
        If ``module`` is not a single-layer, unidirectional LSTM with biases and no
        projection.
    TypeError
        If the module's parameters are neither float32 nor float64.
    """
    _check_module(module)
    return _lstm_layer_from_torch(module, "_l0")


def _lstm_layer_from_torch(module: torch.nn.LSTM, suffix: str) -> dict[str, np.ndarray]:
    """The ``lstm`` kernel's parameters of the layer whose torch names end in ``suffix``."""
    H = module.hidden_size
    w_ih = _to_numpy(_parameter(module, f"weight_ih{suffix}"))
    w_hh = _to_numpy(_parameter(module, f"weight_hh{suffix}"))
    b = _to_numpy(_parameter(module, f"bias_ih{suffix}")) + _to_numpy(
        _parameter(module, f"bias_hh{suffix}")
    )
    params: dict[str, np.ndarray] = {}
    for block, gate in enumerate(GATE_ORDER):
        rows = slice(block * H, (block + 1) * H)
        params[f"W_{gate}"] = np.concatenate((w_hh[rows], w_ih[rows]), axis=1)
        params[f"b_{gate}"] = b[rows].copy()
    return {name: params[name] for name in _PARAMETER_NAMES}


def params_to_torch(
    params: Mapping[str, np.ndarray], module: torch.nn.LSTM | None = None
) -> torch.nn.LSTM:
    """Write the kernel's parameters into an `torch.nn.LSTM`.

    The whole bias of each gate goes into ``bias_ih_l0``; ``bias_hh_l0`` is set to zero.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        Exactly the keys ``W_f b_f W_i b_i W_C b_C W_o b_o``, all float32 or all float64:
        ``W_*`` (H, H + D) acting on ``[h_prev, x]``, ``b_*`` (H,).
    module : torch.nn.LSTM, optional
        Module to load into, in place: one layer, unidirectional, ``bias=True``, no
        projection, ``input_size = D`` and ``hidden_size = H``. Values are cast to its dtype
        and device. When omitted, a new ``torch.nn.LSTM(D, H)`` on the CPU with the dtype of
        ``params`` is built (without touching torch's global random state).

    Returns
    -------
    torch.nn.LSTM
        ``module`` when given, else the new module.

    Raises
    ------
    ValueError
        If a key is missing or unexpected, a shape is wrong or the shapes disagree on D or H
        (the message names the key), or ``module`` has the wrong structure or sizes.
    TypeError
        If ``params`` is not a mapping or its arrays are not all float32 or all float64.
    """
    arrays = _check_params(params)
    H, columns = arrays["W_f"].shape
    D = columns - H
    if module is None:
        dtype = torch.float64 if arrays["W_f"].dtype == np.float64 else torch.float32
        with torch.random.fork_rng(devices=[]):
            module = torch.nn.LSTM(D, H, num_layers=1, bias=True, batch_first=False, dtype=dtype)
    else:
        _check_module(module)
        if (module.input_size, module.hidden_size) != (D, H):
            raise ValueError(
                f"module has input_size={module.input_size}, hidden_size={module.hidden_size}; "
                f"params need input_size={D}, hidden_size={H} (from params['W_f'] of shape "
                f"{arrays['W_f'].shape})"
            )
    _lstm_layer_to_torch(arrays, module, "_l0")
    return module


def _lstm_layer_to_torch(
    arrays: Mapping[str, np.ndarray], module: torch.nn.LSTM, suffix: str
) -> None:
    """Write checked ``lstm`` parameters into the layer whose torch names end in ``suffix``."""
    H = arrays["W_f"].shape[0]
    w_ih = np.concatenate([arrays[f"W_{gate}"][:, H:] for gate in GATE_ORDER], axis=0)
    w_hh = np.concatenate([arrays[f"W_{gate}"][:, :H] for gate in GATE_ORDER], axis=0)
    b = np.concatenate([arrays[f"b_{gate}"] for gate in GATE_ORDER])
    with torch.no_grad():
        _parameter(module, f"weight_ih{suffix}").copy_(torch.tensor(w_ih))
        _parameter(module, f"weight_hh{suffix}").copy_(torch.tensor(w_hh))
        _parameter(module, f"bias_ih{suffix}").copy_(torch.tensor(b))
        _parameter(module, f"bias_hh{suffix}").zero_()


def state_to_torch(state: Mapping[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a kernel state into the ``(h_0, c_0)`` that `torch.nn.LSTM` takes.

    Parameters
    ----------
    state : mapping of str to numpy.ndarray
        Exactly the keys ``"h"`` and ``"C"``, each (B, H), both float32 or both float64.

    Returns
    -------
    h_0, c_0 : torch.Tensor
        Each (1, B, H) (one layer), same dtype, on the CPU; copies of the arrays.

    Raises
    ------
    ValueError
        On a missing or unexpected key, or a shape that is not (B, H) or differs between
        ``"h"`` and ``"C"``.
    TypeError
        If ``state`` is not a mapping, or on a dtype other than float32/float64 or dtypes that
        differ between ``"h"`` and ``"C"``.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict with keys ['h', 'C']; got {type(state).__name__}")
    keys = sorted(str(key) for key in state)
    if keys != sorted(_STATE_NAMES):
        raise ValueError(f"state must have exactly the keys ['h', 'C']; got {keys}")
    h = _check_array("state['h']", state["h"], 2, "(B, H)")
    c = _check_array("state['C']", state["C"], 2, "(B, H)")
    if c.shape != h.shape:
        raise ValueError(
            f"state['C'] must have the shape of state['h'], {h.shape}; got shape {c.shape}"
        )
    if c.dtype != h.dtype:
        raise TypeError(f"state['C'] must have the dtype of state['h'], {h.dtype}; got {c.dtype}")
    return torch.tensor(h).unsqueeze(0), torch.tensor(c).unsqueeze(0)


def state_from_torch(h_n: torch.Tensor, c_n: torch.Tensor) -> dict[str, np.ndarray]:
    """Turn the ``(h_n, c_n)`` of a one-layer `torch.nn.LSTM` into a kernel state.

    Parameters
    ----------
    h_n, c_n : torch.Tensor
        Each (1, B, H), float32 or float64 (the same for both); any device, any
        ``requires_grad``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``{"h": h_n[0], "C": c_n[0]}``, each (B, H), as fresh NumPy arrays.

    Raises
    ------
    ValueError
        If ``h_n`` or ``c_n`` is not (1, B, H) (the message names the argument), or their
        shapes differ.
    TypeError
        If an argument is not a tensor, or on a dtype other than float32/float64 or dtypes
        that differ.
    """
    arrays: dict[str, np.ndarray] = {}
    for name, key, value in (("h_n", "h", h_n), ("c_n", "C", c_n)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
        if value.dim() != 3 or value.shape[0] != 1:
            raise ValueError(
                f"{name} must have shape (1, B, H) (one layer, one direction); "
                f"got shape {tuple(value.shape)}"
            )
        arrays[key] = _check_array(name, _to_numpy(value)[0], 2, "(B, H)")
    if arrays["C"].shape != arrays["h"].shape:
        raise ValueError(
            f"c_n must have the shape of h_n, {tuple(h_n.shape)}; got shape {tuple(c_n.shape)}"
        )
    if arrays["C"].dtype != arrays["h"].dtype:
        raise TypeError(f"c_n must have the dtype of h_n, {h_n.dtype}; got {c_n.dtype}")
    return arrays


def gru_params_from_torch(module: torch.nn.GRU) -> dict[str, np.ndarray]:
    """Read the parameters of a `torch.nn.GRU` as the ``gru_torch`` kernel's dict.

    Parameters
    ----------
    module : torch.nn.GRU
        One layer, unidirectional, ``bias=True``, float32 or float64, with
        ``input_size = D`` and ``hidden_size = H``.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``W_r b_r W_z b_z W_xn b_xn W_hn b_hn``: ``W_r``, ``W_z`` (H, H + D) with the
        ``h`` columns first and ``b_r``, ``b_z`` the sums ``b_i* + b_h*``; ``W_xn`` (H, D),
        ``b_xn`` = ``b_in``, ``W_hn`` (H, H), ``b_hn`` (H,). Fresh arrays of the module's
        dtype.

    Raises
    ------
    ValueError
        If ``module`` is not a single-layer, unidirectional GRU with biases.
    TypeError
        If the module's parameters are neither float32 nor float64.
    """
    _check_gru_module(module)
    return _gru_layer_from_torch(module, "_l0")


def _gru_layer_from_torch(module: torch.nn.GRU, suffix: str) -> dict[str, np.ndarray]:
    """The ``gru_torch`` kernel's parameters of the layer whose torch names end in ``suffix``."""
    H = module.hidden_size
    w_ih = _to_numpy(_parameter(module, f"weight_ih{suffix}"))
    w_hh = _to_numpy(_parameter(module, f"weight_hh{suffix}"))
    b_ih = _to_numpy(_parameter(module, f"bias_ih{suffix}"))
    b_hh = _to_numpy(_parameter(module, f"bias_hh{suffix}"))
    r, z, n = (slice(block * H, (block + 1) * H) for block in range(3))
    params = {
        "W_r": np.concatenate((w_hh[r], w_ih[r]), axis=1),
        "b_r": b_ih[r] + b_hh[r],
        "W_z": np.concatenate((w_hh[z], w_ih[z]), axis=1),
        "b_z": b_ih[z] + b_hh[z],
        "W_xn": w_ih[n].copy(),
        "b_xn": b_ih[n].copy(),
        "W_hn": w_hh[n].copy(),
        "b_hn": b_hh[n].copy(),
    }
    return {name: params[name] for name in _GRU_PARAMETER_NAMES}


def gru_params_to_torch(
    params: Mapping[str, np.ndarray], module: torch.nn.GRU | None = None
) -> torch.nn.GRU:
    """Write the ``gru_torch`` kernel's parameters into a `torch.nn.GRU`.

    The biases ``b_r`` and ``b_z`` go into ``bias_ih_l0`` (their ``bias_hh_l0`` rows are set
    to zero); ``b_xn`` into ``bias_ih_l0`` and ``b_hn`` into ``bias_hh_l0`` of the ``n`` rows.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        Exactly the keys ``W_r b_r W_z b_z W_xn b_xn W_hn b_hn``, all float32 or all float64,
        shaped as `gru_params_from_torch` returns them.
    module : torch.nn.GRU, optional
        Module to load into, in place: one layer, unidirectional, ``bias=True``,
        ``input_size = D`` and ``hidden_size = H``. When omitted, a new
        ``torch.nn.GRU(D, H)`` on the CPU with the dtype of ``params`` is built (without
        touching torch's global random state).

    Returns
    -------
    torch.nn.GRU
        ``module`` when given, else the new module.

    Raises
    ------
    ValueError
        If a key is missing or unexpected, a shape is wrong or the shapes disagree on D or H
        (the message names the key), or ``module`` has the wrong structure or sizes.
    TypeError
        If ``params`` is not a mapping or its arrays are not all float32 or all float64.
    """
    arrays = _check_gru_params(params)
    H, D = arrays["W_xn"].shape
    if module is None:
        dtype = torch.float64 if arrays["W_r"].dtype == np.float64 else torch.float32
        with torch.random.fork_rng(devices=[]):
            module = torch.nn.GRU(D, H, num_layers=1, bias=True, batch_first=False, dtype=dtype)
    else:
        _check_gru_module(module)
        if (module.input_size, module.hidden_size) != (D, H):
            raise ValueError(
                f"module has input_size={module.input_size}, hidden_size={module.hidden_size}; "
                f"params need input_size={D}, hidden_size={H} (from params['W_xn'] of shape "
                f"{arrays['W_xn'].shape})"
            )
    _gru_layer_to_torch(arrays, module, "_l0")
    return module


def _gru_layer_to_torch(
    arrays: Mapping[str, np.ndarray], module: torch.nn.GRU, suffix: str
) -> None:
    """Write checked ``gru_torch`` parameters into the layer whose names end in ``suffix``."""
    H = arrays["W_xn"].shape[0]
    w_ih = np.concatenate((arrays["W_r"][:, H:], arrays["W_z"][:, H:], arrays["W_xn"]), axis=0)
    w_hh = np.concatenate((arrays["W_r"][:, :H], arrays["W_z"][:, :H], arrays["W_hn"]), axis=0)
    b_ih = np.concatenate((arrays["b_r"], arrays["b_z"], arrays["b_xn"]))
    b_hh = np.concatenate((np.zeros(2 * H, arrays["b_hn"].dtype), arrays["b_hn"]))
    with torch.no_grad():
        _parameter(module, f"weight_ih{suffix}").copy_(torch.tensor(w_ih))
        _parameter(module, f"weight_hh{suffix}").copy_(torch.tensor(w_hh))
        _parameter(module, f"bias_ih{suffix}").copy_(torch.tensor(b_ih))
        _parameter(module, f"bias_hh{suffix}").copy_(torch.tensor(b_hh))


def gru_state_to_torch(state: Mapping[str, np.ndarray]) -> torch.Tensor:
    """Turn a ``gru_torch`` kernel state ``{"h": (B, H)}`` into torch's ``h_0`` (1, B, H).

    Raises
    ------
    ValueError
        On a missing or unexpected key or a shape that is not (B, H).
    TypeError
        If ``state`` is not a mapping or ``state["h"]`` is not a float32/float64 array.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict with keys ['h']; got {type(state).__name__}")
    keys = sorted(str(key) for key in state)
    if keys != ["h"]:
        raise ValueError(f"state must have exactly the keys ['h']; got {keys}")
    h = _check_array("state['h']", state["h"], 2, "(B, H)")
    return torch.tensor(h).unsqueeze(0)


def gru_state_from_torch(h_n: torch.Tensor) -> dict[str, np.ndarray]:
    """Turn the ``h_n`` (1, B, H) of a one-layer `torch.nn.GRU` into ``{"h": (B, H)}``.

    Raises
    ------
    ValueError
        If ``h_n`` is not (1, B, H).
    TypeError
        If ``h_n`` is not a float32/float64 tensor.
    """
    if not isinstance(h_n, torch.Tensor):
        raise TypeError(f"h_n must be a torch.Tensor; got {type(h_n).__name__}")
    if h_n.dim() != 3 or h_n.shape[0] != 1:
        raise ValueError(
            "h_n must have shape (1, B, H) (one layer, one direction); "
            f"got shape {tuple(h_n.shape)}"
        )
    return {"h": _check_array("h_n", _to_numpy(h_n)[0], 2, "(B, H)")}


def _check_gru_module(module: Any) -> None:
    """Raise unless ``module`` is a GRU whose parameters the ``gru_torch`` kernel can hold."""
    if not isinstance(module, torch.nn.GRU):
        raise ValueError(f"module must be a torch.nn.GRU; got {type(module).__name__}")
    problems = []
    if module.num_layers != 1:
        problems.append(f"num_layers={module.num_layers} (need 1)")
    if module.bidirectional:
        problems.append("bidirectional=True (need False)")
    if not module.bias:
        problems.append("bias=False (need True)")
    if problems:
        raise ValueError(
            "module must be a single-layer, unidirectional torch.nn.GRU with biases; it has "
            + ", ".join(problems)
            + " (stack_params_from_torch reads several layers and both directions)"
        )
    dtype = _parameter(module, "weight_ih_l0").dtype
    if dtype not in _TORCH_DTYPES:
        raise TypeError(f"module must have float32 or float64 parameters; got {dtype}")


def _check_gru_params(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check keys, shapes and dtypes of a ``gru_torch`` parameter dict."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    expected = list(_GRU_PARAMETER_NAMES)
    missing = [name for name in _GRU_PARAMETER_NAMES if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {expected}")
    extra = sorted(str(name) for name in params if name not in _GRU_PARAMETER_NAMES)
    if extra:
        raise ValueError(f"params has unexpected keys {extra}; expected keys {expected}")
    W_xn = _check_array("params['W_xn']", params["W_xn"], 2, "(H, D)")
    H, D = W_xn.shape
    shapes = {"W_r": (H, H + D), "W_z": (H, H + D), "W_xn": (H, D), "W_hn": (H, H)}
    arrays: dict[str, np.ndarray] = {}
    for name in _GRU_PARAMETER_NAMES:
        shape = shapes.get(name, (H,))
        text = _GRU_SHAPES.get(name, "(H,)")
        value = _check_array(f"params['{name}']", params[name], len(shape), text)
        if value.shape != shape:
            raise ValueError(
                f"params['{name}'] must have shape {shape} (H={H}, D={D} from params['W_xn']); "
                f"got shape {value.shape}"
            )
        if value.dtype != W_xn.dtype:
            raise TypeError(
                f"params['{name}'] must have the dtype of params['W_xn'], {W_xn.dtype}; "
                f"got {value.dtype}"
            )
        arrays[name] = value
    return arrays


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Return a fresh NumPy copy of ``tensor`` (detached, on the CPU)."""
    dtype = _TORCH_DTYPES.get(tensor.dtype)
    if dtype is None:
        raise TypeError(f"expected a float32 or float64 tensor; got dtype {tensor.dtype}")
    array: np.ndarray = tensor.detach().cpu().numpy().astype(dtype, copy=True)
    return array


def _parameter(module: torch.nn.Module, name: str) -> torch.Tensor:
    """Return the parameter ``name`` of ``module`` (typed, unlike ``module.<name>``)."""
    value = getattr(module, name)
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"module has no parameter {name!r}")
    return value


def _check_module(module: Any) -> None:
    """Raise unless ``module`` is an LSTM whose parameters the kernel can represent."""
    if not isinstance(module, torch.nn.LSTM):
        raise ValueError(f"module must be a torch.nn.LSTM; got {type(module).__name__}")
    problems = []
    if module.num_layers != 1:
        problems.append(f"num_layers={module.num_layers} (need 1)")
    if module.bidirectional:
        problems.append("bidirectional=True (need False)")
    if not module.bias:
        problems.append("bias=False (need True)")
    if module.proj_size != 0:
        problems.append(f"proj_size={module.proj_size} (need 0)")
    if problems:
        raise ValueError(
            "module must be a single-layer, unidirectional torch.nn.LSTM with biases and no "
            "projection; it has "
            + ", ".join(problems)
            + " (stack_params_from_torch reads several layers and both directions)"
        )
    dtype = _parameter(module, "weight_ih_l0").dtype
    if dtype not in _TORCH_DTYPES:
        raise TypeError(f"module must have float32 or float64 parameters; got {dtype}")


def _check_array(name: str, value: Any, ndim: int, shape_text: str) -> np.ndarray:
    """Return ``value`` as a float32/float64 array of rank ``ndim``, or raise naming ``name``."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {type(value).__name__}")
    if value.dtype not in _NUMPY_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array; got dtype {value.dtype}")
    if value.ndim != ndim or 0 in value.shape:
        raise ValueError(f"{name} must have shape {shape_text}; got shape {value.shape}")
    return value


def _check_params(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check keys, shapes and dtypes of a parameter dict; return it as a plain dict."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    expected = list(_PARAMETER_NAMES)
    missing = [name for name in _PARAMETER_NAMES if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {expected}")
    extra = sorted(str(name) for name in params if name not in _PARAMETER_NAMES)
    if extra:
        raise ValueError(f"params has unexpected keys {extra}; expected keys {expected}")
    W_f = _check_array("params['W_f']", params["W_f"], 2, "(H, H + D)")
    H, columns = W_f.shape
    if columns <= H:
        raise ValueError(
            f"params['W_f'] must have shape (H, H + D) with D >= 1; got shape {W_f.shape}"
        )
    D = columns - H
    arrays: dict[str, np.ndarray] = {}
    for name in _PARAMETER_NAMES:
        shape = (H, H + D) if name.startswith("W_") else (H,)
        text = "(H, H + D)" if name.startswith("W_") else "(H,)"
        value = _check_array(f"params['{name}']", params[name], len(shape), text)
        if value.shape != shape:
            raise ValueError(
                f"params['{name}'] must have shape {shape} (H={H}, D={D} from params['W_f']); "
                f"got shape {value.shape}"
            )
        if value.dtype != W_f.dtype:
            raise TypeError(
                f"params['{name}'] must have the dtype of params['W_f'], {W_f.dtype}; "
                f"got {value.dtype}"
            )
        arrays[name] = value
    return arrays


# ---------------------------------------------------------------------------- stacks


def _check_stack_module(module: Any) -> str:
    """Raise unless ``module`` is an LSTM / GRU a `Stack` can hold; return its cell."""
    if isinstance(module, torch.nn.LSTM):
        cell = "lstm"
        if module.proj_size != 0:
            raise ValueError(f"module must have proj_size=0; got proj_size={module.proj_size}")
    elif isinstance(module, torch.nn.GRU):
        cell = "gru_torch"
    else:
        raise ValueError(
            f"module must be a torch.nn.LSTM or torch.nn.GRU; got {type(module).__name__}"
        )
    if not module.bias:
        raise ValueError("module must have bias=True (the kernels always have biases)")
    dtype = _parameter(module, "weight_ih_l0").dtype
    if dtype not in _TORCH_DTYPES:
        raise TypeError(f"module must have float32 or float64 parameters; got {dtype}")
    return cell


def _torch_suffix(layer: int, reverse: bool) -> str:
    return f"_l{layer}_reverse" if reverse else f"_l{layer}"


def stack_params_from_torch(module: torch.nn.LSTM | torch.nn.GRU) -> dict[str, np.ndarray]:
    """Read every layer and direction of an ``nn.LSTM`` / ``nn.GRU`` as a stack's parameters.

    Parameters
    ----------
    module : torch.nn.LSTM or torch.nn.GRU
        Any ``num_layers``, either ``bidirectional``, ``bias=True``, no projection, float32 or
        float64.

    Returns
    -------
    dict of str to numpy.ndarray
        The parameters of ``Stack("lstm" or "gru_torch", module.input_size,
        module.hidden_size, module.num_layers, module.bidirectional)``: keys
        ``"l{k}.<name>"`` and, when bidirectional, ``"l{k}_reverse.<name>"``, where ``<name>``
        runs over the kernel's parameter names. Fresh arrays of the module's dtype.

    Raises
    ------
    ValueError
        If ``module`` is neither an LSTM nor a GRU, has no biases or has a projection.
    TypeError
        If its parameters are neither float32 nor float64.
    """
    from ..layers import layer_prefix

    cell = _check_stack_module(module)
    read = _lstm_layer_from_torch if cell == "lstm" else _gru_layer_from_torch
    params: dict[str, np.ndarray] = {}
    for layer in range(module.num_layers):
        for reverse in (False, True) if module.bidirectional else (False,):
            own = read(module, _torch_suffix(layer, reverse))  # type: ignore[arg-type]
            prefix = layer_prefix(layer, reverse)
            params.update({f"{prefix}.{name}": value for name, value in own.items()})
    return params


def _stack_layout(params: Mapping[str, np.ndarray]) -> tuple[str, int, bool]:
    """Cell, number of layers and directions of a stack's parameter dict, from its keys."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    if "l0.W_f" in params:
        cell, names = "lstm", _PARAMETER_NAMES
    elif "l0.W_r" in params:
        cell, names = "gru_torch", _GRU_PARAMETER_NAMES
    else:
        raise ValueError(
            "params must be the parameters of a Stack of 'lstm' (key 'l0.W_f') or "
            f"'gru_torch' (key 'l0.W_r'); got keys {sorted(map(str, params))[:6]}"
        )
    bidirectional = f"l0_reverse.{names[0]}" in params
    num_layers = 0
    while f"l{num_layers}.{names[0]}" in params:
        num_layers += 1
    expected: set[str] = set()
    for layer in range(num_layers):
        for prefix in (f"l{layer}", f"l{layer}_reverse") if bidirectional else (f"l{layer}",):
            expected.update(f"{prefix}.{name}" for name in names)
    missing = sorted(expected - set(params))
    if missing:
        raise ValueError(f"params is missing {missing[:4]} (a {cell} stack of {num_layers} layers)")
    extra = sorted(str(key) for key in params if key not in expected)
    if extra:
        raise ValueError(
            f"params has unexpected keys {extra[:4]} (a {cell} stack of {num_layers} layers, "
            f"bidirectional={bidirectional})"
        )
    return cell, num_layers, bidirectional


def stack_params_to_torch(
    params: Mapping[str, np.ndarray],
    module: torch.nn.LSTM | torch.nn.GRU | None = None,
) -> torch.nn.LSTM | torch.nn.GRU:
    """Write a stack's parameters into an ``nn.LSTM`` (cell ``lstm``) or ``nn.GRU`` (``gru_torch``).

    The cell, ``num_layers`` and ``bidirectional`` are read from the keys (``"l{k}.W_f"`` for
    an LSTM, ``"l{k}.W_r"`` for a GRU, ``"l{k}_reverse.*"`` when bidirectional); biases are
    placed as `params_to_torch` / `gru_params_to_torch` place them.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        The parameters of a `lstm_sym.layers.Stack`, all float32 or all float64.
    module : torch.nn.LSTM or torch.nn.GRU, optional
        Module to load into, in place; it must have the same kind, sizes, ``num_layers`` and
        ``bidirectional``. When omitted a new one on the CPU with the dtype of ``params`` is
        built (without touching torch's global random state).

    Returns
    -------
    torch.nn.LSTM or torch.nn.GRU
        ``module`` when given, else the new module.

    Raises
    ------
    ValueError
        On a missing or unexpected key, a wrong shape (the message names the key), or a
        ``module`` of another kind or size.
    TypeError
        If ``params`` is not a mapping or its arrays are not all float32 or all float64.
    """
    cell, num_layers, bidirectional = _stack_layout(params)
    check = _check_params if cell == "lstm" else _check_gru_params
    layers: list[tuple[str, dict[str, np.ndarray]]] = []
    dtype = None
    for layer in range(num_layers):
        for reverse in (False, True) if bidirectional else (False,):
            prefix = f"l{layer}_reverse" if reverse else f"l{layer}"
            own = {
                key.split(".", 1)[1]: value
                for key, value in params.items()
                if key.split(".", 1)[0] == prefix
            }
            try:
                arrays = check(own)
            except (ValueError, TypeError) as error:
                raise type(error)(
                    f"layer {prefix!r}: {error}".replace("params['", f"params['{prefix}.")
                ) from None
            if dtype is None:
                dtype = arrays[next(iter(arrays))].dtype
            elif arrays[next(iter(arrays))].dtype != dtype:
                raise TypeError(
                    f"params of layer {prefix!r} must have dtype {dtype} like layer 'l0'"
                )
            layers.append((_torch_suffix(layer, reverse), arrays))
    first = layers[0][1]
    if cell == "lstm":
        H, columns = first["W_f"].shape
        D = columns - H
    else:
        H, D = first["W_xn"].shape
    directions = 2 if bidirectional else 1
    for suffix, arrays in layers[directions:]:
        width = arrays["W_f"].shape[1] - H if cell == "lstm" else arrays["W_xn"].shape[1]
        if width != directions * H:
            raise ValueError(
                f"layer {suffix[1:]!r} must read num_directions * H = {directions * H} inputs "
                f"(the outputs of the layer below); its weights read {width}"
            )
    kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    if module is None:
        torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
        with torch.random.fork_rng(devices=[]):
            module = kind(
                D,
                H,
                num_layers=num_layers,
                bias=True,
                bidirectional=bidirectional,
                dtype=torch_dtype,
            )
    else:
        if type(module) is not kind:
            raise ValueError(
                f"module must be a {kind.__name__} for {cell} parameters; "
                f"got {type(module).__name__}"
            )
        _check_stack_module(module)
        have = (module.input_size, module.hidden_size, module.num_layers, module.bidirectional)
        need = (D, H, num_layers, bidirectional)
        if have != need:
            raise ValueError(
                "module has (input_size, hidden_size, num_layers, bidirectional) = "
                f"{have}; params need {need}"
            )
    write = _lstm_layer_to_torch if cell == "lstm" else _gru_layer_to_torch
    for suffix, arrays in layers:
        write(arrays, module, suffix)  # type: ignore[arg-type]
    return module


def stack_state_to_torch(
    state: Mapping[str, np.ndarray],
) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
    """Turn a stack's state into torch's initial state.

    Parameters
    ----------
    state : mapping of str to numpy.ndarray
        ``{"h", "C"}`` (an ``lstm`` stack) or ``{"h"}`` (``gru_torch``), each
        (num_layers * num_directions, B, H), float32 or float64.

    Returns
    -------
    (h_0, c_0) for an LSTM state, or h_0 for a GRU state
        Tensors of the same shape and dtype (copies).

    Raises
    ------
    ValueError
        On other keys or a shape that is not 3-D or differs between the arrays.
    TypeError
        If ``state`` is not a mapping or holds non-float arrays.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict of arrays; got {type(state).__name__}")
    keys = sorted(str(key) for key in state)
    if keys not in (["C", "h"], ["h"]):
        raise ValueError(
            f"state must have the keys ['h', 'C'] (lstm) or ['h'] (gru_torch); got {keys}"
        )
    h = _check_array("state['h']", state["h"], 3, "(num_layers * num_directions, B, H)")
    if keys == ["h"]:
        return torch.tensor(h)
    c = _check_array("state['C']", state["C"], 3, "(num_layers * num_directions, B, H)")
    if c.shape != h.shape or c.dtype != h.dtype:
        raise ValueError(
            f"state['C'] must have the shape and dtype of state['h'], {h.shape} {h.dtype}; "
            f"got {c.shape} {c.dtype}"
        )
    return torch.tensor(h), torch.tensor(c)


def stack_state_from_torch(
    h_n: torch.Tensor, c_n: torch.Tensor | None = None
) -> dict[str, np.ndarray]:
    """Turn torch's final ``h_n`` (and ``c_n`` of an LSTM) into a stack's state dict.

    Parameters
    ----------
    h_n, c_n : torch.Tensor
        Each (num_layers * num_directions, B, H); ``c_n`` only for an LSTM.

    Returns
    -------
    dict of str to numpy.ndarray
        ``{"h": h_n, "C": c_n}`` or ``{"h": h_n}`` as fresh NumPy arrays.

    Raises
    ------
    ValueError
        If a tensor is not 3-D or ``c_n`` differs from ``h_n`` in shape.
    TypeError
        If an argument is not a float32/float64 tensor.
    """
    tensors = {"h": ("h_n", h_n)} if c_n is None else {"h": ("h_n", h_n), "C": ("c_n", c_n)}
    state: dict[str, np.ndarray] = {}
    for key, (name, value) in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}")
        state[key] = _check_array(name, _to_numpy(value), 3, "(num_layers * num_directions, B, H)")
    if "C" in state and state["C"].shape != state["h"].shape:
        raise ValueError(
            f"c_n must have the shape of h_n, {state['h'].shape}; got {state['C'].shape}"
        )
    return state
