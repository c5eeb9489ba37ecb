"""Small public pieces for training a model built from the kernels.

* :mod:`~lstm_sym.training.optim` — :class:`SGD` (with momentum), :class:`Adam`,
  :func:`clip_global_norm`, :func:`global_norm`, all over a dict of parameter arrays;
* :mod:`~lstm_sym.training.readout` — a linear layer plus softmax cross-entropy, with its
  gradient;
* :mod:`~lstm_sym.training.io` — :func:`save` / :func:`load` of parameters and metadata in one
  ``.npz`` file (no pickle), validated on load.

With :class:`lstm_sym.layers.Stack` they make a complete training loop; see the "Train a
model" page of the documentation and ``examples/train_char_model.py``.
"""

from __future__ import annotations

from .io import ModelFileError, load, save
from .optim import SGD, Adam, clip_global_norm, global_norm
from .readout import ReadoutLoss, init_readout, readout_logits, readout_loss, softmax

__all__ = [
    "SGD",
    "Adam",
    "ModelFileError",
    "ReadoutLoss",
    "clip_global_norm",
    "global_norm",
    "init_readout",
    "load",
    "readout_logits",
    "readout_loss",
    "save",
    "softmax",
]
