"""Run a rendered PyTorch module for the checks, behind the NumPy kernel API.

The checks of :mod:`lstm_sym.verify.gradcheck` call ``forward``, ``backward``, ``step``,
``step_backward`` and ``init_params`` on NumPy arrays. :func:`configured_module` executes a
rendered torch module in a fresh namespace, sets its block constant ``_BLOCK_ROWS``, and
wraps it in a :class:`TorchKernel` that converts NumPy arrays to torch tensors (dtype kept:
float32 stays float32), runs the module's ``forward`` (its ``SequenceFunction``), and gets
the gradients through ``torch.autograd.grad``, that is through the generated ``backward``.

The torch backward works on blocks of ``max(1, _BLOCK_ROWS // B)`` steps;
:data:`BLOCK_SETTINGS` makes them small so that a check at T = 7, B = 2 crosses them.
While a wrapped call runs, torch's deterministic mode fills every ``torch.empty`` and
``Tensor.new_empty`` with NaN, so reading a buffer before writing it shows (as the NumPy
backend's poisoned ``np.empty`` does).

torch is imported only when a module is loaded: the package imports without it, and
:func:`torch_missing` says why the torch backend cannot be checked.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..python_module import kernel_from_source

__all__ = ["BLOCK_SETTINGS", "TorchKernel", "configured_module", "torch_missing"]

#: Block constants the checks run with, by name; the first is the finite-difference run's.
#: With B = 2 and T = 7 the first gives backward blocks of 4 steps (4 + 3, misaligned), the
#: second of 3 (3 + 3 + 1), the third one step per block; the last is what the module ships
#: with (one block). With B = 3 (a finite-difference shape, T = 5) the first gives 2 + 2 + 1.
BLOCK_SETTINGS: dict[str, dict[str, int]] = {
    "blocks of 4 steps": {"_BLOCK_ROWS": 8},
    "blocks of 3 steps": {"_BLOCK_ROWS": 6},
    "blocks of 1 step": {"_BLOCK_ROWS": 1},
    "shipped blocks": {},
}


def torch_missing() -> str | None:
    """Why the torch backend cannot be run here (torch not importable), or ``None``."""
    try:
        import torch  # noqa: F401
    except ImportError as error:
        return (
            f'PyTorch is not installed ({error}); install the extra: pip install "lstm_sym[torch]"'
        )
    return None


@contextlib.contextmanager
def _nan_filled_empty() -> Iterator[None]:
    """Within the block, new uninitialised torch tensors are filled with NaN."""
    import torch

    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory  # type: ignore[attr-defined]
    torch.use_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = fill  # type: ignore[attr-defined]
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


class TorchKernel:
    """A rendered torch module with the NumPy kernel API (:data:`lstm_sym.kernels.KERNEL_API`).

    Parameters
    ----------
    module : module
        The executed generated torch module (``SequenceFunction``, ``forward``, ...).

    Notes
    -----
    A cache holds the torch graph of one ``forward`` (or ``step``) call; ``backward`` may be
    called on it more than once.
    """

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.CELL: str = module.CELL
        self.PARAMETER_NAMES: tuple[str, ...] = tuple(module.PARAMETER_NAMES)
        self.STATE_NAMES: tuple[str, ...] = tuple(module.STATE_NAMES)
        self.OUTPUT_STATE: str = module.OUTPUT_STATE

    def parameter_shapes(self, input_size: int, hidden_size: int) -> dict[str, tuple[int, ...]]:
        """The generated module's parameter shapes for input size D and hidden size H."""
        return dict(self.module.parameter_shapes(input_size, hidden_size))

    def init_params(
        self, input_size: int, hidden_size: int, *, seed: int | None = None, dtype: Any = np.float64
    ) -> dict[str, np.ndarray]:
        """Parameters drawn from U(-1/sqrt(H), 1/sqrt(H)), in :data:`PARAMETER_NAMES` order."""
        rng = np.random.default_rng(seed)
        bound = 1 / np.sqrt(hidden_size)
        shapes = self.parameter_shapes(input_size, hidden_size)
        return {
            name: rng.uniform(-bound, bound, size=shapes[name]).astype(dtype)
            for name in self.PARAMETER_NAMES
        }

    def forward(
        self,
        xs: np.ndarray,
        params: Mapping[str, np.ndarray],
        state: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
        """Outputs (T, B, H), final state (each (B, H)) and the cache for :meth:`backward`."""
        import torch

        def leaf(value: np.ndarray) -> torch.Tensor:
            return torch.tensor(np.asarray(value), requires_grad=True)

        inputs = {"xs": leaf(xs), **{k: leaf(params[k]) for k in self.PARAMETER_NAMES}}
        if state is None:  # zeros, as leaves: the gradient of the initial state is returned
            state = self._zero_state(inputs)
        inputs.update({f"{k}0": leaf(state[k]) for k in self.STATE_NAMES})
        initial = {k: inputs[f"{k}0"] for k in self.STATE_NAMES}
        with torch.enable_grad(), _nan_filled_empty():
            hs, final = self.module.forward(
                inputs["xs"], {k: inputs[k] for k in self.PARAMETER_NAMES}, initial
            )
        outputs = (hs, *(final[k] for k in self.STATE_NAMES))
        cache = {"inputs": inputs, "outputs": outputs}
        numpy_final = {k: final[k].detach().numpy().copy() for k in self.STATE_NAMES}
        return hs.detach().numpy().copy(), numpy_final, cache

    def _zero_state(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """A zero initial state for ``inputs`` (H read from one step of the module)."""
        import torch

        xs = inputs["xs"].detach()
        with torch.no_grad():
            _, final = self.module.forward(
                xs[:1], {k: inputs[k].detach() for k in self.PARAMETER_NAMES}, None
            )
        return {k: np.zeros(tuple(final[k].shape), xs.numpy().dtype) for k in self.STATE_NAMES}

    def backward(
        self,
        dhs: np.ndarray,
        cache: Mapping[str, Any],
        dstate: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Gradients of every parameter, ``"xs"`` and ``"<state>0"``, as the NumPy kernel's."""
        import torch

        outputs = cache["outputs"]
        inputs: dict[str, torch.Tensor] = dict(cache["inputs"])
        dstate = dstate or {}
        weights = [torch.as_tensor(np.asarray(dhs))]
        for name, value in zip(self.STATE_NAMES, outputs[1:], strict=True):
            given = dstate.get(name)
            weights.append(torch.zeros_like(value) if given is None else torch.as_tensor(given))
        with _nan_filled_empty():
            grads = torch.autograd.grad(
                outputs, list(inputs.values()), weights, retain_graph=True, allow_unused=True
            )
        return {
            name: (np.zeros(value.shape, dtype=dhs.dtype) if grad is None else grad.numpy().copy())
            for (name, value), grad in zip(inputs.items(), grads, strict=True)
        }

    def step(
        self,
        x: np.ndarray,
        state: Mapping[str, np.ndarray] | None,
        params: Mapping[str, np.ndarray],
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """One step: the state after it, and the cache for :meth:`step_backward`."""
        x = np.asarray(x)
        _, final, cache = self.forward(x[np.newaxis], params, state)
        return final, cache

    def step_backward(
        self, dstate: Mapping[str, np.ndarray] | None, cache: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        """Gradients of every parameter, ``"x"`` and ``"<state>_prev"`` for one step."""
        hs = cache["outputs"][0]
        zeros = np.zeros(tuple(hs.shape), dtype=hs.detach().numpy().dtype)
        grads = self.backward(zeros, cache, dstate)
        result = {name: grads[name] for name in self.PARAMETER_NAMES}
        result["x"] = grads["xs"][0]
        result.update({f"{k}_prev": grads[f"{k}0"] for k in self.STATE_NAMES})
        return result


def configured_module(source: str, cell: str, constants: Mapping[str, int]) -> TorchKernel:
    """A fresh module of rendered torch ``source`` with block ``constants``, as a kernel.

    Only text this package rendered may be passed (it is executed).

    Raises
    ------
    ImportError
        If torch is not installed (the message names the extra to install).
    """
    reason = torch_missing()
    if reason is not None:
        raise ImportError(f"cannot run the torch module of {cell!r}: {reason}")
    module = kernel_from_source(source, f"torch_{cell}")
    for name, value in constants.items():
        if hasattr(module, name):
            setattr(module, name, value)
    return TorchKernel(module)
