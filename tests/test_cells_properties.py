"""Properties every generated kernel has, over random cells, sizes down to 1 and both dtypes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Problem, problems

from lstm_sym.verify.finite_differences import relative_error

#: Few examples (each runs a whole kernel), no deadline (first calls import modules).
SETTINGS = settings(max_examples=100, deadline=None)


def _tolerance(problem: Problem, float64: float, float32: float) -> float:
    return float64 if problem.dtype == np.float64 else float32


@SETTINGS
@given(problems())
def test_step_by_step_equals_sequence(problem: Problem) -> None:
    """step() applied T times gives forward()'s outputs and final state, in either dtype."""
    kernel = problem.kernel
    hs, final, _ = kernel.forward(problem.xs, problem.params, problem.state)
    tolerance = _tolerance(problem, 1e-12, 1e-5)
    current = problem.state
    for t, x in enumerate(problem.xs):
        current, _ = kernel.step(x, current, problem.params)
        assert current["h"].dtype == problem.dtype
        np.testing.assert_allclose(current["h"], hs[t], rtol=tolerance, atol=tolerance)
    for name in kernel.STATE_NAMES:
        np.testing.assert_allclose(current[name], final[name], rtol=tolerance, atol=tolerance)


@SETTINGS
@given(problems(), st.floats(-3, 3), st.floats(-3, 3))
def test_backward_is_linear_in_the_incoming_gradients(problem: Problem, a: float, b: float) -> None:
    """backward(a·u + b·v) = a·backward(u) + b·backward(v) for cotangents u, v = (dhs, dstate)."""
    kernel = problem.kernel
    _, _, cache = kernel.forward(problem.xs, problem.params, problem.state)
    dhs_u, dstate_u = problem.cotangents()
    dhs_v, dstate_v = problem.cotangents()
    dtype = problem.dtype
    combined = kernel.backward(
        (a * dhs_u + b * dhs_v).astype(dtype),
        cache,
        {k: (a * dstate_u[k] + b * dstate_v[k]).astype(dtype) for k in dstate_u},
    )
    grads_u = kernel.backward(dhs_u, cache, dstate_u)
    grads_v = kernel.backward(dhs_v, cache, dstate_v)
    tolerance = _tolerance(problem, 1e-10, 1e-4)
    for key, value in combined.items():
        assert value.dtype == dtype, key
        expected = a * grads_u[key].astype(np.float64) + b * grads_v[key].astype(np.float64)
        scale = max(np.linalg.norm(grads_u[key]), np.linalg.norm(grads_v[key]), 1e-30)
        error = np.linalg.norm(value - expected) / ((abs(a) + abs(b) + 1) * scale)
        assert error < tolerance, (key, error)


@SETTINGS
@given(problems(dtype=st.just(np.float64)))
def test_float32_agrees_with_float64(problem: Problem) -> None:
    """The same problem in float32 gives float32 outputs and gradients within 1e-3 of float64."""
    kernel = problem.kernel
    dhs, dstate = problem.cotangents()
    hs64, final64, cache64 = kernel.forward(problem.xs, problem.params, problem.state)
    grads64 = kernel.backward(dhs, cache64, dstate)
    single = problem.astype(np.float32)
    hs32, final32, cache32 = kernel.forward(single.xs, single.params, single.state)
    grads32 = kernel.backward(
        dhs.astype(np.float32), cache32, {k: v.astype(np.float32) for k, v in dstate.items()}
    )
    assert hs32.dtype == np.float32
    assert relative_error(hs32.astype(np.float64), hs64) < 1e-3
    for name in kernel.STATE_NAMES:
        assert relative_error(final32[name].astype(np.float64), final64[name]) < 1e-3, name
    for key, value in grads32.items():
        assert value.dtype == np.float32, key
        assert relative_error(value.astype(np.float64), grads64[key]) < 1e-3, key
