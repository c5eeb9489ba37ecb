"""Every file generated from a cell spec, rendered in memory.

A generated file is named by its path relative to an output root (the repository for
built-in cells, ``--out`` for user cells) and says which spec and command produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .backends.numpy.printer import render_kernel
from .derive import Derivation, derive
from .docs_render.latex import render_derivation_page, render_snippets
from .spec.model import CellSpec

__all__ = ["Artifacts", "CellArtifacts", "render_cell"]


@dataclass(frozen=True)
class Artifacts:
    """Generated files: relative path → content (one cell's, or a page about several)."""

    files: dict[str, str]


@dataclass(frozen=True)
class CellArtifacts(Artifacts):
    """The files generated from one cell, with the spec and derivation they came from."""

    spec: CellSpec
    derivation: Derivation


def render_cell(
    spec: CellSpec,
    source: str,
    command: str,
    *,
    kernel_path: str,
    page_path: str,
    snippets_dir: str,
    progress: Callable[[str], None] | None = None,
) -> CellArtifacts:
    """Derive ``spec`` and render its kernel, derivation page and snippets.

    Parameters
    ----------
    spec : CellSpec
        The cell.
    source : str
        The spec's path as named in the generated headers.
    command : str
        The command named in the generated headers.
    kernel_path, page_path, snippets_dir : str
        Relative output paths (POSIX separators).
    progress : callable, optional
        Receives a short message before each stage.

    Returns
    -------
    CellArtifacts
    """
    if progress:
        progress(f"{spec.name}: deriving")
    derivation = derive(spec)
    if progress:
        progress(f"{spec.name}: rendering")
    files = {
        kernel_path: render_kernel(derivation, source, command),
        page_path: render_derivation_page(derivation, source, command),
    }
    for name, content in render_snippets(derivation, source, command).items():
        files[str(Path(snippets_dir) / name).replace("\\", "/")] = content
    return CellArtifacts(files=files, spec=spec, derivation=derivation)
