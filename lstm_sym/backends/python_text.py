"""Safe text for the Python files the backends print (NumPy kernels, PyTorch modules).

User text (spec titles, summaries, file names) only ever reaches a generated Python file
through these functions, so it can neither end a comment or docstring nor change code.
"""

from __future__ import annotations

import sympy

from ..generated import header
from ..spec.model import CellSpec, Equation, LinearMap

__all__ = ["comment_text", "docstring_text", "equation_text", "module_preamble"]


def comment_text(text: str) -> str:
    """``text`` for a ``#`` comment: as is if printable on one line, else its ``ascii`` form.

    A file name with a newline, a carriage return or a Unicode line or bidi control cannot
    end the comment or change how the line reads.
    """
    return text if text.isprintable() else ascii(text)


def docstring_text(text: str) -> str:
    """``text`` escaped for a triple-quoted docstring.

    Backslashes and double quotes are escaped; characters that are not printable (controls,
    line separators, bidi controls) are written as escape sequences. The docstring then reads
    as the text and can neither end early nor hold a stray escape.
    """
    escaped = []
    for character in text:
        if character in '\\"':
            escaped.append("\\" + character)
        elif character.isprintable() or character == " ":
            escaped.append(character)
        else:
            escaped.append(ascii(character)[1:-1])
    return "".join(escaped)


def equation_text(equation: Equation) -> str:
    """Plain-text form of a spec equation (``a_f = W_f @ [h_prev, x] + b_f``)."""
    if isinstance(equation, LinearMap):
        bias = f" + {equation.bias}" if equation.bias else ""
        return f"{equation.target} = {equation.weight} @ [{', '.join(equation.operands)}]{bias}"
    return f"{equation.target} = {sympy.sstr(equation.display, order='none')}"


def module_preamble(spec: CellSpec, source: str, command: str) -> dict[str, object]:
    """What every generated Python module's template shows of the spec, made safe.

    Returns the template variables ``header`` (the generated-file header naming ``source``
    and ``command``), ``title_docstring``, ``summary_docstring`` and ``equations`` (plain
    text, one per spec equation).
    """
    return {
        "header": header(comment_text(source), comment_text(command)),
        "title_docstring": docstring_text(spec.title),
        "summary_docstring": docstring_text(spec.summary),
        "equations": [equation_text(e) for e in spec.equations],
    }
