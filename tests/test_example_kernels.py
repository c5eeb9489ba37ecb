"""The worked example runs the kernels regeneration just rendered, not those on disk."""

from __future__ import annotations

import types
from typing import Any

from lstm_sym.artifacts import CellArtifacts
from lstm_sym.docs_render.worked_example import example_files
from lstm_sym.regenerate import COMMAND, _example_kernels, builtin_artifacts


class _Spy:
    """A kernel that forwards to another one and counts the calls of its functions."""

    def __init__(self, kernel: types.ModuleType) -> None:
        self.kernel = kernel
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.kernel, name)
        if not callable(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return value(*args, **kwargs)

        return counted


def test_example_files_run_the_kernels_they_are_given() -> None:
    """The snippets come from the given (just rendered) kernels, and match those on disk."""
    cells = [c for c in builtin_artifacts(["lstm", "rnn"]) if isinstance(c, CellArtifacts)]
    rendered = _example_kernels(cells)
    spies = {name: _Spy(kernel) for name, kernel in rendered.items()}
    files = example_files(COMMAND, spies)
    assert spies["lstm"].calls > 0 and spies["rnn"].calls > 0
    assert files == example_files(COMMAND)
