"""Regenerate every generated file, atomically and deterministically, or check them.

All files are rendered in memory first; nothing is written unless every cell rendered.
Each changed file is then written to a temporary file beside it and renamed over the old
one, so a reader never sees half a file, and unchanged files are not touched (their
modification time stays, which keeps ``mkdocs serve`` from rebuilding in a loop).
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .render.artifacts import Artifacts, CellArtifacts, render_cell
from .render.javascript import explorer_artifacts
from .render.variants import VARIANTS_PAGE, render_variants_page
from .spec import (
    SpecError,
    builtin_cell_names,
    builtin_spec_path,
    load_builtin,
    parse_spec_file,
)

__all__ = [
    "COMMAND",
    "ForeignFileError",
    "GenerationResult",
    "builtin_artifacts",
    "is_generated",
    "repository_root",
    "stale_files",
    "stale_temporaries",
    "user_artifacts",
    "write_files",
]

#: The command named in every generated file's header.
COMMAND = "lstm-sym regenerate"


def repository_root() -> Path:
    """Return the checkout that holds the package (where ``docs/`` and ``mkdocs.yml`` live)."""
    return Path(__file__).resolve().parent.parent


def _relative_source(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def builtin_artifacts(
    names: Iterable[str] | None = None,
    *,
    root: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Artifacts]:
    """Render the generated files of the built-in cells (all of them by default).

    Rendering all cells adds the page that compares them, ``docs/variants.md``, as the last
    entry (an :class:`~lstm_sym.render.artifacts.Artifacts`; every other entry is a
    :class:`~lstm_sym.render.artifacts.CellArtifacts`).

    Parameters
    ----------
    names : iterable of str, optional
        Cells to render; the variants page only when this is omitted.
    root : pathlib.Path, optional
        Repository root the paths are relative to.
    progress : callable, optional
        Receives progress messages.
    """
    root = root or repository_root()
    results: list[Artifacts] = []
    cells: list[CellArtifacts] = []
    for name in names if names is not None else builtin_cell_names():
        spec = load_builtin(name)
        source = _relative_source(builtin_spec_path(name), repository_root())
        cells.append(
            render_cell(
                spec,
                source,
                COMMAND,
                kernel_path=f"lstm_sym/kernels/{name}.py",
                page_path=f"docs/derivations/{name}.md",
                snippets_dir=f"docs/snippets/{name}",
                progress=progress,
            )
        )
        # Torch backend (#23): the coordinator moves this call into the backend registry.
        from .backends.torch import TORCH_KERNELS_DIR, torch_module_files

        cells[-1].files.update(
            torch_module_files(
                cells[-1].derivation, source, COMMAND, f"{TORCH_KERNELS_DIR}/{name}.py"
            )
        )
    results += cells
    if names is None:
        if progress:
            progress("variants page")
        page = render_variants_page([cell.derivation for cell in cells], COMMAND)
        results.append(Artifacts(files={VARIANTS_PAGE: page}))
        results.append(explorer_artifacts([cell.derivation for cell in cells], COMMAND))
        if progress:
            progress("figures")
        results.append(figure_artifacts())
        if progress:
            progress("worked example")
        from .render.worked_example import example_files

        results.append(Artifacts(files=example_files(COMMAND)))
    return results


#: Folder of the generated figures, relative to the repository root.
FIGURES_DIR = "docs/assets/generated"


def figure_artifacts() -> Artifacts:
    """Render the site's figures (activation plots, one diagram per built-in cell).

    Each SVG starts with a comment naming its source and :data:`COMMAND`.
    """
    from .render.figures import figures

    files = {}
    for name, svg in figures().items():
        source = (
            "lstm_sym/spec/functions.py"
            if name == "activations.svg"
            else f"lstm_sym/spec/cells/{name.split('-', 1)[0]}.cell"
        )
        files[f"{FIGURES_DIR}/{name}"] = _with_header(svg, source)
    return Artifacts(files=files)


def _with_header(svg: str, source: str) -> str:
    comment = f"<!-- Generated from {source} by `{COMMAND}` — do not edit. -->\n"
    if svg.startswith("<?xml"):
        declaration, _, rest = svg.partition("\n")
        return f"{declaration}\n{comment}{rest}"
    return comment + svg


def user_artifacts(
    spec_file: Path, *, progress: Callable[[str], None] | None = None
) -> CellArtifacts:
    """Render a user spec: ``<cell>.py``, ``<cell>.md`` and ``snippets/<cell>/`` under ``--out``."""
    spec = parse_spec_file(spec_file)
    # The file name is named in every generated header: only characters inert in Python,
    # Markdown and HTML comments (a name with a newline or '-->' cannot break out).
    shown = re.sub(r"[^A-Za-z0-9._+-]", "_", spec_file.name)
    command = f"{COMMAND} --spec {shown}"
    try:
        cell = render_cell(
            spec,
            shown,
            command,
            kernel_path=f"{spec.name}.py",
            page_path=f"{spec.name}.md",
            snippets_dir=f"snippets/{spec.name}",
            progress=progress,
        )
        from .backends.torch import torch_module_files  # torch backend (#23), see above

        cell.files.update(
            torch_module_files(cell.derivation, shown, command, f"{spec.name}_torch.py")
        )
        return cell
    except SpecError:
        raise
    except Exception as error:  # the spec parsed but the cell cannot be generated
        first = min((e.line for e in spec.equations), default=1)
        detail = f"{type(error).__name__}: {error}"
        raise SpecError(
            spec_file,
            first,
            f"cannot generate the cell '{spec.name}' from these equations ({detail[:200]})",
        ) from None


@dataclass(frozen=True)
class GenerationResult:
    """What a regeneration did: files written and files already up to date."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def stale_files(files: dict[str, str], root: Path) -> list[str]:
    """Return the relative paths whose file under ``root`` is missing or differs."""
    stale = []
    for relative, content in sorted(files.items()):
        path = root / relative
        try:
            current = path.read_bytes()
        except OSError:
            stale.append(relative)
            continue
        if current != content.encode("utf-8"):
            stale.append(relative)
    return stale


#: Every generated file says so near its top (the first line, or the second after an XML
#: declaration); only such files are ever replaced.
GENERATED_MARK = ("Generated from ", "do not edit")


class ForeignFileError(ValueError):
    """Files that regenerate would replace but that it did not generate (no header)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        super().__init__(
            "refusing to overwrite files that lstm-sym did not generate (no 'Generated from … "
            "— do not edit.' header): " + ", ".join(paths)
        )


def is_generated(path: Path) -> bool:
    """Whether the file at ``path`` carries the header of a generated file."""
    try:
        with path.open("rb") as stream:
            head = stream.read(1024).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(all(mark in line for mark in GENERATED_MARK) for line in head.splitlines()[:2])


def stale_temporaries(files: dict[str, str], root: Path) -> list[Path]:
    """Temporary files a killed regeneration left beside the generated files (``.NAME.*.tmp``)."""
    found: set[Path] = set()
    for relative in files:
        target = root / relative
        if target.parent.is_dir():
            found.update(target.parent.glob(f".{glob.escape(target.name)}.*.tmp"))
    return sorted(found)


def write_files(files: dict[str, str], root: Path) -> GenerationResult:
    """Write the files that changed, each via a temporary file and an atomic rename.

    All temporary files are written before the first rename; if writing any of them
    fails, or the process is interrupted (Ctrl-C), they are removed and no target file has
    changed. Temporary files left by a killed run are removed first.

    Raises
    ------
    ForeignFileError
        If a file to be replaced exists but was not generated (nothing is written then).
    """
    stale = stale_files(files, root)
    foreign = [r for r in stale if (root / r).exists() and not is_generated(root / r)]
    if foreign:
        raise ForeignFileError(foreign)
    for leftover in stale_temporaries(files, root):
        leftover.unlink(missing_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for relative in stale:
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
            staged.append((Path(temporary_name), target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(files[relative].encode("utf-8"))
            os.chmod(temporary_name, 0o644)
        for temporary, target in staged:
            os.replace(temporary, target)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    unchanged = tuple(sorted(set(files) - set(stale)))
    return GenerationResult(tuple(stale), unchanged)
