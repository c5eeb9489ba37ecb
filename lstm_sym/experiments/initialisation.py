"""Gate-bias initialisations compared by the far-context sweep.

The kernels draw every parameter uniformly from ±1/√H (:func:`init_params`). The
initialisations here only overwrite biases of the gate that *keeps* the old memory:

- ``"forget_bias_0"`` / ``"forget_bias_1"``: the LSTM's ``b_f`` set to 0 or 1 (the common
  recommendation of Gers et al., 2000, and Jozefowicz et al., 2015, is 1);
- ``"chrono"``: Tallec & Ollivier (ICLR 2018), *Can recurrent neural networks warp time?* The
  keep gate's bias is ``log u`` with ``u ~ U[1, T_max − 1]`` drawn per unit, so that unit ``j``
  starts with a memory time scale of about ``u_j`` steps; where a separate write gate exists
  (the LSTM's input gate) its bias is the negative, ``b_i = −b_f``;
- two ablations of chrono, to tell its three parts apart: ``"chrono_forget_only"`` sets the
  keep bias as chrono does but leaves the write bias as the kernel drew it, and
  ``"chrono_fixed_tmax"`` sets both biases as chrono does but with ``T_max`` fixed at
  :data:`FIXED_T_MAX` instead of the sequence length.

The keep gate is named differently per cell, and one of the GRU forms writes with the gate
that the other keeps with:

==============  ========================  ==============================
cell            keep gate                 chrono sets
==============  ========================  ==============================
lstm            ``f = σ(a_f)``            ``b_f = log u``, ``b_i = −b_f``
peephole_lstm   ``f = σ(a_f)``            ``b_f = log u``, ``b_i = −b_f``
coupled_lstm    ``f`` (writes ``1 − f``)  ``b_f = log u``
gru             ``1 − z = σ(−a_z)``       ``b_z = −log u``
gru_torch       ``z = σ(a_z)``            ``b_z = log u``
==============  ========================  ==============================

In the coupled LSTM and both GRUs the write gate is one minus the keep gate, so chrono's
``b_i = −b_f`` holds by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FIXED_T_MAX",
    "INITIALISATIONS",
    "KEEP_GATES",
    "KeepGate",
    "apply_init",
    "chrono_bias",
]

#: ``T_max`` of the ``"chrono_fixed_tmax"`` ablation, whatever the sequence length: chrono as it
#: would be set up for sequences of about 100 steps.
FIXED_T_MAX = 100

#: Accepted values of ``init`` in :func:`apply_init`, with a one-line description.
INITIALISATIONS = {
    "default": "every parameter uniform in ±1/√H, as the kernel's init_params draws it",
    "forget_bias_0": "kernel init, then b_f = 0",
    "forget_bias_1": "kernel init, then b_f = 1",
    "chrono": (
        "kernel init, then the keep gate's bias = log u, u ~ U[1, T_max − 1] per unit, "
        "T_max = N + 2 (Tallec & Ollivier, 2018); the LSTM's b_i = −b_f"
    ),
    "chrono_forget_only": (
        "kernel init, then the keep gate's bias = log u, u ~ U[1, T_max − 1] per unit, "
        "T_max = N + 2; the LSTM's b_i left as the kernel drew it (uniform in ±1/√H)"
    ),
    "chrono_fixed_tmax": (
        f"kernel init, then the keep gate's bias = log u, u ~ U[1, T_max − 1] per unit, "
        f"T_max = {FIXED_T_MAX} whatever N; the LSTM's b_i = −b_f"
    ),
}


@dataclass(frozen=True)
class KeepGate:
    """Where a cell's keep gate lives.

    Attributes
    ----------
    bias : str
        Name of the bias of the gate pre-activation.
    sign : int
        +1 if the gate *keeps* the old state with ``σ(a)``; −1 if it keeps with ``1 − σ(a)``.
    write_bias : str or None
        Bias of a separate write (input) gate, set to minus the keep bias by chrono.
    """

    bias: str
    sign: int
    write_bias: str | None = None


#: The keep gate of every cell that has one.
KEEP_GATES = {
    "lstm": KeepGate("b_f", +1, "b_i"),
    "peephole_lstm": KeepGate("b_f", +1, "b_i"),
    "coupled_lstm": KeepGate("b_f", +1),
    "gru": KeepGate("b_z", -1),
    "gru_torch": KeepGate("b_z", +1),
}


def chrono_bias(hidden_size: int, t_max: int, rng: np.random.Generator) -> np.ndarray:
    """Draw chrono keep-gate biases ``log u``, ``u ~ U[1, T_max − 1]``, one per unit.

    Parameters
    ----------
    hidden_size : int
        ``H``.
    t_max : int
        The longest dependency the cell should be able to hold at the start, ``>= 2``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (H,)
        Float64 values in ``[0, log(T_max − 1)]``.
    """
    if t_max < 2:
        raise ValueError(f"t_max must be >= 2; got {t_max}")
    return np.log(rng.uniform(1.0, t_max - 1.0, size=hidden_size))


def apply_init(
    cell: str,
    params: dict[str, np.ndarray],
    init: str,
    t_max: int,
    rng: np.random.Generator,
) -> None:
    """Overwrite the gate biases of ``params`` in place according to ``init``.

    Parameters
    ----------
    cell : str
        Kernel name (selects the keep gate, see :data:`KEEP_GATES`).
    params : dict of str to numpy.ndarray
        Parameters drawn by the kernel's ``init_params``; changed in place.
    init : str
        One of :data:`INITIALISATIONS`.
    t_max : int
        ``T_max`` of chrono, the sequence length (ignored otherwise, and by
        ``"chrono_fixed_tmax"``, which uses :data:`FIXED_T_MAX`).
    rng : numpy.random.Generator
        Source of chrono's draws.

    Raises
    ------
    ValueError
        For an unknown ``init``, or one the cell has no gate for.
    """
    if init not in INITIALISATIONS:
        raise ValueError(f"init must be one of {sorted(INITIALISATIONS)}; got {init!r}")
    if init == "default":
        return
    gate = KEEP_GATES.get(cell)
    if gate is None:
        raise ValueError(f"init {init!r} needs a keep gate; cell {cell!r} has none")
    if init.startswith("forget_bias_"):
        if gate.bias != "b_f":
            raise ValueError(f"init {init!r} sets b_f; cell {cell!r} has no forget gate b_f")
        params["b_f"][...] = float(init.removeprefix("forget_bias_"))
        return
    if init == "chrono_fixed_tmax":
        t_max = FIXED_T_MAX
    keep = chrono_bias(params[gate.bias].shape[0], t_max, rng)
    params[gate.bias][...] = gate.sign * keep
    if gate.write_bias is not None and init != "chrono_forget_only":
        params[gate.write_bias][...] = -params[gate.bias]
