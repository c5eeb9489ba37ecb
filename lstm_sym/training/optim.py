"""Gradient-descent optimisers and global-norm clipping over a dict of parameter arrays.

Both optimisers update the parameter arrays **in place** (so views, such as a kernel's
per-gate weights into one stacked buffer, stay views) and read from a gradient dict only the
keys of the parameters: other entries — a kernel's ``"xs"`` or ``"h0"``, say — are ignored,
so ``optimiser.step(kernel.backward(dhs, cache))`` works as it is.

Conventions are torch's (``torch.optim.SGD`` / ``torch.optim.Adam`` without weight decay).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["SGD", "Adam", "clip_global_norm", "global_norm"]


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """Return the Euclidean norm of all arrays of ``grads`` taken together as one vector."""
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))


def clip_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    Pass the parameter gradients only (a stack's first gradient dict, or the parameter keys
    of a kernel's): every entry counts towards the norm.

    Parameters
    ----------
    grads : mapping of str to numpy.ndarray
    max_norm : float
        Largest allowed global norm (> 0); ``inf`` disables clipping.

    Returns
    -------
    dict of str to numpy.ndarray
        New arrays with the same keys, shapes and dtypes: ``g * min(1, max_norm / norm)``.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive; got {max_norm!r}")
    norm = global_norm(grads)
    scale = 1.0 if norm <= max_norm else max_norm / norm
    return {name: (g * scale).astype(g.dtype, copy=False) for name, g in grads.items()}


class _Optimiser:
    """Shared bookkeeping: the parameter dict, and checked (name, param, grad) triples."""

    def __init__(self, params: Mapping[str, np.ndarray], lr: float) -> None:
        if not isinstance(params, Mapping) or not params:
            raise TypeError("params must be a non-empty dict of numpy arrays")
        for name, value in params.items():
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                raise TypeError(f"params[{name!r}] must be a float numpy array; got {value!r:.60}")
            if not value.flags.writeable:
                raise ValueError(f"params[{name!r}] is read-only; the optimiser updates in place")
        if not lr > 0:
            raise ValueError(f"lr must be positive; got {lr!r}")
        self.params = params
        self.lr = float(lr)
        self.steps = 0

    def _pairs(self, grads: Mapping[str, Any]) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads must be a dict of arrays; got {type(grads).__name__}")
        missing = [name for name in self.params if name not in grads]
        if missing:
            raise KeyError(f"grads has no entry for the parameters {missing[:4]}")
        for name, p in self.params.items():
            g = grads[name]
            if not isinstance(g, np.ndarray) or g.shape != p.shape:
                shape = getattr(g, "shape", type(g).__name__)
                raise ValueError(
                    f"grads[{name!r}] must have the shape of the parameter, {p.shape}; got {shape}"
                )
            yield name, p, g


class SGD(_Optimiser):
    """Stochastic gradient descent with optional (heavy-ball) momentum, in place.

    ``v ← momentum · v + g``, ``p ← p − lr · v`` (``v`` starts at zero; without momentum
    simply ``p ← p − lr · g``), as ``torch.optim.SGD``.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        The arrays to optimise, updated in place by `step`.
    lr : float
        Step size.
    momentum : float
        In [0, 1).
    """

    def __init__(
        self, params: Mapping[str, np.ndarray], lr: float = 0.1, momentum: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: Mapping[str, Any]) -> None:
        """Apply one update from ``grads`` (keys other than the parameters' are ignored)."""
        for name, p, g in list(self._pairs(grads)):
            if self.momentum:
                v = self.velocity[name]
                v *= self.momentum
                v += g
                p -= self.lr * v
            else:
                p -= self.lr * g
        self.steps += 1


class Adam(_Optimiser):
    """Adam (Kingma & Ba, 2015) with bias correction, in place.

    ``m ← β₁ m + (1 − β₁) g``, ``v ← β₂ v + (1 − β₂) g²``,
    ``p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)``, as ``torch.optim.Adam``.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        The arrays to optimise, updated in place by `step`.
    lr : float
        Step size ``alpha``.
    betas : tuple of float
        Decay rates ``(beta1, beta2)`` of the first and second moment estimates, each in
        [0, 1).
    eps : float
        Added to the square root of the second moment.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"betas must both be in [0, 1); got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive; got {eps!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = float(eps)
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: Mapping[str, Any]) -> None:
        """Apply one update from ``grads`` (keys other than the parameters' are ignored)."""
        pairs = list(self._pairs(grads))
        self.steps += 1
        correction1 = 1 - self.beta1**self.steps
        correction2 = 1 - self.beta2**self.steps
        for name, p, g in pairs:
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * np.square(g)
            p -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
