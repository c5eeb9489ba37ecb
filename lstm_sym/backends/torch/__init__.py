"""The PyTorch backend: a whole-sequence ``torch.autograd.Function`` and ``nn.Module`` per cell.

Printer :mod:`.printer` (template ``templates/module.py.jinja``) prints a plan without
halved sigmoid rows (torch has a fused sigmoid). The built-in cells' modules are committed
in :mod:`lstm_sym.torch_kernels`; a user cell's is written beside its NumPy kernel as
``<cell>_torch.py``. Each imports only torch; use them through :mod:`lstm_sym.nn`.
The checks run a rendered module through :func:`.run.configured_module` (torch imported
then, not when this package is).
"""

from __future__ import annotations

from .. import Backend
from .printer import TORCH_KERNELS_DIR, render_torch_module
from .run import BLOCK_SETTINGS, configured_module, torch_missing

__all__ = ["BACKEND", "TORCH_KERNELS_DIR", "render_torch_module"]

BACKEND = Backend(
    name="torch",
    render=render_torch_module,
    builtin_path=lambda cell: f"{TORCH_KERNELS_DIR}/{cell}.py",
    user_path=lambda cell: f"{cell}_torch.py",
    load=configured_module,
    block_settings=BLOCK_SETTINGS,
    halve_sigmoid_rows=False,
    unavailable=torch_missing,
)
