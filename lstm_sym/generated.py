"""The one header every generated file starts with, and how a generated file is recognised.

``Generated from <source> by `<command>` — do not edit.``, in the comment syntax of the file
(``# …`` in Python, ``// …`` in JavaScript, ``<!-- … -->`` in Markdown, HTML and SVG).
"""

from __future__ import annotations

__all__ = ["COMMAND", "END", "MARKER", "header", "html_header", "is_header"]

#: The command named in every generated file's header.
COMMAND = "lstm-sym regenerate"

#: How the header text starts, and what it ends with.
MARKER = "Generated from "
END = "do not edit"


def header(source: str, command: str = COMMAND) -> str:
    """The header text, without comment syntax.

    Parameters
    ----------
    source : str
        What the file was generated from (a spec path), already safe for the comment.
    command : str
        The command that regenerates it, already safe for the comment.
    """
    return f"{MARKER}{source} by `{command}` — {END}."


def html_header(source: str, command: str = COMMAND) -> str:
    """The header as an HTML comment line (Markdown, SVG), newline included."""
    return f"<!-- {header(source, command)} -->\n"


def is_header(line: str) -> bool:
    """Whether ``line`` carries the header (in any comment syntax)."""
    return MARKER in line and END in line
