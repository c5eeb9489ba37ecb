"""Run a rendered NumPy kernel for the checks: a fresh module, small blocks, NaN-filled buffers.

A kernel switches code paths at block boundaries (the hoisted input projection and the
weight gradients work on blocks of ``_CHUNK_ROWS`` rows, the backward pass computes its
adjoint factors ``_FACTOR_STEPS`` steps at a time); :data:`BLOCK_SETTINGS` makes them small
so that a check at T = 7, B = 2 crosses them. Every ``np.empty`` of such a module returns
NaN, so reading a buffer before writing it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from ..python_module import kernel_from_source

__all__ = ["BLOCK_SETTINGS", "configured_kernel", "kernel_from_source"]

#: Block constants the checks run with, by name; the first is the finite-difference run's.
#: With B = 2 the first gives blocks of 6 steps and factor blocks of 4 (misaligned, and T = 7
#: ends in a partial block of each), the second blocks of 2 steps and factor blocks of 1 (the
#: byte limit binds), the third one step per block; the last is what the kernel ships with.
BLOCK_SETTINGS: dict[str, dict[str, int]] = {
    "blocks of 6 steps, factors 4": {"_CHUNK_ROWS": 12, "_FACTOR_STEPS": 4},
    "blocks of 2 steps, factors 1": {"_CHUNK_ROWS": 4, "_FACTOR_BYTES": 1},
    "blocks of 1 step": {"_CHUNK_ROWS": 1},
    "shipped blocks": {},
}


class _PoisonedNumPy:
    """NumPy, except that ``empty`` and ``empty_like`` return arrays full of NaN.

    A kernel that reads a buffer it never wrote then yields NaN; with the real ``np.empty``
    it may read the right values left in recycled memory by an earlier call, and hide it.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def empty(shape: Any, dtype: Any = float) -> np.ndarray:
        """Like :func:`numpy.empty`, filled with NaN."""
        return np.full(shape, np.nan, dtype)

    @staticmethod
    def empty_like(prototype: np.ndarray, dtype: Any = None) -> np.ndarray:
        """Like :func:`numpy.empty_like`, filled with NaN."""
        return np.full_like(prototype, np.nan, dtype=dtype)


def configured_kernel(source: str, cell: str, constants: Mapping[str, int]) -> ModuleType:
    """A fresh module of ``source`` with block ``constants`` set and a NaN-filling ``np.empty``."""
    module = kernel_from_source(source, cell)
    for name, value in constants.items():
        if hasattr(module, name):
            setattr(module, name, value)
    module.np = _PoisonedNumPy()  # type: ignore[attr-defined]
    return module
