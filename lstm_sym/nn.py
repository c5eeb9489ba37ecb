"""PyTorch front end: any cell's generated torch module as a function or an ``nn.Module``.

Every cell has a generated module (``lstm_sym/torch_kernels/<cell>.py`` for the built-ins;
``lstm-sym regenerate --spec F --out D`` writes ``D/<cell>_torch.py`` for your own spec) whose
backward pass is the derived one. This module puts them to use:

* :func:`sequence_function` — ``f(xs, params, state=None) -> (hs, final_state)`` on tensors;
* :class:`Recurrent` — layers and directions as an ``nn.Module``, with the semantics of
  :class:`lstm_sym.layers.Stack` (``lengths``: zeros past each sequence's end, the reverse
  direction starts at each sequence's own last step); :meth:`Recurrent.from_torch` and
  :meth:`Recurrent.to_torch` convert from and to ``nn.LSTM`` / ``nn.GRU``.

Example::

    model = Recurrent("lstm", input_size=8, hidden_size=16, num_layers=2)
    outputs, state = model(xs)            # xs (T, B, 8) → outputs (T, B, 16)
    outputs.sum().backward()

torch is an optional dependency: ``pip install "lstm_sym[torch]"``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .kernels import load_generated_file

try:
    import torch
except ImportError as error:  # pragma: no cover - exercised by a test that hides torch
    raise ImportError(
        "lstm_sym.nn needs PyTorch, which is not installed; install the extra: "
        'pip install "lstm_sym[torch]"'
    ) from error

__all__ = ["Recurrent", "load_torch_module", "sequence_function"]

_BUILTIN_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ATTRIBUTES = ("CELL", "PARAMETER_NAMES", "STATE_NAMES", "OUTPUT_STATE", "forward", "Cell")

SequenceFn = Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]


def load_torch_module(cell: str | Path | ModuleType) -> ModuleType:
    """Return the generated torch module of a built-in cell name, a file path, or a module.

    Raises
    ------
    KeyError
        If ``cell`` names no built-in cell (the message lists them).
    FileNotFoundError
        If ``cell`` is a path that does not exist.
    ValueError
        If the file at a path is not one ``lstm-sym regenerate`` wrote (checked before it
        runs), or lacks the torch module's API.
    TypeError
        If a module is passed that is not a generated lstm_sym torch module.
    """
    if isinstance(cell, ModuleType):
        module = cell
    elif isinstance(cell, str) and _BUILTIN_NAME.fullmatch(cell):
        if importlib.util.find_spec(f"{__package__}.torch_kernels.{cell}") is None:
            known = sorted(
                p.stem
                for p in Path(__file__).with_name("torch_kernels").glob("*.py")
                if p.stem != "__init__"
            )
            raise KeyError(f"no built-in cell {cell!r}; known: {', '.join(known)}")
        module = importlib.import_module(f"{__package__}.torch_kernels.{cell}")
    elif isinstance(cell, (str, Path)):
        # Checks the generated header before running anything, as load_kernel does.
        return load_generated_file(Path(cell), _ATTRIBUTES, "load_torch_module")
    else:
        raise TypeError(f"cell must be a cell name, a path or a module; got {type(cell).__name__}")
    missing = [name for name in _ATTRIBUTES if not hasattr(module, name)]
    if missing:
        raise TypeError(
            f"{module.__name__!r} is not a generated lstm_sym torch module: it lacks {missing}"
        )
    return module


def sequence_function(cell: str | Path | ModuleType) -> SequenceFn:
    """Return ``f(xs, params, state=None) -> (hs, final_state)`` for one layer of ``cell``.

    Parameters
    ----------
    cell : str, pathlib.Path or module
        A built-in cell name (``"lstm"``), or the path of a generated torch module.

    Returns
    -------
    callable
        ``xs`` (T, B, D); ``params`` a dict keyed by the NumPy kernel's parameter names;
        ``state`` a dict of (B, H) tensors (zeros when omitted). Returns ``hs`` (T, B, H) and
        the final state dict. Differentiable with respect to every tensor argument.
    """
    module = load_torch_module(cell)
    function: SequenceFn = module.forward
    return function


def _prefix(layer: int, reverse: bool) -> str:
    return f"l{layer}_reverse" if reverse else f"l{layer}"


class Recurrent(torch.nn.Module):
    """Stacked, optionally bidirectional layers of one generated cell.

    Parameters
    ----------
    cell : str, pathlib.Path or module
        A built-in cell name or a generated torch module (see :func:`load_torch_module`).
    input_size, hidden_size : int
        ``D`` and ``H``.
    num_layers : int
        Layer ``l > 0`` reads the outputs of layer ``l - 1``.
    bidirectional : bool
        Each layer also runs backwards in time; outputs are ``[forward, backward]``.
    batch_first : bool
        Inputs and outputs are (B, T, ·) instead of (T, B, ·).
    dtype, device
        Of the parameters.

    Notes
    -----
    Parameters are named as in :class:`lstm_sym.layers.Stack`: ``l0.W_f``,
    ``l0_reverse.W_f``, … A state is a dict keyed by the cell's state names, each
    (num_layers * num_directions, B, H).
    """

    def __init__(
        self,
        cell: str | Path | ModuleType,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        batch_first: bool = False,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.module = load_torch_module(cell)
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.cell = str(self.module.CELL)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.batch_first = bool(batch_first)
        self.num_directions = 2 if self.bidirectional else 1
        self.state_names: tuple[str, ...] = tuple(self.module.STATE_NAMES)
        for layer in range(num_layers):
            size = input_size if layer == 0 else self.num_directions * hidden_size
            for reverse in self._reverses():
                self.add_module(
                    _prefix(layer, reverse),
                    self.module.Cell(size, hidden_size, dtype=dtype, device=device),
                )

    def _reverses(self) -> tuple[bool, ...]:
        return (False, True) if self.bidirectional else (False,)

    def extra_repr(self) -> str:
        return (
            f"{self.cell!r}, input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, "
            f"batch_first={self.batch_first}"
        )

    def forward(
        self,
        input: torch.Tensor,
        state: dict[str, torch.Tensor] | None = None,
        lengths: torch.Tensor | Sequence[int] | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run every layer and direction.

        Parameters
        ----------
        input : torch.Tensor, shape (T, B, D) (or (B, T, D) when ``batch_first``)
        state : dict of str to torch.Tensor, optional
            Initial state, each (num_layers * num_directions, B, H); zeros when omitted.
        lengths : sequence of int or tensor, shape (B,), optional
            Valid steps of each sequence, each in 1 … T.

        Returns
        -------
        output : torch.Tensor, shape (T, B, num_directions * H) (or batch first)
            Zero past each sequence's end.
        state : dict of str to torch.Tensor
            Final state of each layer and direction, taken at each sequence's own last step.
        """
        if not isinstance(input, torch.Tensor) or input.dim() != 3:
            raise ValueError(
                "input must be a 3-dimensional torch.Tensor (T, B, D), "
                "or (B, T, D) when batch_first"
            )
        xs = input.transpose(0, 1) if self.batch_first else input
        T, B, _ = xs.shape
        H = self.hidden_size
        rows = self.num_layers * self.num_directions
        if state is not None:
            if not isinstance(state, dict) or sorted(state) != sorted(self.state_names):
                raise ValueError(
                    f"state must be a dict with exactly the keys {list(self.state_names)}"
                )
            for name, value in state.items():
                if tuple(value.shape) != (rows, B, H):
                    raise ValueError(
                        f"state['{name}'] must have shape {(rows, B, H)}; got {tuple(value.shape)}"
                    )
        lengths_list = _check_lengths(lengths, T, B)
        reverse_index = None
        if lengths_list is not None and self.bidirectional:
            steps = torch.arange(T, device=xs.device)[:, None]
            ends = torch.tensor(lengths_list, device=xs.device)[None, :]
            reverse_index = torch.where(steps < ends, ends - 1 - steps, steps)
        finals: dict[str, list[torch.Tensor]] = {name: [] for name in self.state_names}
        layer_input = xs
        for layer in range(self.num_layers):
            outputs = []
            for direction, reverse in enumerate(self._reverses()):
                row = layer * self.num_directions + direction
                cell = getattr(self, _prefix(layer, reverse))
                params = {name: getattr(cell, name) for name in self.module.PARAMETER_NAMES}
                state0 = None if state is None else {k: v[row] for k, v in state.items()}
                sequence = _reversed(layer_input, reverse_index) if reverse else layer_input
                hs, final = _run_direction(
                    self.module.forward, self.state_names, sequence, params, state0, lengths_list, H
                )
                outputs.append(_reversed(hs, reverse_index) if reverse else hs)
                for name in self.state_names:
                    finals[name].append(final[name])
            layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        return output, {name: torch.stack(values) for name, values in finals.items()}

    @classmethod
    def from_torch(cls, module: torch.nn.LSTM | torch.nn.GRU) -> Recurrent:
        """Build one from an ``nn.LSTM`` (cell ``lstm``) or ``nn.GRU`` (``gru_torch``), weights too.

        Any ``num_layers`` and ``bidirectional``; ``batch_first`` is kept.
        """
        from .interop.torch import stack_params_from_torch

        params = stack_params_from_torch(module)
        cell = "lstm" if isinstance(module, torch.nn.LSTM) else "gru_torch"
        first = next(module.parameters())
        result = cls(
            cell,
            module.input_size,
            module.hidden_size,
            module.num_layers,
            module.bidirectional,
            module.batch_first,
            dtype=first.dtype,
            device=first.device,
        )
        with torch.no_grad():
            for key, value in result.named_parameters():
                value.copy_(torch.from_numpy(params[key]))
        return result

    def to_torch(self) -> torch.nn.LSTM | torch.nn.GRU:
        """An ``nn.LSTM`` (cell ``lstm``) or ``nn.GRU`` (cell ``gru_torch``) with these weights.

        Raises
        ------
        ValueError
            For any other cell, which torch has no module for.
        """
        if self.cell not in ("lstm", "gru_torch"):
            raise ValueError(
                f"to_torch converts the cells 'lstm' and 'gru_torch' only; this is {self.cell!r}"
            )
        from .interop.torch import stack_params_to_torch

        params = {key: value.detach().cpu().numpy() for key, value in self.named_parameters()}
        module = stack_params_to_torch(params)
        module.batch_first = self.batch_first
        first = next(self.parameters())
        return module.to(device=first.device)


def _check_lengths(lengths: Any, T: int, B: int) -> list[int] | None:
    if lengths is None:
        return None
    values = lengths.tolist() if isinstance(lengths, torch.Tensor) else list(lengths)
    if len(values) != B or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"lengths must be {B} integers (one per sequence); got {values!r}")
    if any(v < 1 or v > T for v in values):
        raise ValueError(f"lengths must each be in 1 … {T}; got {values!r}")
    return values


def _reversed(values: torch.Tensor, reverse_index: torch.Tensor | None) -> torch.Tensor:
    """Reverse (T, B, F) in time: whole sequences, or each within its length."""
    if reverse_index is None:
        return values.flip(0)
    return values.gather(0, reverse_index[:, :, None].expand_as(values))


def _run_direction(
    forward: SequenceFn,
    state_names: tuple[str, ...],
    xs: torch.Tensor,
    params: dict[str, torch.Tensor],
    state0: dict[str, torch.Tensor] | None,
    lengths: list[int] | None,
    H: int,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One direction of one layer, cut where sequences end (as :class:`lstm_sym.layers.Stack`)."""
    T, B, _ = xs.shape
    if lengths is None or all(v == T for v in lengths):
        return forward(xs, params, state0)
    carry = (
        dict(state0) if state0 is not None else {name: xs.new_zeros((B, H)) for name in state_names}
    )
    pieces = []
    start = 0
    for stop in sorted(set(lengths)):
        rows = [b for b in range(B) if lengths[b] >= stop]
        if len(rows) == B:
            hs, final = forward(xs[start:stop], params, carry)
            carry = final
            pieces.append(hs)
        else:
            index = torch.tensor(rows, device=xs.device)
            hs, final = forward(
                xs[start:stop].index_select(1, index),
                params,
                {k: v[index] for k, v in carry.items()},
            )
            pieces.append(xs.new_zeros((stop - start, B, H)).index_copy(1, index, hs))
            carry = {k: carry[k].index_copy(0, index, final[k]) for k in carry}
        start = stop
    return torch.cat(pieces), carry
