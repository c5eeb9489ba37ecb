"""Serve MathJax 3 from the built site: copy it from the installed ``django-static-mathjax``.

The site must not load anything from a CDN, and MathJax (megabytes of JavaScript and fonts) is
not committed to the repository. The pip package ``django-static-mathjax`` ships the MathJax
3.2.2 distribution as package data; :func:`copy_mathjax` copies the parts the site needs into
``<site_dir>/assets/mathjax`` after every build.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

__all__ = ["MATHJAX_PARTS", "MATHJAX_VERSION", "copy_mathjax", "mathjax_source_dir"]

#: The MathJax version the site is configured and tested against.
MATHJAX_VERSION = "3.2.2"

#: Paths below MathJax's ``es5/`` folder that the site needs: the combined TeX-to-CHTML
#: component, its web fonts, the TeX extensions it autoloads on demand (``\boldsymbol``,
#: ``\cancel`` …), and the menu's accessibility add-ons (loaded only when a reader enables them).
MATHJAX_PARTS: tuple[str, ...] = (
    "tex-chtml.js",
    "output/chtml/fonts/woff-v2",
    "input/tex/extensions",
    "ui",
    "a11y",
    "sre",
)


class MathJaxNotFoundError(RuntimeError):
    """Raised when the MathJax files cannot be found in the installed packages."""


def mathjax_source_dir() -> Path:
    """Return the ``es5`` folder of the MathJax distribution shipped by django-static-mathjax.

    Returns
    -------
    pathlib.Path
        The folder that holds ``tex-chtml.js``.

    Raises
    ------
    MathJaxNotFoundError
        If the package is not installed, or ships another MathJax version.
    """
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise MathJaxNotFoundError(
            "MathJax not found: install the docs extra (pip install -e '.[docs]'), "
            "which provides django-static-mathjax"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    root = package_dir / "static" / "mathjax"
    es5 = root / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise MathJaxNotFoundError(f"MathJax not found: {es5 / 'tex-chtml.js'} does not exist")
    version = json.loads((root / "package.json").read_text(encoding="utf-8")).get("version")
    if version != MATHJAX_VERSION:
        raise MathJaxNotFoundError(
            f"MathJax {MATHJAX_VERSION} expected, django-static-mathjax ships {version}"
        )
    return es5


def copy_mathjax(site_dir: Path, source: Path | None = None) -> Path:
    """Copy the MathJax files the site needs into ``<site_dir>/assets/mathjax``.

    Parameters
    ----------
    site_dir
        The folder MkDocs builds the site into.
    source
        MathJax's ``es5`` folder; found with :func:`mathjax_source_dir` when omitted.

    Returns
    -------
    pathlib.Path
        The destination folder.
    """
    es5 = mathjax_source_dir() if source is None else source
    dest = site_dir / "assets" / "mathjax"
    dest.mkdir(parents=True, exist_ok=True)
    for part in MATHJAX_PARTS:
        src = es5 / part
        target = dest / part
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    licence = es5.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, dest / "LICENSE")
    return dest
