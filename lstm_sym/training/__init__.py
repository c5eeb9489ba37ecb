"""Small public pieces for training a model built from the kernels.

* `lstm_sym.training.optim` — `SGD` (with momentum), `Adam`,
  `clip_global_norm`, `global_norm`, all over a dict of parameter arrays;
* `lstm_sym.training.readout` — a linear layer plus softmax cross-entropy, with its
  gradient;
* `lstm_sym.training.io` — `save` / `load` of parameters and metadata in one
  ``.npz`` file (no pickle), validated on load.

With `lstm_sym.layers.Stack` they make a complete training loop; see the "Train a
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
