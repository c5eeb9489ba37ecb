"""The error raised for a malformed cell spec."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SpecError"]


class SpecError(ValueError):
    """A spec file is malformed; the message names the file, the line and the problem.

    Parameters
    ----------
    source : pathlib.Path or str
        The spec file.
    line : int
        1-based line number (0 when the problem concerns the whole file; shown as line 1).
    problem : str
        What is wrong and what was expected.
    """

    def __init__(self, source: Path | str, line: int, problem: str) -> None:
        self.source = Path(source)
        self.line = line
        self.problem = problem
        # A problem of the whole file (line 0) is reported at line 1: always FILE:LINE.
        super().__init__(f"{self.source}:{max(line, 1)}: {problem}")
