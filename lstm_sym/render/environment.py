"""The Jinja2 environment shared by every template of the package."""

from __future__ import annotations

from functools import cache

import jinja2

__all__ = ["template_environment"]


@cache
def template_environment() -> jinja2.Environment:
    """Return the environment loading ``lstm_sym/render/templates`` (strict undefineds)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lstm_sym.render", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
