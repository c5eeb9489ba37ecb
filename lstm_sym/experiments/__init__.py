"""Experiments that measure the lecture's claims with the generated kernels.

- :mod:`~lstm_sym.experiments.task`: the far-context task (state, fillers, *I know* → language).
- :mod:`~lstm_sym.experiments.readout`, :mod:`~lstm_sym.experiments.adam`: softmax read-out
  and Adam, written here; the recurrent cells are the generated kernels, untouched.
- :mod:`~lstm_sym.experiments.train`, :mod:`~lstm_sym.experiments.diagnostics`: training and
  what a trained cell does inside.
- :mod:`~lstm_sym.experiments.long_context`: the sweep behind
  ``lstm-sym experiment long-context``; :mod:`~lstm_sym.experiments.plots` draws it.
"""

from __future__ import annotations

__all__ = ["EXPERIMENTS"]

#: Names accepted by ``lstm-sym experiment``.
EXPERIMENTS = ("long-context",)
