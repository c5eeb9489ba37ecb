"""Adam (Kingma & Ba, 2015) with global gradient-norm clipping (Pascanu et al., 2013)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["Adam", "clip_global_norm", "global_norm"]


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """Return the Euclidean norm of all gradients taken together as one vector."""
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))


def clip_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    Parameters
    ----------
    grads : mapping of str to numpy.ndarray
    max_norm : float
        Largest allowed global norm; ``inf`` disables clipping.

    Returns
    -------
    dict of str to numpy.ndarray
        New arrays, same keys and shapes; unchanged values if the norm is already small enough.
    """
    norm = global_norm(grads)
    scale = 1.0 if norm <= max_norm else max_norm / norm
    return {name: g * scale for name, g in grads.items()}


class Adam:
    """Adam with bias correction, updating a dict of arrays in place.

    Parameters
    ----------
    params : mapping of str to numpy.ndarray
        The arrays to optimise; updated in place by :meth:`step`.
    lr : float
        Step size ``alpha``.
    betas : tuple of float
        Decay rates ``(beta1, beta2)`` of the first and second moment estimates.
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
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Apply one update from ``grads`` (same keys and shapes as the parameters)."""
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        for name, p in self.params.items():
            g = grads[name]
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
