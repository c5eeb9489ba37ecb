"""Every file generated from a cell spec, rendered in memory.

A generated file is named by its path relative to an output root (the repository for
built-in cells, ``--out`` for user cells) and says which spec and command produced it.
A spec goes spec → :func:`~lstm_sym.derive.derive` → :func:`~lstm_sym.plan.kernel_plan.build_plan`
→ each registered backend's printer (:mod:`lstm_sym.backends`), and → the derivation page and
its snippets (:mod:`lstm_sym.docs_render.latex`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .backends import registered
from .derive import Derivation, derive
from .docs_render.latex import render_derivation_page, render_snippets
from .plan.kernel_plan import KernelPlan, build_plan
from .spec.model import CellSpec

__all__ = ["Artifacts", "CellArtifacts", "documentation_paths", "render_cell"]


@dataclass(frozen=True)
class Artifacts:
    """Generated files: relative path → content (one cell's, or a page about several)."""

    files: dict[str, str]


@dataclass(frozen=True)
class CellArtifacts(Artifacts):
    """The files generated from one cell, with the spec, derivation and plan they came from."""

    spec: CellSpec
    derivation: Derivation
    plan: KernelPlan  # the plan with halved sigmoid rows (what the NumPy kernel prints)


def documentation_paths(name: str, *, builtin: bool) -> tuple[str, str]:
    """Relative paths of a cell's derivation page and snippet folder (POSIX separators)."""
    if builtin:
        return f"docs/derivations/{name}.md", f"docs/snippets/{name}"
    return f"{name}.md", f"snippets/{name}"


def render_cell(
    spec: CellSpec,
    source: str,
    command: str,
    *,
    builtin: bool,
    progress: Callable[[str], None] | None = None,
) -> CellArtifacts:
    """Derive and plan ``spec``, then render every backend's file, its page and snippets.

    Parameters
    ----------
    spec : CellSpec
        The cell.
    source : str
        The spec's path as named in the generated headers.
    command : str
        The command named in the generated headers.
    builtin : bool
        Paths for a built-in cell (relative to the repository) or a user cell (to ``--out``).
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
    plans = {True: build_plan(derivation)}
    files = {}
    for backend in registered():
        path_of = backend.builtin_path if builtin else backend.user_path
        if backend.render is not None and path_of is not None:
            halve = backend.halve_sigmoid_rows
            if halve not in plans:
                plans[halve] = build_plan(derivation, halve_sigmoid_rows=halve)
            files[path_of(spec.name)] = backend.render(plans[halve], source, command)
    page_path, snippets_dir = documentation_paths(spec.name, builtin=builtin)
    files[page_path] = render_derivation_page(derivation, source, command)
    for name, content in render_snippets(derivation, source, command).items():
        files[str(Path(snippets_dir) / name).replace("\\", "/")] = content
    return CellArtifacts(files=files, spec=spec, derivation=derivation, plan=plans[True])
