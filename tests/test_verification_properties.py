"""Property tests over random shapes: per-step gradient contributions sum to the sequence's."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_sym.kernels import load_kernel
from lstm_sym.spec import builtin_cell_names
from lstm_sym.verify.finite_differences import relative_error

CELLS = builtin_cell_names()


@st.composite
def problems(draw):
    """A cell, random (T, B, D, H) with 1s allowed, a dtype, random states and loss weights."""
    cell = draw(st.sampled_from(CELLS))
    T, B, D, H = (draw(st.integers(1, 4)) for _ in range(4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    kernel = load_kernel(cell)
    rng = np.random.default_rng(seed)
    params = kernel.init_params(D, H, seed=seed, dtype=dtype)
    xs = rng.standard_normal((T, B, D)).astype(dtype)
    state = {s: rng.standard_normal((B, H)).astype(dtype) for s in kernel.STATE_NAMES}
    dhs = rng.standard_normal((T, B, H)).astype(dtype)
    dstate = {s: rng.standard_normal((B, H)).astype(dtype) for s in kernel.STATE_NAMES}
    return kernel, xs, params, state, dhs, dstate


@settings(max_examples=25, deadline=None)
@given(problems())
def test_sequence_gradients_equal_the_sum_of_per_step_contributions(problem):
    """Summing step_backward's parameter gradients over t gives backward's, for any shape."""
    kernel, xs, params, state, dhs, dstate = problem
    _, _, cache = kernel.forward(xs, params, state)
    expected = kernel.backward(dhs, cache, dstate)
    caches, current = [], state
    for x in xs:
        current, step_cache = kernel.step(x, current, params)
        caches.append(step_cache)
    totals = {name: np.zeros_like(params[name]) for name in kernel.PARAMETER_NAMES}
    carry = dict(dstate)
    output = kernel.OUTPUT_STATE
    for t in range(xs.shape[0] - 1, -1, -1):
        carry[output] = carry[output] + dhs[t]
        grads = kernel.step_backward(carry, caches[t])
        for name in kernel.PARAMETER_NAMES:
            totals[name] += grads[name]
        carry = {s: grads[f"{s}_prev"] for s in kernel.STATE_NAMES}
    tolerance = 1e-4 if xs.dtype == np.float32 else 1e-11
    for name in kernel.PARAMETER_NAMES:
        assert relative_error(totals[name], expected[name]) < tolerance, name
    for s in kernel.STATE_NAMES:
        assert relative_error(carry[s], expected[f"{s}0"]) < tolerance, s
