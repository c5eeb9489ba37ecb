"""What the site build does besides rendering Markdown: the MkDocs event handlers.

MkDocs loads ``lstm_sym/site/hooks.py`` once per process (``mkdocs serve`` never re-imports it),
so that file only forwards each event here after reloading this module at the start of every
build: edits to the site code take effect on the next rebuild. State that must outlive a reload
(the verification cache) is passed in by the forwarding module.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from lstm_sym.generated import MARKER
from lstm_sym.site import mathjax, performance, stated_numbers, verification

__all__ = [
    "DERIVATIONS",
    "GENERATED_MARK",
    "MORE_CELLS",
    "PERFORMANCE_PAGE",
    "VERIFICATION_PAGE",
    "BuildState",
    "on_build_error",
    "on_config",
    "on_page_markdown",
    "on_post_build",
    "on_pre_build",
]

log = logging.getLogger("mkdocs.plugins.lstm_sym")

#: The page whose marker is replaced by the verification report.
VERIFICATION_PAGE = "verification.md"
#: The page whose marker is replaced by the committed benchmark results.
PERFORMANCE_PAGE = "performance.md"

#: Cache of verification results keyed by :func:`lstm_sym.site.verification.fingerprint`.
VerificationCache = MutableMapping[str, list[verification.CellReport]]


class BuildState:
    """What one build carries from event to event.

    Parameters
    ----------
    root
        The folder that holds ``mkdocs.yml``.
    cache
        Verification results of earlier builds in this process, by source fingerprint.
    """

    def __init__(self, root: Path, cache: VerificationCache) -> None:
        self.root = root
        self.cache = cache
        self.key = ""
        self.run: verification.VerificationRun | None = None
        self.reports: list[verification.CellReport] | None = None

    def roots(self) -> list[Path]:
        """Folders the verification child may import ``lstm_sym`` from, in search order."""
        entries = [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        return [*entries, self.root]

    def start_verification(self) -> None:
        """Start the verification child, unless these exact sources were verified already."""
        self.key = verification.fingerprint(self.roots())
        cached = self.cache.get(self.key) or verification.load_cached(self.key)
        if cached is not None:
            self.reports = cached
        else:
            self.run = verification.start(self.root)

    def collect_verification(self) -> list[verification.CellReport]:
        """Wait for the verification and fail the build if any kernel failed a check.

        Raises
        ------
        mkdocs.exceptions.PluginError
            Naming each failing kernel and tensor, or saying why verification could not run.
        """
        if self.reports is None:
            if self.run is None:
                raise PluginError("lstm_sym: verification was never started")
            try:
                self.reports = self.run.reports()
            except verification.VerificationError as exc:
                raise PluginError(f"lstm_sym: {exc}") from exc
            finally:
                self.run = None
        message = verification.failure_message(self.reports)
        if message is not None:
            raise PluginError(f"lstm_sym: kernel verification failed\n{message}")
        if self.key not in self.cache:
            self.cache[self.key] = self.reports
            verification.store_cached(self.key, self.reports)
        return self.reports

    def cancel(self) -> None:
        """Stop a verification child that is still running."""
        if self.run is not None:
            self.run.cancel()
            self.run = None


_state: BuildState | None = None


def _current() -> BuildState:
    if _state is None:
        raise PluginError("lstm_sym: site hooks used before on_config")
    return _state


def _absolute_snippet_paths(config: MkDocsConfig, root: Path) -> None:
    """Resolve ``pymdownx.snippets`` base paths against ``mkdocs.yml``, not the working folder."""
    options: dict[str, Any] = config.mdx_configs.setdefault("pymdownx.snippets", {})
    base = options.get("base_path", ["."])
    paths = [base] if isinstance(base, str) else list(base)
    options["base_path"] = [str((root / p).resolve()) for p in paths]


#: Folder (under docs/) of the generated derivation pages, one per cell.
DERIVATIONS = "derivations"

#: Title of the navigation section that lists derivation pages ``mkdocs.yml`` does not name.
MORE_CELLS = "More cells"

#: First characters of every page written by ``lstm-sym regenerate``.
GENERATED_MARK = f"<!-- {MARKER}"


def _nav_paths(item: object) -> set[str]:
    """Every page path named anywhere in a ``nav`` structure."""
    if isinstance(item, str):
        return {item}
    if isinstance(item, dict):
        return set().union(*(_nav_paths(v) for v in item.values()))
    if isinstance(item, list):
        return set().union(*(_nav_paths(v) for v in item))
    return set()


def _generated_pages(config: MkDocsConfig) -> list[str]:
    """Pages under docs/ written by ``lstm-sym regenerate`` (not excluded snippets), sorted."""
    docs = Path(config.docs_dir)
    exclude = config.exclude_docs
    pages = []
    for path in sorted(docs.rglob("*.md")):
        relative = path.relative_to(docs).as_posix()
        if exclude is not None and exclude.match_file(relative):
            continue
        with path.open(encoding="utf-8") as handle:
            if handle.read(len(GENERATED_MARK)) == GENERATED_MARK:
                pages.append(relative)
    return pages


def _cell_title(page: str) -> str:
    """Navigation title of a derivation page: its cell's title (``Gated recurrent unit (GRU)``)."""
    from lstm_sym.spec import load_builtin

    name = Path(page).stem
    try:
        return load_builtin(name).title
    except KeyError:
        return name


def _add_generated_pages(config: MkDocsConfig) -> None:
    """List every generated page in the navigation, even one ``mkdocs.yml`` does not name.

    ``lstm-sym regenerate`` writes one ``docs/derivations/<cell>.md`` per built-in cell, and
    may write overview pages. Generated pages that ``mkdocs.yml`` does not name go right after
    the variants page in the nav (the reference track), or after the first derivation page
    when the nav has no variants page: other pages as entries of their own (titled by their
    heading), derivation pages in a "More cells" section. A new cell thus never trips the
    strict build's check for pages left out of the nav; hand-written pages still must be listed.
    """
    nav = config.nav
    if not isinstance(nav, list):
        return  # no explicit nav: MkDocs lists every page itself
    listed = _nav_paths(nav)
    missing = [page for page in _generated_pages(config) if page not in listed]
    if not missing:
        return
    derivations = [p for p in missing if p.startswith(f"{DERIVATIONS}/")]
    others: list[object] = [p for p in missing if not p.startswith(f"{DERIVATIONS}/")]
    if derivations:
        others.append({MORE_CELLS: [{_cell_title(p): p} for p in derivations]})
    target, position = _insertion_point(nav)
    target[position:position] = others


#: The page after which generated pages the nav does not name are listed (reference track).
ANCHOR_PAGE = "variants.md"


def _insertion_point(nav: list[Any]) -> tuple[list[Any], int]:
    """Where unnamed generated pages go: right after the variants page, in whichever section
    lists it; failing that, after the first derivation page; failing that, at the end."""
    for wanted in (lambda p: p == ANCHOR_PAGE, lambda p: p.startswith(f"{DERIVATIONS}/")):
        found = _find(nav, wanted)
        if found is not None:
            return found
    return nav, len(nav)


def _find(items: list[Any], wanted: Any) -> tuple[list[Any], int] | None:
    for index, item in enumerate(items):
        if isinstance(item, str) and wanted(item):
            return items, index + 1
        if isinstance(item, dict):
            for value in item.values():
                if isinstance(value, str) and wanted(value):
                    return items, index + 1
                if isinstance(value, list):
                    found = _find(value, wanted)
                    if found is not None:
                        return found
    return None


def on_config(config: MkDocsConfig, cache: VerificationCache) -> MkDocsConfig:
    """Prepare a build: make paths independent of the working folder, reset the build state."""
    global _state
    root = Path(config.config_file_path).resolve().parent
    if str(root) not in sys.path:
        sys.path.append(str(root))
    _absolute_snippet_paths(config, root)
    _add_generated_pages(config)
    _state = BuildState(root, cache)
    return config


def on_pre_build(config: MkDocsConfig, regenerate: bool = False) -> None:
    """Start verifying the kernels, in parallel with the rest of the build.

    With ``regenerate`` (``mkdocs serve``), first bring every generated file up to date with
    the specs, so that editing a spec updates the site live. Only files whose content changed
    are written: the rebuild their change triggers writes nothing, so there is no loop.
    """
    del config
    if regenerate:
        _regenerate_changed(_current().root)
    _current().start_verification()


def _check_worked_example(docs_dir: Path) -> None:
    """Fail the build when the worked example's adjoints or any number the pages state is wrong.

    Every adjoint of the example's backward step is compared with central finite differences
    (relative error ≤ 1e-6); then every number of the example's tables and exercise answers
    with an independent computation of what its heading or exercise names
    (:mod:`lstm_sym.site.stated_numbers`).
    """
    from lstm_sym.docs_render import worked_example

    try:
        errors = worked_example.check()
        checked = stated_numbers.check_snippets(docs_dir)
    except (ValueError, KeyError) as exc:
        raise PluginError(f"lstm_sym: {exc}") from exc
    log.info(
        "lstm_sym: worked example adjoints agree with finite differences (max rel. error %.1e); "
        "%d stated numbers agree with independent computations",
        max(errors.values()),
        checked,
    )


def _regenerate_changed(root: Path) -> None:
    from lstm_sym import regenerate
    from lstm_sym.spec import SpecError

    try:
        files: dict[str, str] = {}
        for artifacts in regenerate.builtin_artifacts(root=root):
            files.update(artifacts.files)
    except SpecError as exc:
        raise PluginError(f"lstm_sym: {exc}") from exc
    written = regenerate.write_files(files, root).written
    if written:
        log.info("lstm_sym: regenerated %s", ", ".join(written))


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the verification page with this build's verification report, and the performance
    page with the committed benchmark results."""
    del files
    if page.file.src_uri == PERFORMANCE_PAGE:
        results = Path(config.config_file_path).parent / performance.RESULTS
        try:
            report = performance.render_markdown(results)
        except (OSError, ValueError, KeyError) as exc:
            raise PluginError(f"lstm_sym: cannot render {results}: {exc}") from exc
        return markdown.replace(performance.MARKER, report)
    if page.file.src_uri != VERIFICATION_PAGE:
        return markdown
    if verification.MARKER not in markdown:
        raise PluginError(
            f"lstm_sym: {VERIFICATION_PAGE} lacks the marker line {verification.MARKER}"
        )
    reports = _current().collect_verification()
    return markdown.replace(verification.MARKER, verification.render_markdown(reports))


#: A Sphinx role as mkdocstrings leaves it: ``:func:`step``` renders as ``:func:<code>step</code>``.
_RST_ROLE = re.compile(r":(?:py:)?(?:data|func|class|meth|attr|mod|obj|exc|const):(<code>)~?")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Turn the Sphinx roles of the generated kernels' docstrings into plain code spans.

    The kernels' docstrings are NumPy style with Sphinx cross-reference roles (``:data:``,
    ``:func:``), which mkdocstrings renders literally; the role prefix is dropped and the name
    stays in its code span.
    """
    del page, config, files
    return _RST_ROLE.sub(r"\1", html)


def on_post_build(config: MkDocsConfig) -> None:
    """Copy MathJax into the built site; fail if verification failed even without its page, or
    if the worked example disagrees with finite differences."""
    state = _current()
    state.collect_verification()
    _check_worked_example(Path(config.docs_dir))
    try:
        mathjax.copy_mathjax(Path(config.site_dir))
    except mathjax.MathJaxNotFoundError as exc:
        raise PluginError(f"lstm_sym: {exc}") from exc


def on_build_error(error: Exception) -> None:
    """Do not leave a verification child running when the build stops early."""
    del error
    if _state is not None:
        _state.cancel()
