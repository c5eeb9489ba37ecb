"""Terminal conventions shared by the command line and the scripts.

- :class:`Progress` rewrites one status line with ``\\r`` only when its stream is a terminal;
  redirected to a file or a pipe, it writes plain lines (a log stays readable line by line).
- :func:`silence_stdout` points standard output at ``os.devnull`` once a reader has gone
  away (``lstm-sym list | head -1``), so the interpreter's final flush cannot fail again.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

__all__ = ["Progress", "silence_stdout"]


class Progress:
    """One progress line on ``stream`` (default: standard error).

    On a terminal each :meth:`update` overwrites the previous one (``\\r``) and
    :meth:`done` ends the line. Elsewhere every update is a line of its own, unless it
    repeats the previous update's text, so a log shows each step once.

    Parameters
    ----------
    stream : text stream, optional
        Where the progress goes; standard error by default.
    every : int, optional
        Off a terminal, print only every ``every``-th numbered update (see :meth:`count`).
    """

    def __init__(self, stream: TextIO | None = None, *, every: int = 1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = _is_terminal(self.stream)
        self.every = max(1, every)
        self._width = 0
        self._last = ""

    def update(self, message: str) -> None:
        """Show ``message`` as the current state of the work."""
        if self.interactive:
            padding = " " * max(0, self._width - len(message))
            self.stream.write("\r" + message + padding)
            self._width = len(message)
        elif message != self._last:
            self.stream.write(message + "\n")
        self._last = message
        self.stream.flush()

    def count(self, message: str, done: int, total: int) -> None:
        """Show ``message`` for ``done`` of ``total`` units; off a terminal only every
        ``every``-th unit and the last."""
        if not self.interactive and done % self.every and done < total:
            return
        self.update(message)

    def done(self) -> None:
        """End the progress line (on a terminal); nothing to do for plain lines."""
        if self.interactive and self._width:
            self.stream.write("\n")
            self.stream.flush()
        self._width = 0
        self._last = ""


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def silence_stdout() -> None:
    """Send what is left of standard output to ``os.devnull`` (the reader has gone)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
