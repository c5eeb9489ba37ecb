"""Stacked and bidirectional recurrent layers composed from any generated kernel.

A `Stack` runs ``num_layers`` layers of one cell, each optionally in both directions,
the way `torch.nn.LSTM` does: layer ``l`` reads the outputs of layer ``l - 1``, and a
bidirectional layer's outputs are ``[forward, backward]`` concatenated along the feature axis.
It is composition only: every layer and direction is the kernel's own generated ``forward`` /
``backward``; the stack adds no generated code and reads nothing inside a kernel's cache.

Conventions (those of the kernels):

* inputs ``xs`` (T, B, D), outputs (T, B, num_directions * H); float32 or float64, following
  ``xs``;
* parameters are one flat dict: the kernel's own names prefixed by the layer, as torch names
  its weights — ``"l0.W_f"``, ``"l0_reverse.W_f"``, ``"l1.W_f"``, … (see `layer_prefix`);
* a state is a dict keyed by the kernel's ``STATE_NAMES``, each (num_layers * num_directions,
  B, H), row ``layer * num_directions + direction`` as torch's ``h_n`` / ``c_n``;
* `Stack.backward` returns two dicts: the parameter gradients, with exactly the keys of
  the parameters (so ``for k in grads: params[k] -= lr * grads[k]`` works), and the input
  gradients ``"xs"`` and ``"<state>0"`` for each state.

Variable lengths: pass ``lengths`` (B,) to `Stack.forward`. Sequence ``b`` then uses
steps ``0 … lengths[b] - 1`` only, as with `torch.nn.utils.rnn.pack_padded_sequence`:
its outputs past the end are zero, its final state is the state after its own last step, the
reverse direction starts at its own last step, and nothing past the end gets a gradient. The
time axis is cut where sequences end; each piece runs the kernel on the sequences still going.

Example::

    stack = Stack("lstm", input_size=8, hidden_size=16, num_layers=2, bidirectional=True)
    params = stack.init_params(seed=0)
    outputs, state, cache = stack.forward(xs, params, lengths=lengths)   # (T, B, 32)
    grads, input_grads = stack.backward(doutputs, cache)
    for key in grads:
        params[key] -= 0.1 * grads[key]
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["Stack", "StackCache", "layer_prefix"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_BUILTIN_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KERNEL_ATTRIBUTES = (
    "CELL",
    "PARAMETER_NAMES",
    "STATE_NAMES",
    "OUTPUT_STATE",
    "forward",
    "backward",
    "init_params",
    "parameter_shapes",
)


def layer_prefix(layer: int, reverse: bool = False) -> str:
    """Return the key prefix of one layer and direction: ``"l0"``, ``"l0_reverse"``, …

    The parameter ``W_f`` of the reverse direction of layer 1 is ``"l1_reverse.W_f"``
    (torch's ``weight_ih_l1_reverse`` names the same layer).
    """
    return f"l{layer}_reverse" if reverse else f"l{layer}"


def _resolve_kernel(kernel: str | ModuleType) -> ModuleType:
    """Return the kernel module for a built-in cell name or an already loaded module."""
    if isinstance(kernel, str):
        if _BUILTIN_NAME.fullmatch(kernel) and importlib.util.find_spec(
            f"{__package__}.kernels.{kernel}"
        ):
            # A generated module of lstm_sym.kernels: import it without loading the spec
            # parser (and SymPy) that load_kernel uses to check names.
            return importlib.import_module(f"{__package__}.kernels.{kernel}")
        from .kernels import load_kernel

        return load_kernel(kernel)  # raises KeyError listing the known cells
    if not isinstance(kernel, ModuleType):
        raise TypeError(
            "kernel must be a built-in cell name (str) or a generated kernel module; "
            f"got {type(kernel).__name__}"
        )
    missing = [name for name in _KERNEL_ATTRIBUTES if not hasattr(kernel, name)]
    if missing:
        raise TypeError(
            f"kernel module {kernel.__name__!r} is not a generated lstm_sym kernel: "
            f"it lacks {missing}"
        )
    return kernel


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


@dataclass
class _Piece:
    """One kernel call of one direction: steps ``start … stop - 1`` of sequences ``rows``."""

    start: int
    stop: int
    rows: np.ndarray | None  # None: every sequence of the batch
    cache: Any


@dataclass
class _DirectionCache:
    pieces: list[_Piece]
    batch: int


@dataclass
class StackCache:
    """What `Stack.backward` needs from `Stack.forward`; treat it as opaque."""

    stack: Stack
    shape: tuple[int, int, int]
    dtype: np.dtype[Any]
    lengths: np.ndarray | None
    reverse_index: np.ndarray | None
    directions: list[list[_DirectionCache]] = field(default_factory=list)


class Stack:
    """``num_layers`` layers of one generated cell, optionally bidirectional.

    Parameters
    ----------
    kernel : str or module
        A built-in cell name (``"lstm"``, ``"gru_torch"``, …; see
        `lstm_sym.kernels.load_kernel`) or a generated kernel module, for example one
        generated from your own ``.cell`` file and imported from its path.
    input_size : int
        ``D``, the number of input features of the first layer.
    hidden_size : int
        ``H``, the number of units of every state of every layer.
    num_layers : int
        Number of stacked layers; layer ``l > 0`` reads the outputs of layer ``l - 1``
        (``num_directions * H`` features).
    bidirectional : bool
        Run every layer forwards and backwards in time and concatenate the outputs
        ``[forward, backward]``.

    Attributes
    ----------
    kernel : module
        The generated kernel every layer runs.
    num_directions : int
        2 when bidirectional, else 1.
    parameter_names : tuple of str
        Every key of the parameter dict, layer by layer, forward direction first.
    """

    def __init__(
        self,
        kernel: str | ModuleType,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
    ) -> None:
        self.kernel = _resolve_kernel(kernel)
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.num_layers = _check_size("num_layers", num_layers)
        if not isinstance(bidirectional, (bool, np.bool_)):
            raise TypeError(f"bidirectional must be True or False; got {bidirectional!r}")
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if self.bidirectional else 1
        self.state_names: tuple[str, ...] = tuple(self.kernel.STATE_NAMES)
        names: list[str] = []
        for layer in range(self.num_layers):
            for reverse in self._reverses():
                prefix = layer_prefix(layer, reverse)
                names.extend(f"{prefix}.{name}" for name in self.kernel.PARAMETER_NAMES)
        self.parameter_names: tuple[str, ...] = tuple(names)

    def __repr__(self) -> str:
        return (
            f"Stack({self.kernel.CELL!r}, input_size={self.input_size}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.bidirectional})"
        )

    @property
    def output_size(self) -> int:
        """Features of the outputs: ``num_directions * H``."""
        return self.num_directions * self.hidden_size

    def meta(self) -> dict[str, Any]:
        """The sizes that rebuild this stack: ``Stack(**stack.meta())`` (kernel as its name)."""
        return {
            "cell": str(self.kernel.CELL),
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
        }

    def _reverses(self) -> tuple[bool, ...]:
        return (False, True) if self.bidirectional else (False,)

    def _layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.output_size

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return the shape of every parameter, keyed by `parameter_names`."""
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(self.num_layers):
            own = self.kernel.parameter_shapes(self._layer_input_size(layer), self.hidden_size)
            for reverse in self._reverses():
                prefix = layer_prefix(layer, reverse)
                for name in self.kernel.PARAMETER_NAMES:
                    shapes[f"{prefix}.{name}"] = tuple(own[name])
        return shapes

    def init_params(self, *, seed: int | None = None, dtype: Any = np.float64) -> dict[str, Any]:
        """Draw every layer's parameters with the kernel's own ``init_params``.

        Parameters
        ----------
        seed : int, optional
            The same seed gives the same parameters; each layer and direction draws from
            its own stream derived from it.
        dtype : float32 or float64

        Returns
        -------
        dict of str to numpy.ndarray
            Keyed by `parameter_names`.
        """
        dtype = np.dtype(dtype)
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64; got {dtype}")
        streams = np.random.SeedSequence(seed).spawn(self.num_layers * self.num_directions)
        params: dict[str, np.ndarray] = {}
        for index, stream in enumerate(streams):
            layer, direction = divmod(index, self.num_directions)
            own = self.kernel.init_params(
                self._layer_input_size(layer),
                self.hidden_size,
                seed=int(stream.generate_state(1)[0]),
                dtype=dtype,
            )
            prefix = layer_prefix(layer, direction == 1)
            for name in self.kernel.PARAMETER_NAMES:
                params[f"{prefix}.{name}"] = own[name]
        return params

    def layer_params(
        self, params: Mapping[str, np.ndarray], layer: int, reverse: bool = False
    ) -> dict[str, np.ndarray]:
        """Return one layer's parameters under the kernel's own names (views, not copies)."""
        prefix = layer_prefix(layer, reverse)
        return {name: params[f"{prefix}.{name}"] for name in self.kernel.PARAMETER_NAMES}

    # ------------------------------------------------------------------ checks

    def _check_xs(self, xs: Any) -> np.ndarray:
        if not isinstance(xs, np.ndarray):
            raise TypeError(f"xs must be a numpy array of shape (T, B, D); got {type(xs).__name__}")
        if xs.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"xs must be a float32 or float64 array; got dtype {xs.dtype}")
        if xs.ndim != 3 or 0 in xs.shape:
            raise ValueError(f"xs must have shape (T, B, D), none of them 0; got shape {xs.shape}")
        if xs.shape[2] != self.input_size:
            raise ValueError(
                f"xs must have shape (T, B, D) with D = input_size = {self.input_size}; "
                f"got shape {xs.shape}"
            )
        return xs

    def _check_params(self, params: Any, dtype: np.dtype[Any]) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
        missing = [name for name in self.parameter_names if name not in params]
        if missing:
            raise ValueError(
                f"params is missing {missing[:4]}{' …' if len(missing) > 4 else ''}; "
                f"expected the keys of {self!r}.parameter_names"
            )
        extra = sorted(str(name) for name in params if name not in self.parameter_names)
        if extra:
            raise ValueError(
                f"params has unexpected keys {extra}; expected {self!r}.parameter_names"
            )
        for name, shape in self.parameter_shapes().items():
            _check_array(f"params[{name!r}]", params[name], dtype, shape, str(shape))

    def _check_state(
        self, argument: str, state: Any, batch: int, dtype: np.dtype[Any]
    ) -> dict[str, np.ndarray] | None:
        if state is None:
            return None
        names = list(self.state_names)
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{argument} must be a dict with keys {names}; got {type(state).__name__}"
            )
        keys = sorted(str(key) for key in state)
        if keys != sorted(names):
            raise ValueError(f"{argument} must have exactly the keys {names}; got {keys}")
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        checked = {}
        for key in names:
            value = state[key]
            expected = f"(num_layers * num_directions, B, H) = {shape}"
            _check_array(f"{argument}[{key!r}]", value, dtype, shape, expected)
            checked[key] = value
        return checked

    @staticmethod
    def _check_lengths(lengths: Any, T: int, B: int) -> np.ndarray | None:
        if lengths is None:
            return None
        array = np.asarray(lengths)
        if array.dtype.kind not in "iu":
            raise TypeError(f"lengths must be integers, shape (B,); got dtype {array.dtype}")
        if array.shape != (B,):
            raise ValueError(f"lengths must have shape (B,) = ({B},); got shape {array.shape}")
        if np.any(array < 1) or np.any(array > T):
            raise ValueError(
                f"every entry of lengths must be between 1 and T = {T}; "
                f"got min {int(array.min())}, max {int(array.max())}"
            )
        return array.astype(np.intp)

    # ------------------------------------------------------------------ forward

    def forward(
        self,
        xs: np.ndarray,
        params: Mapping[str, np.ndarray],
        state: Mapping[str, np.ndarray] | None = None,
        lengths: np.ndarray | Sequence[int] | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray], StackCache]:
        """Run the stack over a batch of sequences.

        Parameters
        ----------
        xs : numpy.ndarray, shape (T, B, D)
            Inputs, float32 or float64 (the dtype of everything else follows it).
        params : mapping of str to numpy.ndarray
            Exactly the keys `parameter_names`, same dtype as ``xs``.
        state : mapping of str to numpy.ndarray, optional
            Initial state, keys the kernel's ``STATE_NAMES``, each
            (num_layers * num_directions, B, H); zeros when omitted.
        lengths : array of int, shape (B,), optional
            Valid steps of each sequence, each in 1 … T; all T when omitted.

        Returns
        -------
        outputs : numpy.ndarray, shape (T, B, num_directions * H)
            The last layer's output state at every step, ``[forward, backward]``; zero past
            each sequence's end.
        state : dict of str to numpy.ndarray
            Final state of every layer and direction, each (num_layers * num_directions, B, H),
            taken at each sequence's own last step (for the reverse direction: after step 0).
        cache : StackCache
            What `backward` needs.

        Raises
        ------
        ValueError
            On a wrong shape, missing or unexpected key, or a length outside 1 … T.
        TypeError
            On a non-float dtype or dtypes that differ from ``xs``.
        """
        xs = self._check_xs(xs)
        T, B, _ = xs.shape
        dtype = xs.dtype
        self._check_params(params, dtype)
        initial = self._check_state("state", state, B, dtype)
        lengths_array = self._check_lengths(lengths, T, B)
        reverse_index = None
        if lengths_array is not None and self.bidirectional:
            reverse_index = _reverse_index(lengths_array, T)
        cache = StackCache(self, (T, B, self.input_size), dtype, lengths_array, reverse_index)
        H = self.hidden_size
        finals = {
            name: np.empty((self.num_layers * self.num_directions, B, H), dtype)
            for name in self.state_names
        }
        layer_input = xs
        for layer in range(self.num_layers):
            outputs = np.empty((T, B, self.num_directions * H), dtype)
            caches: list[_DirectionCache] = []
            for direction, reverse in enumerate(self._reverses()):
                row = layer * self.num_directions + direction
                state0 = None if initial is None else {k: v[row] for k, v in initial.items()}
                sequence = _reversed(layer_input, reverse_index) if reverse else layer_input
                hs, final, direction_cache = _run_direction(
                    self.kernel,
                    sequence,
                    self.layer_params(params, layer, reverse),
                    state0,
                    lengths_array,
                )
                outputs[:, :, direction * H : (direction + 1) * H] = (
                    _reversed(hs, reverse_index) if reverse else hs
                )
                for name in self.state_names:
                    finals[name][row] = final[name]
                caches.append(direction_cache)
            cache.directions.append(caches)
            layer_input = outputs
        return layer_input, finals, cache

    # ------------------------------------------------------------------ backward

    def backward(
        self,
        doutputs: np.ndarray,
        cache: StackCache,
        dstate: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Backpropagate through every layer, direction and step.

        Parameters
        ----------
        doutputs : numpy.ndarray, shape (T, B, num_directions * H)
            Gradient of the loss with respect to ``outputs`` (entries past a sequence's end
            are ignored: those outputs are constant zeros).
        cache : StackCache
            The cache returned by `forward` of this stack.
        dstate : mapping of str to numpy.ndarray, optional
            Gradient with respect to the final state, same keys and shapes as the state;
            zeros when omitted.

        Returns
        -------
        grads : dict of str to numpy.ndarray
            Gradient of every parameter: exactly the keys `parameter_names`.
        input_grads : dict of str to numpy.ndarray
            ``"xs"`` (T, B, D), zero past each sequence's end, and ``"<state>0"`` for every
            state, each (num_layers * num_directions, B, H).

        Raises
        ------
        ValueError
            If ``cache`` does not come from this stack's `forward`, or a shape differs
            from the forward pass's.
        TypeError
            On a dtype other than the forward pass's.
        """
        if not isinstance(cache, StackCache) or cache.stack is not self:
            raise ValueError("cache must be the cache returned by forward() of this Stack")
        T, B, _ = cache.shape
        dtype = cache.dtype
        H = self.hidden_size
        expected = (T, B, self.output_size)
        if not isinstance(doutputs, np.ndarray):
            raise TypeError(f"doutputs must be a numpy array; got {type(doutputs).__name__}")
        if doutputs.dtype != dtype:
            raise TypeError(f"doutputs must have dtype {dtype} like xs; got {doutputs.dtype}")
        if doutputs.shape != expected:
            raise ValueError(
                f"doutputs must have the shape of outputs, (T, B, num_directions * H) = "
                f"{expected}; got {doutputs.shape}"
            )
        final_grads = self._check_state("dstate", dstate, B, dtype)
        grads: dict[str, np.ndarray] = {}
        initial_grads = {
            f"{name}0": np.empty((self.num_layers * self.num_directions, B, H), dtype)
            for name in self.state_names
        }
        upstream = doutputs
        for layer in range(self.num_layers - 1, -1, -1):
            dinput: np.ndarray | None = None
            for direction, reverse in enumerate(self._reverses()):
                row = layer * self.num_directions + direction
                dfinal = None
                if final_grads is not None:
                    dfinal = {name: value[row] for name, value in final_grads.items()}
                dhs = upstream[:, :, direction * H : (direction + 1) * H]
                if reverse:
                    dhs = _reversed(dhs, cache.reverse_index)
                own, dxs, dstate0 = _backward_direction(
                    self.kernel, dhs, cache.directions[layer][direction], dfinal, cache.lengths
                )
                if reverse:
                    dxs = _reversed(dxs, cache.reverse_index)
                prefix = layer_prefix(layer, reverse)
                for name in self.kernel.PARAMETER_NAMES:
                    grads[f"{prefix}.{name}"] = own[name]
                for name in self.state_names:
                    initial_grads[f"{name}0"][row] = dstate0[name]
                if dinput is None:
                    dinput = np.array(dxs, copy=True) if reverse else dxs
                else:
                    dinput += dxs
            assert dinput is not None
            upstream = dinput
        ordered = {name: grads[name] for name in self.parameter_names}
        return ordered, {"xs": upstream, **initial_grads}


def _reverse_index(lengths: np.ndarray, T: int) -> np.ndarray:
    """Index (T, B) that reverses each sequence within its length and leaves padding alone."""
    steps = np.arange(T)[:, None]
    index = lengths[None, :] - 1 - steps
    return np.where(steps < lengths[None, :], index, steps)


def _reversed(array: np.ndarray, reverse_index: np.ndarray | None) -> np.ndarray:
    """Reverse (T, B, F) in time: whole sequences, or each within its length (an involution)."""
    if reverse_index is None:
        return array[::-1]
    return np.take_along_axis(array, reverse_index[:, :, None], axis=0)


def _pieces(lengths: np.ndarray | None, T: int) -> list[tuple[int, int, np.ndarray | None]]:
    """Cut steps 0 … T - 1 where sequences end: (start, stop, rows still going or None)."""
    if lengths is None or bool(np.all(lengths == T)):
        return [(0, T, None)]
    pieces: list[tuple[int, int, np.ndarray | None]] = []
    start = 0
    B = lengths.shape[0]
    for stop in np.unique(lengths):
        rows = np.flatnonzero(lengths >= stop)
        pieces.append((start, int(stop), None if rows.shape[0] == B else rows))
        start = int(stop)
    return pieces


def _run_direction(
    kernel: ModuleType,
    xs: np.ndarray,
    params: Mapping[str, np.ndarray],
    state0: Mapping[str, np.ndarray] | None,
    lengths: np.ndarray | None,
) -> tuple[np.ndarray, dict[str, np.ndarray], _DirectionCache]:
    """One direction of one layer: the kernel's forward, piece by piece when lengths differ."""
    T, B, _ = xs.shape
    pieces = _pieces(lengths, T)
    if len(pieces) == 1:
        hs, final, cache = kernel.forward(xs, params, state0)
        return hs, final, _DirectionCache([_Piece(0, T, None, cache)], B)
    # Every parameter has H rows (a weight (H, ·), a bias (H,)): read the kernel's first one.
    H = params[kernel.PARAMETER_NAMES[0]].shape[0]
    dtype = xs.dtype
    hs = np.zeros((T, B, H), dtype)
    carry = {
        name: (np.zeros((B, H), dtype) if state0 is None else np.array(state0[name], copy=True))
        for name in kernel.STATE_NAMES
    }
    record: list[_Piece] = []
    for start, stop, rows in pieces:
        if rows is None:
            piece_hs, final, cache = kernel.forward(xs[start:stop], params, carry)
            hs[start:stop] = piece_hs
            carry = {name: np.array(value, copy=True) for name, value in final.items()}
        else:
            piece_xs = np.ascontiguousarray(xs[start:stop, rows])
            piece_state = {name: value[rows] for name, value in carry.items()}
            piece_hs, final, cache = kernel.forward(piece_xs, params, piece_state)
            hs[start:stop, rows] = piece_hs
            for name, value in final.items():
                carry[name][rows] = value
        record.append(_Piece(start, stop, rows, cache))
    return hs, carry, _DirectionCache(record, B)


def _backward_direction(
    kernel: ModuleType,
    dhs: np.ndarray,
    direction: _DirectionCache,
    dfinal: Mapping[str, np.ndarray] | None,
    lengths: np.ndarray | None,
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """Backward of `_run_direction`: parameter grads, dxs, and the initial state's."""
    pieces = direction.pieces
    if len(pieces) == 1:
        grads = kernel.backward(dhs, pieces[0].cache, dfinal)
        dstate0 = {name: grads[f"{name}0"] for name in kernel.STATE_NAMES}
        return grads, grads["xs"], dstate0
    T, B, H = dhs.shape
    dtype = dhs.dtype
    carry = {
        name: (np.zeros((B, H), dtype) if dfinal is None else np.array(dfinal[name], copy=True))
        for name in kernel.STATE_NAMES
    }
    dxs: np.ndarray | None = None
    totals: dict[str, np.ndarray] = {}
    for piece in reversed(pieces):
        if piece.rows is None:
            piece_dhs = dhs[piece.start : piece.stop]
            piece_dfinal = carry
        else:
            piece_dhs = np.ascontiguousarray(dhs[piece.start : piece.stop, piece.rows])
            piece_dfinal = {name: value[piece.rows] for name, value in carry.items()}
        grads = kernel.backward(piece_dhs, piece.cache, piece_dfinal)
        piece_dxs = grads["xs"]
        if dxs is None:
            dxs = np.zeros((T, B, piece_dxs.shape[2]), dtype)
        if piece.rows is None:
            dxs[piece.start : piece.stop] = piece_dxs
            carry = {name: np.array(grads[f"{name}0"], copy=True) for name in kernel.STATE_NAMES}
        else:
            dxs[piece.start : piece.stop, piece.rows] = piece_dxs
            for name in kernel.STATE_NAMES:
                carry[name][piece.rows] = grads[f"{name}0"]
        for name in kernel.PARAMETER_NAMES:
            if name in totals:
                totals[name] += grads[name]
            else:
                totals[name] = np.array(grads[name], copy=True)
    assert dxs is not None
    return totals, dxs, carry


def _check_array(
    label: str, value: Any, dtype: np.dtype[Any], shape: tuple[int, ...], expected: str
) -> None:
    """Raise a TypeError or ValueError naming ``label`` unless ``value`` is an array of
    ``dtype`` and ``shape`` (described to the user as ``expected``)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{label} must be a numpy array; got {type(value).__name__}")
    if value.dtype != dtype:
        raise TypeError(f"{label} must have dtype {dtype} like xs; got {value.dtype}")
    if value.shape != shape:
        raise ValueError(f"{label} must have shape {expected}; got {value.shape}")
