"""The runs of the far-context sweep: which variants, lengths and seeds, and one run's record.

Everything that decides the numbers of one run lives here or in the modules it calls (task,
training, initialisation, diagnostics, saliency, the kernels); :mod:`.fingerprint` hashes
exactly those files, and the runner caches each run's record under that hash.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .diagnostics import gradient_norms_by_distance, keep_gate_summary
from .saliency import input_saliency, saliency_summary
from .train import TrainConfig, train

__all__ = [
    "FULL",
    "QUICK",
    "VARIANTS",
    "SweepConfig",
    "Variant",
    "held_out_seeds",
    "run_one",
]


@dataclass(frozen=True)
class Variant:
    """One line of the comparison: a kernel and how its gate biases start.

    Attributes
    ----------
    name : str
        Key in ``results.json``.
    cell : str
        Kernel name (:func:`lstm_sym.kernels.load_kernel`).
    init : str
        Gate-bias initialisation (:data:`~lstm_sym.experiments.initialisation.INITIALISATIONS`).
    label : str
        Name in plots and tables.
    """

    name: str
    cell: str
    init: str
    label: str


#: Every variant the sweep trains, in plotting order.
VARIANTS = (
    Variant("rnn", "rnn", "default", "RNN"),
    Variant("lstm_bf0", "lstm", "forget_bias_0", "LSTM, b_f = 0"),
    Variant("lstm_bf1", "lstm", "forget_bias_1", "LSTM, b_f = 1"),
    Variant("lstm_chrono", "lstm", "chrono", "LSTM, chrono"),
    Variant("gru_chrono", "gru", "chrono", "GRU, chrono"),
    Variant("coupled_lstm_chrono", "coupled_lstm", "chrono", "coupled LSTM, chrono"),
    Variant("lstm_chrono_forget_only", "lstm", "chrono_forget_only", "LSTM, chrono b_f only"),
    Variant("lstm_chrono_fixed_tmax", "lstm", "chrono_fixed_tmax", "LSTM, chrono, T_max = 100"),
)


@dataclass(frozen=True)
class SweepConfig:
    """Which runs a sweep makes.

    Attributes
    ----------
    fillers : tuple of int
        Filler lengths ``N``.
    seeds : tuple of int
        Seeds per (variant, N); each seeds the initial parameters and the training batches.
    train : TrainConfig
        Sizes, optimiser and stopping settings, the same for every variant.
    diagnostic_filler : int
        ``N`` of the runs (every seed) whose gradient norms and keep gates are recorded.
    diagnostic_batch : int
        Held-out sequences used for those diagnostics.
    saliency_fillers : tuple of int
        ``N`` of the runs (every seed) whose input saliency after training is recorded.
    saliency_batch : int
        Held-out sequences of the saliency.
    variants : tuple of Variant
    only : tuple of (str, tuple of int)
        Variants trained at a subset of ``fillers`` only: ``(name, lengths)`` pairs.
    quick : bool
        Whether this is the smoke test.
    """

    fillers: tuple[int, ...] = (10, 30, 100, 300, 1000)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    train: TrainConfig = field(default_factory=TrainConfig)
    diagnostic_filler: int = 100
    diagnostic_batch: int = 256
    saliency_fillers: tuple[int, ...] = (100, 1000)
    saliency_batch: int = 256
    variants: tuple[Variant, ...] = VARIANTS
    only: tuple[tuple[str, tuple[int, ...]], ...] = (
        ("lstm_bf0", (10, 30, 100, 300)),
        ("lstm_chrono_forget_only", (300, 1000)),
        ("lstm_chrono_fixed_tmax", (300, 1000)),
    )
    quick: bool = False

    def fillers_of(self, variant: str) -> tuple[int, ...]:
        """The filler lengths at which ``variant`` is trained."""
        subset = dict(self.only).get(variant)
        return self.fillers if subset is None else tuple(n for n in self.fillers if n in subset)

    def runs(self) -> list[tuple[Variant, int, int]]:
        """Every (variant, N, seed) of the sweep, in plotting order."""
        return [
            (v, n, s) for v in self.variants for n in self.fillers_of(v.name) for s in self.seeds
        ]

    def run_settings(self) -> dict[str, Any]:
        """The settings that decide one run's record (not which runs the sweep makes)."""
        from dataclasses import asdict

        return {
            "train": asdict(self.train),
            "diagnostic_filler": self.diagnostic_filler,
            "diagnostic_batch": self.diagnostic_batch,
            "saliency_fillers": list(self.saliency_fillers),
            "saliency_batch": self.saliency_batch,
        }


#: The committed sweep.
FULL = SweepConfig()
#: The smoke test: tiny cells, two short lengths, two seeds, a few dozen steps.
QUICK = SweepConfig(
    fillers=(4, 8),
    seeds=(0, 1),
    train=TrainConfig(
        hidden_size=8,
        batch_size=16,
        steps=30,
        check_every=10,
        validation_size=64,
        test_size=100,
    ),
    diagnostic_filler=8,
    diagnostic_batch=32,
    saliency_fillers=(8,),
    saliency_batch=32,
    only=(),
    quick=True,
)


def held_out_seeds(n_filler: int) -> tuple[list[int], list[int]]:
    """Seeds of the validation and test sets of length ``N``: the same for every run."""
    return [10_000, n_filler], [30_000, n_filler]


def run_one(variant: Variant, n_filler: int, seed: int, sweep: SweepConfig) -> dict[str, Any]:
    """Train one (variant, N, seed) and return its record as plain data.

    Returns
    -------
    dict
        ``"accuracy"``, ``"final_loss"``, ``"steps_run"``, ``"curve_steps"``,
        ``"curve_accuracy"``, ``"cpu_s"`` (CPU seconds of this process), plus
        ``"diagnostics"`` at ``sweep.diagnostic_filler`` and ``"saliency"`` at
        ``sweep.saliency_fillers``.
    """
    from ..kernels import load_kernel

    started = time.process_time()
    kernel = load_kernel(variant.cell)
    config = sweep.train
    task = config.task(n_filler)
    validation_seed, test_seed = held_out_seeds(n_filler)
    validation = task.sample(config.validation_size, np.random.default_rng(validation_seed))
    test = task.sample(config.test_size, np.random.default_rng(test_seed))
    result = train(kernel, n_filler, seed, config, validation, test, variant.init)
    record: dict[str, Any] = {
        "accuracy": result.accuracy,
        "final_loss": result.final_loss,
        "steps_run": result.steps_run,
        "curve_steps": result.curve_steps,
        "curve_accuracy": result.curve_accuracy,
    }
    if n_filler == sweep.diagnostic_filler:
        probe = task.sample(sweep.diagnostic_batch, np.random.default_rng([20_000, n_filler]))
        record["diagnostics"] = {
            moment: {
                "gradient_norms": gradient_norms_by_distance(
                    kernel, model["params"], model["readout"], probe
                ),
                "keep_gate": keep_gate_summary(kernel, model["params"], probe),
            }
            for moment, model in (("init", result.initial), ("trained", result.trained))
        }
    if n_filler in sweep.saliency_fillers:
        probe = task.sample(sweep.saliency_batch, np.random.default_rng([40_000, n_filler]))
        trained = result.trained
        profile = input_saliency(kernel, trained["params"], trained["readout"], probe)
        record["saliency"] = saliency_summary(profile)
    record["cpu_s"] = time.process_time() - started
    return record
