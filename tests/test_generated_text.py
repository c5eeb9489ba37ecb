"""Generated text is inert: user text and file names never change a generated module or page."""

from __future__ import annotations

import dataclasses
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_sym.backends.numpy.printer import render_kernel
from lstm_sym.derive import Derivation, derive
from lstm_sym.regenerate import user_artifacts
from lstm_sym.spec import SpecError, parse_spec
from lstm_sym.spec.parser import latex_problem, text_problem
from lstm_sym.verify.gradcheck import kernel_from_source

CELL = """\
cell inert
input x
state h output
param W
param b
a = W @ [h_prev, x] + b
h = tanh(a)
"""

#: Strings built to break out: quotes, backslashes, newlines, comment and markup closers.
HOSTILE = st.lists(
    st.sampled_from(['"', "'", "\\", "\n", "\r", "x", "-->", "<", "}", "\u2028", "\x00", '"""'])
    | st.characters(),
    max_size=30,
).map("".join)


@cache
def _derivation() -> Derivation:
    return derive(parse_spec(CELL, "inert.cell"))


@settings(max_examples=30, deadline=None)
@given(title=HOSTILE, summary=HOSTILE, source=HOSTILE)
def test_any_title_summary_and_file_name_give_a_module_that_imports(title, summary, source):
    """Whatever the text, the kernel compiles, imports and its docstring starts with the title."""
    derivation = _derivation()
    spec = dataclasses.replace(derivation.spec, title=title, summary=summary)
    source_text = render_kernel(dataclasses.replace(derivation, spec=spec), source, "cmd")
    module = kernel_from_source(source_text, "inert")
    assert module.__doc__.startswith(f"{title}: generated NumPy kernel")
    assert module.CELL == "inert"


@settings(max_examples=30, deadline=None)
@given(text=HOSTILE)
def test_the_parser_accepts_only_inert_text(text):
    """A title or doc= the parser accepts has no markup, quote, backslash or control character."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    for line in (f'title "{quoted}"', f'param W doc="{quoted}"'):
        spec_text = CELL.replace("param W", line + ("" if "param W" in line else "\nparam W"))
        try:
            parse_spec(spec_text, "inert.cell")
        except SpecError:
            continue
        assert text_problem(text) is None
        assert not set(text) & set('<>&`|$\\{}"\n\r\x00\u2028')


@settings(max_examples=30, deadline=None)
@given(latex=HOSTILE)
def test_accepted_latex_has_balanced_braces_and_known_commands(latex):
    """latex= text the parser accepts has balanced braces and no '$', '<' or unknown command."""
    if latex_problem(latex) is None:
        assert latex.count("{") == latex.count("}")
        assert not set(latex) & set("$<>&|%#\n")


def test_a_file_name_with_a_newline_and_comment_closer_stays_in_its_comment(tmp_path):
    """A spec named 'x\\n-->evil.cell' gives a module that imports and a page header on one line."""
    path = tmp_path / "x\n--><script>.cell"
    path.write_text(CELL, encoding="utf-8")
    files = user_artifacts(path).files
    kernel_from_source(files["inert.py"], "inert")
    page_header = files["inert.md"].split("\n", 1)[0]
    assert page_header.startswith("<!-- Generated from ") and page_header.endswith("-->")
    assert page_header.count("-->") == 1 and "<script>" not in files["inert.md"]
