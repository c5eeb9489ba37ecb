"""Codegen hygiene: no spec name can collide with a name the generated kernel uses itself."""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pytest

from lstm_sym.backends.numpy.printer import render_kernel
from lstm_sym.derive import derive
from lstm_sym.spec import SpecError, builtin_cell_names, load_builtin, parse_spec
from lstm_sym.spec.model import Role
from lstm_sym.spec.parser import name_problem
from lstm_sym.verify.gradcheck import kernel_from_source

#: A user cell whose names were all used inside the kernels before they had their own namespace.
FORMER_INTERNALS = """\
cell former_internals
input u
state T output
state steps
param W_stack0
param b_stack0
param W
param work0
value product0
value t_end
value factors
a_stack0 = W_stack0 @ [T_prev, u] + b_stack0
product0 = W @ [T_prev, steps_prev, u]
t_end = tanh(a_stack0)
factors = sigmoid(product0 + work0 * steps_prev)
T = factors * t_end + (1 - factors) * T_prev
steps = 0.5 * t_end + 0.5 * steps_prev
"""


def _identifiers(source: str) -> set[str]:
    """Every name the module binds or reads: variables, arguments, functions, imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


def _cases() -> list[tuple[str, str]]:
    cases = [(name, "") for name in builtin_cell_names()]
    return [*cases, ("former_internals", FORMER_INTERNALS)]


@pytest.mark.parametrize(("cell", "text"), _cases(), ids=[c for c, _ in _cases()])
def test_every_kernel_name_outside_the_spec_is_one_a_spec_cannot_use(cell, text):
    """Each identifier of a generated module is a spec-derived name or one the parser refuses."""
    spec = parse_spec(text, f"{cell}.cell") if text else load_builtin(cell)
    derivation = derive(spec)
    source = render_kernel(derivation, f"{cell}.cell", "lstm-sym regenerate")
    own = {d.name for d in spec.declarations} | set(derivation.auxiliary)
    usable = sorted(
        name for name in _identifiers(source) - own if name_problem(name, Role.VALUE) is None
    )
    assert usable == []


def _kernel(text: str, name: str):
    spec = parse_spec(text, f"{name}.cell")
    source = render_kernel(derive(spec), f"{name}.cell", "lstm-sym regenerate")
    return kernel_from_source(source, name)


def _b_stack0_cell(value: str) -> str:
    return textwrap.dedent(
        f"""\
        cell renamed
        input x
        state h output
        param W
        param b
        a = W @ [h_prev, x] + b
        {value} = tanh(a)
        h = 0.5 * {value} + 0.5 * h_prev
        """
    )


@pytest.mark.parametrize(("steps", "batch"), [(3, 511), (1100, 1)])
def test_a_value_named_like_a_former_buffer_computes_what_the_renamed_cell_computes(steps, batch):
    """The issue's cell with a value named b_stack0 gives the renamed cell's outputs and grads."""
    named = _kernel(_b_stack0_cell("b_stack0"), "named")
    renamed = _kernel(_b_stack0_cell("g"), "renamed")
    rng = np.random.default_rng(0)
    params = named.init_params(2, 3, seed=1)
    xs = rng.standard_normal((steps, batch, 2))
    dhs = rng.standard_normal((steps, batch, 3))
    results = []
    for kernel in (named, renamed):
        hs, _, cache = kernel.forward(xs, params)
        grads = kernel.backward(dhs, cache)
        results.append((hs, grads))
    (hs_a, grads_a), (hs_b, grads_b) = results
    np.testing.assert_array_equal(hs_a, hs_b)
    for key in grads_b:
        np.testing.assert_array_equal(grads_a[key], grads_b[key])


@pytest.mark.parametrize(
    "name", ["_hidden", "range", "min", "CELL", "forward", "np", "xs", "cache", "d_a", "a_seq"]
)
def test_names_of_the_generated_code_are_refused_in_a_spec(name):
    """Names starting with '_', builtins, the public API and derived forms are spec errors."""
    text = _b_stack0_cell(name)
    with pytest.raises(SpecError, match=r"renamed\.cell:7: "):
        parse_spec(text, "renamed.cell")


def test_only_the_input_may_be_called_x():
    """'x' names the input of step(); a parameter or value called 'x' is refused."""
    text = _b_stack0_cell("g").replace("input x", "input u").replace("x]", "u]")
    with pytest.raises(SpecError, match="only the input may be called 'x'"):
        parse_spec(text.replace("param b", "param b\nparam x"), "renamed.cell")


def test_a_name_equal_to_a_state_gradient_key_is_refused():
    """A parameter 'h0' beside state 'h' would share backward's key 'h0': refused."""
    text = _b_stack0_cell("g").replace("param b", "param b\nparam h0")
    text += "h0_use = h0 * 1\n"
    with pytest.raises(SpecError, match="'h0' is reserved"):
        parse_spec(text.replace("h = 0.5 * g", "h = h0 * g"), "renamed.cell")
