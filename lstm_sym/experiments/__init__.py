"""Experiments that measure the lecture's claims with the generated kernels.

- :mod:`~lstm_sym.experiments.task`: the far-context task (state, fillers, *I know* → language).
- The read-out, Adam and clipping are the public pieces of :mod:`lstm_sym.training`; the
  recurrent cells are the generated kernels, untouched.
- :mod:`~lstm_sym.experiments.initialisation`: gate-bias initialisations (b_f = 0 or 1,
  chrono) applied to the keep gate of each cell.
- :mod:`~lstm_sym.experiments.train`, :mod:`~lstm_sym.experiments.diagnostics`: training with
  early stopping, and what a cell does inside (keep gates, gradients by distance).
- :mod:`~lstm_sym.experiments.stats`: 95 % t-intervals and success rates over seeds.
- :mod:`~lstm_sym.experiments.long_context`: the sweep behind
  ``lstm-sym experiment long-context``; :mod:`~lstm_sym.experiments.plots` draws it and
  :mod:`~lstm_sym.experiments.page` writes its page from ``results.json``.
"""

from __future__ import annotations

__all__ = ["EXPERIMENTS"]

#: Names accepted by ``lstm-sym experiment``.
EXPERIMENTS = ("long-context",)
