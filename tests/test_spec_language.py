"""The spec language works end to end for what it documents: '/', powers, constants, biases."""

from __future__ import annotations

import textwrap

import pytest

from lstm_sym.backends.numpy.printer import render_kernel
from lstm_sym.derive import derive
from lstm_sym.docs_render.latex import render_derivation_page
from lstm_sym.spec import SpecError, parse_spec
from lstm_sym.verify.gradcheck import check_kernel

HEADER = """\
cell lang
input x
state h output
param W
param U
param b
"""

CELLS = {
    "division": (
        "a = W @ [h_prev, x] + b\nc = U @ [h_prev, x]\nh = tanh(a) / 2 + h_prev / (2 + c**2)\n"
    ),
    "negative power": (
        "a = W @ [h_prev, x] + b\nc = U @ [h_prev, x]\n"
        "h = tanh(a) * (2 + sigmoid(c)) ** -3 + h_prev ** 2 / 4\n"
    ),
    "fractional power": (
        "a = W @ [h_prev, x] + b\nc = U @ [h_prev, x]\nh = tanh(a) * (1 + c**2) ** 0.5\n"
    ),
    "constant functions": (
        "a = W @ [h_prev, x] + b\nc = U @ [h_prev, x]\nh = tanh(a) * exp(1) / 3 + sigmoid(2) * c\n"
    ),
    "bias shared by two maps": (
        "a = W @ [h_prev, x] + b\nc = U @ [h_prev, x] + b\nh = tanh(a) * sigmoid(c)\n"
    ),
    "bias used elementwise too": (
        "a = W @ [h_prev, x] + b\nc = U @ [h_prev, x]\nh = tanh(a) * b + sigmoid(c) * h_prev\n"
    ),
}


def _derivation(body: str):
    return derive(parse_spec(HEADER + body, "lang.cell"))


@pytest.mark.parametrize("case", list(CELLS))
def test_documented_forms_pass_every_gradcheck_check(case):
    """Each documented form gives a kernel that passes all checks of `lstm-sym gradcheck`."""
    kernel = render_kernel(_derivation(CELLS[case]), "lang.cell", "test")
    report = check_kernel(kernel, "lang")
    assert report.ok, report.first_failure()


def test_a_quotient_is_typeset_as_a_fraction():
    """'h_prev / (2 + c**2)' appears on the derivation page as a \\frac."""
    page = render_derivation_page(_derivation(CELLS["division"]), "lang.cell", "test")
    assert r"\frac{" in page


@pytest.mark.parametrize(
    ("rhs", "message"),
    [
        ("tanh(a) * 1e400", "a constant is out of range (infinite as a float)"),
        ("tanh(a) * 1e16", "at most 1e+15 in magnitude"),
        ("tanh(a) / 0", "division by zero"),
        ("tanh(a) ** 17", "exponents must be numbers between -16 and 16"),
        ("tanh(a) ** h_prev", "exponents must be numbers"),
    ],
)
def test_out_of_range_numbers_are_spec_errors(rhs, message):
    """Infinite, huge or undefined numbers are refused on their line, saying what is allowed."""
    body = textwrap.dedent(f"a = W @ [h_prev, x] + b\nc = U @ [h_prev, x]\nh = {rhs} + c\n")
    with pytest.raises(SpecError, match=r"lang\.cell:9: ") as caught:
        parse_spec(HEADER + body, "lang.cell")
    assert message in caught.value.problem
