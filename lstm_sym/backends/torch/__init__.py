"""PyTorch backend: a whole-sequence ``torch.autograd.Function`` and ``nn.Module`` per cell.

:func:`render_torch_module` prints one cell's derivation as a Python module that imports
only torch (:mod:`lstm_sym.torch_kernels` holds those of the built-in cells);
:func:`torch_module_files` names the file for a regeneration.
"""

from __future__ import annotations

from .printer import TORCH_KERNELS_DIR, render_torch_module, torch_module_files

__all__ = ["TORCH_KERNELS_DIR", "render_torch_module", "torch_module_files"]
