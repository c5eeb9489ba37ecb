"""MkDocs hooks of the lstm_sym site (listed under ``hooks:`` in ``mkdocs.yml``).

MkDocs imports this file by path, once per process: ``mkdocs serve`` keeps the first import
for every rebuild. So this module holds no logic. At the start of each build
(:func:`on_config`) it re-imports :mod:`lstm_sym.site.events` and the modules it uses, and every
event is forwarded to the fresh code. The only state kept here is the verification cache, so a
rebuild whose package sources did not change does not verify the kernels again.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

#: Implementation modules, reloaded in dependency order at the start of every build.
_MODULES = (
    "lstm_sym.site.mathjax",
    "lstm_sym.site.performance",
    "lstm_sym.site.stated_numbers",
    "lstm_sym.site.verification",
    "lstm_sym.site.events",
)

#: Verification results by source fingerprint; survives reloads of the implementation modules.
_VERIFICATION_CACHE: dict[str, Any] = {}

_events: ModuleType | None = None

#: The MkDocs command of this process ("build", "serve", "gh-deploy"), set by on_startup.
_command: str | None = None


def _reload(config: MkDocsConfig) -> ModuleType:
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.append(root)
    module: ModuleType | None = None
    for name in _MODULES:
        if name in sys.modules:
            module = importlib.reload(sys.modules[name])
        else:
            module = importlib.import_module(name)
    assert module is not None
    return module


def _impl() -> ModuleType:
    if _events is None:
        from mkdocs.exceptions import PluginError

        raise PluginError("lstm_sym: site hooks used before on_config")
    return _events


def on_startup(command: str, dirty: bool) -> None:
    """Remember whether this process serves the site (then specs are regenerated live)."""
    global _command
    del dirty
    _command = command


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Reload the site code and prepare the build."""
    global _events
    _events = _reload(config)
    result: MkDocsConfig = _events.on_config(config, cache=_VERIFICATION_CACHE)
    return result


def on_pre_build(config: MkDocsConfig) -> None:
    """Under ``mkdocs serve``, regenerate from the specs; then start verifying the kernels."""
    _impl().on_pre_build(config, regenerate=_command == "serve")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the verification page."""
    result: str = _impl().on_page_markdown(markdown, page=page, config=config, files=files)
    return result


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Render the reStructuredText roles left in API docstrings as code."""
    result: str = _impl().on_page_content(html, page=page, config=config, files=files)
    return result


def on_post_build(config: MkDocsConfig) -> None:
    """Copy MathJax into the site and check the verification result."""
    _impl().on_post_build(config)


def on_build_error(error: Exception) -> None:
    """Stop a running verification."""
    if _events is not None:
        _events.on_build_error(error)
