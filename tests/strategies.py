"""Hypothesis strategies shared by the property tests: cells, sizes, dtypes, random problems."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from hypothesis import strategies as st

from lstm_sym.kernels import load_kernel
from lstm_sym.spec import builtin_cell_names

#: Both float dtypes the kernels support.
DTYPES = (np.float32, np.float64)


@dataclass
class Problem:
    """A kernel with random inputs, parameters and a random (non-zero) initial state."""

    kernel: ModuleType
    xs: np.ndarray
    params: dict[str, np.ndarray]
    state: dict[str, np.ndarray]
    rng: np.random.Generator

    @property
    def dtype(self) -> Any:
        return self.xs.dtype

    def cotangents(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Random ``dhs`` (T, B, H) and ``dstate`` of the problem's shapes and dtype."""
        T, B, _ = self.xs.shape
        H = self.state["h"].shape[1]
        dhs = self.rng.standard_normal((T, B, H)).astype(self.dtype)
        dstate = {
            name: self.rng.standard_normal((B, H)).astype(self.dtype)
            for name in self.kernel.STATE_NAMES
        }
        return dhs, dstate

    def astype(self, dtype: Any) -> Problem:
        """The same problem in another dtype (values rounded once)."""
        return Problem(
            self.kernel,
            self.xs.astype(dtype),
            {k: v.astype(dtype) for k, v in self.params.items()},
            {k: v.astype(dtype) for k, v in self.state.items()},
            self.rng,
        )


cells = st.sampled_from(builtin_cell_names())
sizes = st.integers(min_value=1, max_value=4)
dtypes = st.sampled_from(DTYPES)


@st.composite
def problems(draw: st.DrawFn, dtype: st.SearchStrategy[Any] = dtypes) -> Problem:
    """A random problem: any built-in cell, T, B, D, H in 1…4, float32 or float64."""
    kernel = load_kernel(draw(cells))
    T, B, D, H = draw(sizes), draw(sizes), draw(sizes), draw(sizes)
    chosen = draw(dtype)
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    params = kernel.init_params(D, H, seed=seed, dtype=chosen)
    xs = rng.standard_normal((T, B, D)).astype(chosen)
    state = {name: rng.standard_normal((B, H)).astype(chosen) for name in kernel.STATE_NAMES}
    return Problem(kernel, xs, params, state, rng)
