"""The cache is the forward pass's: later changes to the inputs do not leak in; one module only."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_sym.backends.numpy.printer import render_kernel
from lstm_sym.derive import derive
from lstm_sym.kernels import load_kernel
from lstm_sym.spec import parse_spec
from lstm_sym.verify.finite_differences import make_problem
from lstm_sym.verify.gradcheck import kernel_from_source


def _gradients_after(cell: str, change) -> tuple[dict, dict]:
    kernel = load_kernel(cell)
    problem = make_problem(kernel, steps=4, batch=2, seed=3)
    _, _, cache = kernel.forward(problem.xs, problem.params, problem.state)
    expected = kernel.backward(problem.dhs, cache, problem.dstate)
    _, _, cache = kernel.forward(problem.xs, problem.params, problem.state)
    change(problem)
    return expected, kernel.backward(problem.dhs, cache, problem.dstate)


def test_changing_xs_after_forward_does_not_change_the_gradients():
    """Overwriting xs in place between forward and backward leaves every gradient as it was."""
    expected, got = _gradients_after("lstm", lambda p: p.xs.fill(7.0))
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_changing_a_peephole_after_forward_does_not_change_the_gradients():
    """Overwriting an elementwise parameter in place after forward changes no gradient."""
    expected, got = _gradients_after("peephole_lstm", lambda p: p.params["p_f"].fill(-3.0))
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def _user_lstm():
    spec = parse_spec(
        "cell lstm\ninput x\nstate h output\nparam W\nparam b\n"
        "a = W @ [h_prev, x] + b\nh = tanh(a)\n",
        "lstm.cell",
    )
    return kernel_from_source(render_kernel(derive(spec), "lstm.cell", "test"), "lstm")


def test_a_cache_from_another_module_of_the_same_name_is_refused():
    """A user cell named 'lstm' makes a cache the built-in lstm.backward refuses clearly."""
    user = _user_lstm()
    params = user.init_params(3, 4, seed=0)
    hs, _, cache = user.forward(np.zeros((2, 1, 3)), params)
    with pytest.raises(ValueError, match="another module of a cell named 'lstm'"):
        load_kernel("lstm").backward(np.ones_like(hs), cache)


def test_a_step_cache_from_another_module_is_refused():
    """step_backward of the built-in lstm refuses the step cache of the user's 'lstm'."""
    user = _user_lstm()
    _, cache = user.step(np.zeros((1, 3)), None, user.init_params(3, 4, seed=0))
    with pytest.raises(ValueError, match="another module of a cell named 'lstm'"):
        load_kernel("lstm").step_backward(None, cache)
