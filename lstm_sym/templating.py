"""The Jinja2 environment every template of the package is loaded with."""

from __future__ import annotations

from functools import cache

import jinja2

__all__ = ["template_environment"]


@cache
def template_environment(package: str) -> jinja2.Environment:
    """Return the environment loading ``<package>/templates`` (strict undefineds).

    Parameters
    ----------
    package : str
        Dotted name of the package whose ``templates`` folder holds the templates
        (``"lstm_sym.backends.numpy"``, ``"lstm_sym.docs_render"``, …).
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
