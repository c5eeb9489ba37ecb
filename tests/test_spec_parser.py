"""The cell spec parser: the built-in LSTM, and clear errors for malformed or hostile specs."""

from __future__ import annotations

import textwrap

import pytest

from lstm_sym.spec import SpecError, load_builtin, parse_spec, parse_spec_file
from lstm_sym.spec.model import Elementwise, LinearMap, Role

HEADER = """\
cell tiny
input x
state h output
param W
param b
"""


def _spec(body: str, header: str = HEADER) -> str:
    return header + textwrap.dedent(body)


def test_builtin_lstm_has_the_lecture_parameters_states_and_equations():
    """The LSTM spec declares the issue's parameter keys, states h and C, and ten equations."""
    spec = load_builtin("lstm")
    assert spec.parameter_names == ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")
    assert spec.state_names == ("h", "C") and spec.output_state == "h"
    assert spec.input_name == "x"
    linear = [e for e in spec.equations if isinstance(e, LinearMap)]
    assert [m.operands for m in linear] == [("h_prev", "x")] * 4
    assert spec.parameter_shape("W_f") == ("H", "H + D")
    assert spec.parameter_count(3, 2) == 4 * (2 * 5 + 2)


def test_a_minimal_cell_parses():
    """A one-state tanh RNN written in the format parses into one linear map and one update."""
    spec = parse_spec(_spec("a = W @ [h_prev, x] + b\nh = tanh(a)\n"))
    assert isinstance(spec.equations[0], LinearMap)
    assert isinstance(spec.equations[1], Elementwise)
    assert spec.declaration("a").role is Role.VALUE


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("a = W @ [h_prev, x] + b\nh = tanh(a + q)\n", 7, "unknown symbol 'q'"),
        ("a = W @ [h_prev, x] + b\nh = relu(a)\n", 7, "unsupported function 'relu'"),
        ("a = W @ [h_prev, x] + b\nh = tanh(g)\ng = a\n", 7, "'g' is used before it is assigned"),
        ("a = W @ [h_prev, x] + b\ng = tanh(a)\n", 3, "state 'h' is never updated"),
        ("a = W @ [h_prev, x] + b\nh = tanh(a) + h\n", 7, "write h_prev for its value"),
        ("a = W @ [h_prev, x] + b\nh = tanh(a) * x\n", 7, "input 'x' has D units"),
        ("a = W @ [h_prev, x] + b\nh = tanh(a) * W\n", 7, "shape mismatch: 'W' is a matrix"),
        ("a = W @ [h_prev, x] + b\nh = a if a else b\n", 7, "unsupported syntax"),
        ("a = W @ [h_prev * 2, x] + b\nh = tanh(a)\n", 6, "list entries must be names"),
        ("a = W @ [h_prev, x] + b\nh = tanh(a\n", 7, "cannot parse"),
        ("a = W @ [h_prev, x] + b\nh = tanh(a)\nh = a\n", 8, "'h' is assigned twice"),
        ("a = W @ [h_prev, x] + b\nh = tanh(a)\nz = a\n", 8, "'z' is assigned but never used"),
    ],
)
def test_malformed_specs_are_rejected_with_line_and_problem(tmp_path, body, line, message):
    """Each malformed spec raises SpecError naming the file, the line and the problem."""
    path = tmp_path / "bad.cell"
    path.write_text(_spec(body))
    with pytest.raises(SpecError) as caught:
        parse_spec_file(path)
    assert caught.value.line == line
    assert message in caught.value.problem
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_declared_shape_that_does_not_fit_the_concatenation_is_rejected():
    """A weight declared (H, H) but applied to [h_prev, x] is a shape mismatch on its line."""
    header = HEADER.replace("param W\n", 'param W shape="H, H"\n')
    with pytest.raises(SpecError, match=r":6: shape mismatch: 'W' is declared with shape \(H, H\)"):
        parse_spec(_spec("a = W @ [h_prev, x] + b\nh = tanh(a)\n", header), "bad.cell")


def test_unused_parameter_is_rejected():
    """A declared parameter that no equation uses is reported on its declaration line."""
    header = HEADER + "param p\n"
    with pytest.raises(SpecError, match=r":6: parameter 'p' is never used"):
        parse_spec(_spec("a = W @ [h_prev, x] + b\nh = tanh(a)\n", header), "bad.cell")


def test_reserved_names_are_rejected():
    """A value named like the kernel's own variables (d_ prefix) is rejected."""
    with pytest.raises(SpecError, match="reserved for the generated code"):
        parse_spec(_spec("d_a = W @ [h_prev, x] + b\nh = tanh(d_a)\n"))


@pytest.mark.parametrize(
    "payload",
    [
        "h = __import__('os').system('touch PWNED')",
        "h = tanh(a).__class__",
        "h = (lambda: 0)()",
        "h = open('x')",
        "h = [c for c in a]",
    ],
)
def test_malicious_specs_are_rejected_and_nothing_runs(tmp_path, monkeypatch, payload):
    """Code in a spec is parsed and refused, never executed: no file appears."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError):
        parse_spec(_spec(f"a = W @ [h_prev, x] + b\n{payload}\n"))
    assert not (tmp_path / "PWNED").exists()


def test_unreadable_file_is_reported(tmp_path):
    """A missing spec file raises SpecError naming the file."""
    with pytest.raises(SpecError, match="cannot read the spec file"):
        parse_spec_file(tmp_path / "missing.cell")


def test_unknown_attribute_is_rejected():
    """A declaration attribute other than latex/doc/shape/output is rejected on its line."""
    header = HEADER.replace("param b\n", "param b colour=red\n")
    with pytest.raises(SpecError, match=r":5: unknown attribute 'colour=red'"):
        parse_spec(_spec("a = W @ [h_prev, x] + b\nh = tanh(a)\n", header), "bad.cell")


def test_compare_header_is_read_into_the_spec():
    """A `compare "…"` line becomes spec.compare; without one it is empty."""
    body = "a = W @ [h_prev, x] + b\nh = tanh(a)\n"
    spec = parse_spec(_spec(body, 'compare "Removes every gate."\n' + HEADER))
    assert spec.compare == "Removes every gate."
    assert parse_spec(_spec(body)).compare == ""


def test_compare_given_twice_is_rejected():
    """A second `compare` line is an error naming the first one's line."""
    header = HEADER + 'compare "one"\ncompare "two"\n'
    with pytest.raises(SpecError, match=r":7: 'compare' given twice \(first on line 6\)"):
        parse_spec(_spec("a = W @ [h_prev, x] + b\nh = tanh(a)\n", header), "bad.cell")


def test_operand_of_a_matrix_product_assigned_later_is_rejected():
    """A gate used inside `W @ […]` before its equation is an error naming its line."""
    header = HEADER + "param U\nparam c\n"
    body = "a = W @ [g, x] + b\ng = sigmoid(u)\nu = U @ [h_prev, x] + c\nh = tanh(a)\n"
    with pytest.raises(SpecError, match=r":8: 'g' is used before it is assigned \(line 9\)"):
        parse_spec(_spec(body, header), "bad.cell")


def test_a_cycle_through_a_matrix_product_is_rejected():
    """A gate that feeds its own matrix product (a needs g, g needs a) is reported as a cycle."""
    body = "a = W @ [g, x] + b\ng = sigmoid(a)\nh = g * h_prev\n"
    with pytest.raises(SpecError, match=r":6: 'g' is used before it is assigned.*\(cycle\)"):
        parse_spec(_spec(body), "bad.cell")


def test_a_matrix_product_of_one_operand_has_the_operand_width():
    """`W @ [x]` gives W the shape (H, D) and `U @ [h_prev]` gives U (H, H)."""
    header = HEADER + "param U\n"
    spec = parse_spec(_spec("a = W @ [x] + b\nu = U @ [h_prev]\nh = tanh(a + u)\n", header))
    assert spec.parameter_shape("W") == ("H", "D")
    assert spec.parameter_shape("U") == ("H", "H")
    assert spec.parameter_count(3, 2) == 2 * 3 + 2 + 2 * 2


def test_every_built_in_cell_declares_and_documents_every_symbol():
    """Each built-in spec declares every symbol it uses, each with a LaTeX form and a doc line."""
    from lstm_sym.spec import builtin_cell_names

    for name in builtin_cell_names():
        spec = load_builtin(name)
        assert spec.name == name and spec.title and spec.summary
        for declaration in spec.declarations:
            assert declaration.line > 0, (name, declaration.name, "not declared")
            assert declaration.latex and declaration.doc, (name, declaration.name)
