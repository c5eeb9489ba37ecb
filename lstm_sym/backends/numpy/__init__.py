"""The NumPy backend: the kernels committed in ``lstm_sym/kernels/`` (one module per cell).

Printer :mod:`.printer` (template ``templates/kernel.py.jinja``); the checks run a rendered
kernel through :func:`.run.configured_kernel`.
"""

from __future__ import annotations

from .. import Backend
from .printer import render_kernel
from .run import BLOCK_SETTINGS, configured_kernel

__all__ = ["BACKEND"]

BACKEND = Backend(
    name="numpy",
    render=render_kernel,
    builtin_path=lambda cell: f"lstm_sym/kernels/{cell}.py",
    user_path=lambda cell: f"{cell}.py",
    load=configured_kernel,
    block_settings=BLOCK_SETTINGS,
)
