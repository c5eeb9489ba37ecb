"""Independent PyTorch implementations of the built-in cells, written by hand from the papers.

These functions are the torch oracle of every cell that torch does not ship as a module
(``lstm``, ``rnn`` and ``gru_torch`` are checked against :class:`torch.nn.LSTM`,
:class:`torch.nn.RNN` and :class:`torch.nn.GRU` themselves). They are **not** generated from
the specs in ``lstm_sym/spec/cells/``: each one transcribes the published equations, in the
published notation, with torch's own ``sigmoid``, ``tanh`` and matrix products, and autograd
differentiates them. A mistake in a spec, in the derivation or in the kernel renderer
therefore shows up as a disagreement between two programs that share nothing but the
parameter layout.

Sources:

* GRU: Cho et al. (2014), "Learning Phrase Representations using RNN Encoder–Decoder",
  eqs. (5)–(8), as drawn in Olah (2015), "Understanding LSTM Networks".
* Coupled LSTM: Olah (2015), the variant "coupled forget and input gates".
* Peephole LSTM and its variants: Greff, Srivastava, Koutník, Steunebrink & Schmidhuber
  (2017), "LSTM: A Search Space Odyssey", section 2 (vanilla LSTM) and section 3.1 (NIG, NFG,
  NOG, NIAF, NOAF, CIFG, FGR; NP is the lecture's LSTM).

The parameter layout is the kernels' (the interface, not the maths): a weight ``W_g`` of a
gate acts on the concatenation ``[h_{t-1}, x_t]``, ``h`` columns first; below it is split
into Greff's input weights ``W`` (on ``x``) and recurrent weights ``R`` (on ``y = h``) before
use, so each reference reads like its paper. Every function takes

* ``xs`` — tensor (T, B, D),
* ``params`` — mapping of the kernel's parameter names to tensors,
* ``state`` — mapping of the kernel's state names to (B, H) tensors,

and returns ``(hs, final)``: the hidden state of every step, (T, B, H), and the final state
keyed like ``state``. Importing this module needs PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

__all__ = ["REFERENCES", "Reference"]

Tensor = torch.Tensor
#: A reference cell: ``(xs, params, state) -> (hs, final_state)``.
Reference = Callable[
    [Tensor, Mapping[str, Tensor], Mapping[str, Tensor]], tuple[Tensor, dict[str, Tensor]]
]


def _split(weight: Tensor, hidden_size: int) -> tuple[Tensor, Tensor]:
    """Split a kernel weight acting on ``[h, x]`` into Greff's ``(R, W)``: on ``h``, on ``x``."""
    return weight[:, :hidden_size], weight[:, hidden_size:]


def _affine(
    params: Mapping[str, Tensor], gate: str, x: Tensor, y: Tensor, hidden_size: int
) -> Tensor:
    """Greff's ``W_g x + R_g y + b_g`` for one gate, the weights read from ``W_<gate>``."""
    R, W = _split(params[f"W_{gate}"], hidden_size)
    return x @ W.T + y @ R.T + params[f"b_{gate}"]


def gru(
    xs: Tensor, params: Mapping[str, Tensor], state: Mapping[str, Tensor]
) -> tuple[Tensor, dict[str, Tensor]]:
    """Cho et al.'s GRU: ``h = (1 − z) h_{t−1} + z h̃``, ``h̃ = tanh(W [r ⊙ h_{t−1}, x])``."""
    h = state["h"]
    H = h.shape[1]
    outputs = []
    for x in xs:
        z = torch.sigmoid(_affine(params, "z", x, h, H))
        r = torch.sigmoid(_affine(params, "r", x, h, H))
        U, W = _split(params["W_h"], H)
        h_tilde = torch.tanh(x @ W.T + (r * h) @ U.T + params["b_h"])
        h = (1 - z) * h + z * h_tilde
        outputs.append(h)
    return torch.stack(outputs), {"h": h}


def coupled_lstm(
    xs: Tensor, params: Mapping[str, Tensor], state: Mapping[str, Tensor]
) -> tuple[Tensor, dict[str, Tensor]]:
    """Olah's coupled LSTM: ``C = f ⊙ C_{t−1} + (1 − f) ⊙ C̃``, no input gate."""
    h, c = state["h"], state["C"]
    H = h.shape[1]
    outputs = []
    for x in xs:
        f = torch.sigmoid(_affine(params, "f", x, h, H))
        c_tilde = torch.tanh(_affine(params, "C", x, h, H))
        c = f * c + (1 - f) * c_tilde
        o = torch.sigmoid(_affine(params, "o", x, h, H))
        h = o * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs), {"h": h, "C": c}


def _greff(
    xs: Tensor,
    params: Mapping[str, Tensor],
    state: Mapping[str, Tensor],
    *,
    variant: str = "vanilla",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Greff et al.'s vanilla LSTM (section 2) and its variants (section 3.1).

    In the paper's notation, with ``y`` the block output (our ``h``), ``c`` the cell (our
    ``C``), ``g = h = tanh``::

        z̄ = W_z x + R_z y⁻ + b_z                 z = g(z̄)               block input
        ī = W_i x + R_i y⁻ + p_i ⊙ c⁻ + b_i       i = σ(ī)               input gate
        f̄ = W_f x + R_f y⁻ + p_f ⊙ c⁻ + b_f       f = σ(f̄)               forget gate
        c = z ⊙ i + c⁻ ⊙ f                                               cell
        ō = W_o x + R_o y⁻ + p_o ⊙ c + b_o        o = σ(ō)               output gate
        y = h(c) ⊙ o                                                     block output

    Variants: NIG i = 1, NFG f = 1, NOG o = 1, NIAF g(x) = x, NOAF h(x) = x, CIFG
    f = 1 − i, FGR adds ``R_{*g} *⁻`` for * in (i, f, o) to each gate's pre-activation ḡ.
    """
    y, c = state["h"], state["C"]
    H = y.shape[1]
    gates_prev = {g: state[g] for g in ("i", "f", "o")} if variant == "fgr" else {}
    outputs = []

    def recurrent_gates(gate: str) -> Tensor | int:
        """FGR: ``R_{ig} i⁻ + R_{fg} f⁻ + R_{og} o⁻``; the blocks follow W_<gate>'s [h, x]."""
        if variant != "fgr":
            return 0
        weight = params[f"W_{gate}"]
        D = weight.shape[1] - 4 * H
        R_i = weight[:, H + D : 2 * H + D]
        R_f = weight[:, 2 * H + D : 3 * H + D]
        R_o = weight[:, 3 * H + D : 4 * H + D]
        return gates_prev["i"] @ R_i.T + gates_prev["f"] @ R_f.T + gates_prev["o"] @ R_o.T

    def affine(gate: str, x: Tensor) -> Tensor:
        weight = params[f"W_{gate}"]
        if variant == "fgr" and gate != "C":
            D = weight.shape[1] - 4 * H
            R, W = weight[:, :H], weight[:, H : H + D]
            return x @ W.T + y @ R.T + params[f"b_{gate}"]
        return _affine(params, gate, x, y, H)

    for x in xs:
        z_bar = affine("C", x)
        z = z_bar if variant == "niaf" else torch.tanh(z_bar)
        if variant == "nig":
            i: Tensor | int = 1
        else:
            i = torch.sigmoid(affine("i", x) + params["p_i"] * c + recurrent_gates("i"))
        if variant == "nfg":
            f: Tensor | int = 1
        elif variant == "cifg":
            f = 1 - i
        else:
            f = torch.sigmoid(affine("f", x) + params["p_f"] * c + recurrent_gates("f"))
        c = z * i + c * f
        if variant == "nog":
            o: Tensor | int = 1
        else:
            o = torch.sigmoid(affine("o", x) + params["p_o"] * c + recurrent_gates("o"))
        y = (c if variant == "noaf" else torch.tanh(c)) * o
        if variant == "fgr":
            assert isinstance(i, Tensor) and isinstance(f, Tensor) and isinstance(o, Tensor)
            gates_prev = {"i": i, "f": f, "o": o}
        outputs.append(y)
    final = {"h": y, "C": c, **gates_prev}
    return torch.stack(outputs), final


def _variant(name: str) -> Reference:
    def reference(
        xs: Tensor, params: Mapping[str, Tensor], state: Mapping[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        return _greff(xs, params, state, variant=name)

    reference.__name__ = f"lstm_{name}" if name != "vanilla" else "peephole_lstm"
    reference.__doc__ = f"Greff et al.'s {name.upper()} LSTM (see :func:`_greff`)."
    return reference


#: Hand-written reference per cell name.
REFERENCES: dict[str, Reference] = {
    "gru": gru,
    "coupled_lstm": coupled_lstm,
    "peephole_lstm": _variant("vanilla"),
    "lstm_nig": _variant("nig"),
    "lstm_nfg": _variant("nfg"),
    "lstm_nog": _variant("nog"),
    "lstm_niaf": _variant("niaf"),
    "lstm_noaf": _variant("noaf"),
    "lstm_cifg": _variant("cifg"),
    "lstm_fgr": _variant("fgr"),
}
