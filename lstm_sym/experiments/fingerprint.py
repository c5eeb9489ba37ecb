"""A fingerprint of what produces the far-context numbers: code, kernels and settings.

The fingerprint is the SHA-256 of a canonical JSON text that lists, by content, every source
file that decides one run's record — the experiment's computational modules
(:data:`EXPERIMENT_MODULES`), the training pieces they use (:data:`TRAINING_MODULES`) and the
generated kernel of every cell the sweep trains — together with the per-run settings. The
page, the figures, the progress display and the file I/O of :mod:`lstm_sym.training.io` are
left out: they do not change a number.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .runs import SweepConfig

__all__ = ["EXPERIMENT_MODULES", "TRAINING_MODULES", "fingerprint", "fingerprint_files"]

_PACKAGE = Path(__file__).resolve().parent.parent

#: Modules of :mod:`lstm_sym.experiments` that decide a run's record.
EXPERIMENT_MODULES = (
    "experiments/runs.py",
    "experiments/task.py",
    "experiments/train.py",
    "experiments/initialisation.py",
    "experiments/diagnostics.py",
    "experiments/saliency.py",
    "experiments/fingerprint.py",
)
#: Modules of :mod:`lstm_sym.training` that the runs call.
TRAINING_MODULES = ("training/optim.py", "training/readout.py")


def fingerprint_files(sweep: SweepConfig) -> list[str]:
    """Paths, relative to the ``lstm_sym`` package, of every file the fingerprint hashes."""
    cells = sorted({v.cell for v in sweep.variants})
    return [*EXPERIMENT_MODULES, *TRAINING_MODULES, *(f"kernels/{cell}.py" for cell in cells)]


def fingerprint(sweep: SweepConfig, package: Path | None = None) -> dict[str, Any]:
    """Hash the code and the settings that decide the runs of ``sweep``.

    Parameters
    ----------
    sweep : SweepConfig
    package : pathlib.Path, optional
        Folder of the ``lstm_sym`` package to read (default: the one imported).

    Returns
    -------
    dict
        ``"sha256"`` (hex), ``"files"`` (path → SHA-256 of its bytes) and ``"settings"``.
    """
    root = package if package is not None else _PACKAGE
    files = {
        path: hashlib.sha256((root / path).read_bytes()).hexdigest()
        for path in fingerprint_files(sweep)
    }
    settings = sweep.run_settings()
    canonical = json.dumps({"files": files, "settings": settings}, sort_keys=True)
    return {
        "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        "files": files,
        "settings": settings,
    }
