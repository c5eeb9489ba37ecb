"""The site's worked example: a two-unit LSTM with hand-chosen weights, run by the generated kernel.

The network reads seven words of the lecture's examples, *Bob nice Dan evil Bob navy brave*.
Its input is one-hot over four words it cares about (Bob, Dan, navy, brave; every other word
is the zero vector) and its two cell units are chosen to mean something:

- unit 1, **subject**: +1 for Bob, −1 for Dan. A name opens the input gate and closes the
  forget gate of both units, so "Dan" wipes what was stored about Bob;
- unit 2, **served in the navy**: "navy" opens its input gate and writes +1.

"brave" opens the output gate, so the hidden state reveals the subject (and what is known of
them) exactly when the next word is a name: the lecture's "brave Bob".

Every number the pages show is computed here by :mod:`lstm_sym.kernels.lstm` (forward values
from its cache, gradients from :func:`~lstm_sym.kernels.lstm.step_backward`), and the backward
numbers are checked against central finite differences of an independent NumPy forward by
:func:`check`, which the site build runs. ``lstm-sym regenerate`` writes the tables and plots
(:func:`example_files`).
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..generated import html_header

__all__ = [
    "BACKWARD_STEP",
    "OUTPUT_WORDS",
    "TOKENS",
    "VOCABULARY",
    "Backward",
    "Trace",
    "backward_last_step",
    "check",
    "example_files",
    "exercise_answers",
    "fmt",
    "inputs",
    "output_weights",
    "parameters",
    "trace",
]

#: The words the example reads, one per step.
TOKENS = ("Bob", "nice", "Dan", "evil", "Bob", "navy", "brave")
#: The words with an input feature of their own (one-hot); any other word is the zero vector.
VOCABULARY = ("Bob", "Dan", "navy", "brave")
#: The words the output layer scores for the next word; the loss's target is the first.
OUTPUT_WORDS = ("Bob", "Dan", "another word")
#: The step the BPTT page carries backward (1-based): the last, "brave".
BACKWARD_STEP = len(TOKENS)
#: Names of the two cell units.
UNITS = ("subject", "navy")

H, D = 2, len(VOCABULARY)


def fmt(value: float) -> str:
    """How the pages print a number: three decimals, a true minus sign, no ``-0.000``."""
    text = f"{value:.3f}"
    if text in {"-0.000", "0.000"}:
        return "0.000"
    return text.replace("-", "−")


def inputs() -> np.ndarray:
    """The one-hot inputs, shape (T, 1, D)."""
    xs = np.zeros((len(TOKENS), 1, D))
    for t, word in enumerate(TOKENS):
        if word in VOCABULARY:
            xs[t, 0, VOCABULARY.index(word)] = 1.0
    return xs


def parameters() -> dict[str, np.ndarray]:
    """The hand-chosen weights; every ``W`` acts on ``[h_{t-1}, x_t]`` (2 + 4 columns).

    Columns: h₁, h₂ | Bob, Dan, navy, brave.
    """

    def w(rows: list[list[float]]) -> np.ndarray:
        return np.array(rows, dtype=np.float64)

    return {
        # Forget: keep (σ(3) ≈ 0.95) unless a name arrives (σ(3 − 6) ≈ 0.05).
        "W_f": w([[0.5, 0, -6, -6, 0, 0], [0, 0.5, -6, -6, 0, 0]]),
        "b_f": w([[3, 3]])[0],
        # Input: a name writes the subject unit, "navy" writes the navy unit.
        "W_i": w([[0, 0, 6, 6, 0, 0], [0, 0, 0, 0, 6, 0]]),
        "b_i": w([[-3, -3]])[0],
        # Candidate: +1 for Bob, −1 for Dan; +1 for navy; a slight positive lean otherwise.
        "W_C": w([[0, 0, 2, -2, 0, 0], [0, 0, 0, 0, 2, 0]]),
        "b_C": w([[0.1, 0.1]])[0],
        # Output: mostly closed (σ(−2) ≈ 0.12); "brave" opens it (σ(2) ≈ 0.88).
        "W_o": w([[0.5, 0, 0, 0, 0, 4], [0, 0.5, 0, 0, 0, 4]]),
        "b_o": w([[-2, -2]])[0],
    }


def output_weights() -> np.ndarray:
    """Scores of :data:`OUTPUT_WORDS` from the hidden state: logits = V h, shape (3, H).

    A positive subject unit speaks for "Bob", a negative one for "Dan"; knowing that the
    subject served in the navy speaks for "Bob" too.
    """
    return np.array([[3.0, 1.0], [-3.0, 0.0], [0.0, 0.0]])


#: Kernels to run instead of the committed ones, by cell (set by :func:`example_files` to
#: the kernels just rendered).
_RENDERED: dict[str, Any] = {}


def _kernel(cell: str = "lstm") -> Any:
    if cell in _RENDERED:
        return _RENDERED[cell]
    return importlib.import_module(f"lstm_sym.kernels.{cell}")


def _cached(cache: dict[str, Any], name: str) -> np.ndarray:
    try:
        return np.asarray(cache[name])
    except KeyError as exc:
        raise KeyError(f"the lstm kernel's cache has no {name!r}; update worked_example") from exc


@dataclass(frozen=True)
class Trace:
    """Forward values of every step, each (T, H), from the kernel's cache."""

    f: np.ndarray
    i: np.ndarray
    C_tilde: np.ndarray
    o: np.ndarray
    C: np.ndarray
    C_prev: np.ndarray
    h: np.ndarray
    tanh_cell: np.ndarray
    probabilities: np.ndarray


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return np.asarray(shifted / shifted.sum())


def trace() -> Trace:
    """Run the generated LSTM kernel over :data:`TOKENS` and collect every gate's values."""
    lstm = _kernel()
    hs, _, cache = lstm.forward(inputs(), parameters())
    cells = _cached(cache, "C_seq")[:, 0, :]
    h = hs[:, 0, :]
    return Trace(
        f=_cached(cache, "f_seq")[:, 0, :],
        i=_cached(cache, "i_seq")[:, 0, :],
        C_tilde=_cached(cache, "C_tilde_seq")[:, 0, :],
        o=_cached(cache, "o_seq")[:, 0, :],
        C=cells[1:],
        C_prev=cells[:-1],
        h=h,
        tanh_cell=_cached(cache, "tanh_C_seq")[:, 0, :],
        probabilities=np.array([_softmax(output_weights() @ row) for row in h]),
    )


@dataclass(frozen=True)
class Backward:
    """Every adjoint of step :data:`BACKWARD_STEP` for the loss at that step.

    ``adjoints`` maps a name (``h``, ``o``, ``C``, ``C_tilde``, ``i``, ``f``, ``a_f`` …,
    ``h_prev``, ``C_prev``, ``x``) to its (H,) or (D,) vector; ``weights`` maps ``W_f`` … to the
    (H, H + D) weight gradients of the step.
    """

    loss: float
    probabilities: np.ndarray
    adjoints: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]


def _step_state(t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Input (1, D) and state before step ``t`` (1-based), from the kernel's forward."""
    tr = trace()
    x = inputs()[t - 1]
    if t == 1:
        return x, {"h": np.zeros((1, H)), "C": np.zeros((1, H))}
    return x, {"h": tr.h[t - 2][None, :], "C": tr.C[t - 2][None, :]}


def backward_last_step() -> Backward:
    """Carry the loss of the last step back through that step with the kernel.

    The loss is the softmax cross-entropy of the next-word scores ``V h_t`` against "Bob":
    ``δh_t = Vᵀ(p − y)``. The kernel's :func:`step_backward` gives the weight and bias
    gradients (for one step and one sequence, ``δb = δa``), ``δh_{t-1}``, ``δC_{t-1}`` and
    ``δx_t``; the adjoints in between follow the page's equations from the kernel's cached
    forward values.
    """
    lstm = _kernel()
    x, state = _step_state(BACKWARD_STEP)
    after, cache = lstm.step(x, state, parameters())
    h = after["h"][0]
    p = _softmax(output_weights() @ h)
    target = np.zeros(len(OUTPUT_WORDS))
    target[0] = 1.0
    dh = output_weights().T @ (p - target)
    grads = lstm.step_backward({"h": dh[None, :], "C": np.zeros((1, H))}, cache)
    i = _cached(cache, "i_seq")[0, 0]
    c_tilde = _cached(cache, "C_tilde_seq")[0, 0]
    o = _cached(cache, "o_seq")[0, 0]
    tanh_c = _cached(cache, "tanh_C_seq")[0, 0]
    c_prev = state["C"][0]
    dc = dh * o * (1 - tanh_c**2)
    adjoints = {
        "h": dh,
        "o": dh * tanh_c,
        "C": dc,
        "C_tilde": dc * i,
        "i": dc * c_tilde,
        "f": dc * c_prev,
        "a_f": grads["b_f"],
        "a_i": grads["b_i"],
        "a_C": grads["b_C"],
        "a_o": grads["b_o"],
        "h_prev": grads["h_prev"][0],
        "C_prev": grads["C_prev"][0],
        "x": grads["x"][0],
    }
    weights = {name: grads[name] for name in ("W_f", "W_i", "W_C", "W_o")}
    loss = float(-np.log(p[0]))
    return Backward(loss, p, adjoints, weights)


def through_time() -> tuple[np.ndarray, np.ndarray]:
    """The cell state's adjoints for t = T … 0 when only the last step's loss counts.

    Returns ``(carry, total)``, each shape (T + 1, H). ``carry[t]`` is ``δC_t^in``, what step
    ``t + 1`` hands back along the cell state (``δC_{t+1} ⊙ f_{t+1}``; zero at ``t = T``);
    ``total[t]`` is ``δC_t = ∂L/∂C_t``, which adds the path through ``h_t``:
    ``δh_t ⊙ o_t ⊙ (1 − tanh² C_t)``. Row 0 is the initial state. Computed with the kernel's
    :func:`step_backward`, step by step.
    """
    lstm = _kernel()
    params = parameters()
    xs = inputs()
    state = {"h": np.zeros((1, H)), "C": np.zeros((1, H))}
    caches = []
    for t in range(len(TOKENS)):
        state, cache = lstm.step(xs[t], state, params)
        caches.append(cache)
    carry = np.zeros((len(TOKENS) + 1, H))
    total = np.zeros((len(TOKENS) + 1, H))
    last = backward_last_step()
    dstate = {"h": last.adjoints["h"][None, :], "C": np.zeros((1, H))}
    total[-1] = last.adjoints["C"]
    tr = trace()
    for t in range(len(TOKENS) - 1, -1, -1):
        grads = lstm.step_backward(dstate, caches[t])
        dstate = {"h": grads["h_prev"], "C": grads["C_prev"]}
        carry[t] = grads["C_prev"][0]
        through_h = (
            0.0 if t == 0 else grads["h_prev"][0] * tr.o[t - 1] * (1 - tr.tanh_cell[t - 1] ** 2)
        )
        total[t] = carry[t] + through_h
    return carry, total


# --- The check the build runs: finite differences of an independent forward. --------------


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-a)))


def _loss_with_bumps(
    bumps: dict[str, np.ndarray],
    params: dict[str, np.ndarray],
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    x: np.ndarray,
) -> float:
    """The lecture's step in plain NumPy, each value nudged by ``bumps[name]``; returns the loss."""

    def bump(name: str, value: np.ndarray) -> np.ndarray:
        return value + bumps.get(name, 0.0)

    h_prev = bump("h_prev", h_prev)
    c_prev = bump("C_prev", c_prev)
    x = bump("x", x)
    z = np.concatenate([h_prev, x])
    a = {g: bump(f"a_{g}", params[f"W_{g}"] @ z + params[f"b_{g}"]) for g in "fiCo"}
    f = bump("f", _sigmoid(a["f"]))
    i = bump("i", _sigmoid(a["i"]))
    c_tilde = bump("C_tilde", np.tanh(a["C"]))
    c = bump("C", f * c_prev + i * c_tilde)
    o = bump("o", _sigmoid(a["o"]))
    h = bump("h", o * np.tanh(c))
    p = _softmax(output_weights() @ h)
    return float(-np.log(p[0]))


def _central(fun: Callable[[float], float], eps: float = 1e-6) -> float:
    return (fun(eps) - fun(-eps)) / (2 * eps)


def check(tolerance: float = 1e-6) -> dict[str, float]:
    """Compare every adjoint of the worked step with central finite differences.

    The finite differences nudge one entry of one value of an independent NumPy forward of the
    lecture's equations (weights: of the kernel's own forward), so a wrong kernel or a wrong
    page equation shows up as a disagreement.

    Returns
    -------
    dict of str to float
        The relative error of every adjoint and weight gradient.

    Raises
    ------
    ValueError
        If any relative error exceeds ``tolerance``, or the independent forward disagrees
        with the kernel.
    """
    params = parameters()
    x, state = _step_state(BACKWARD_STEP)
    h_prev, c_prev, x0 = state["h"][0], state["C"][0], x[0]
    result = backward_last_step()
    if abs(_loss_with_bumps({}, params, h_prev, c_prev, x0) - result.loss) > 1e-12:
        raise ValueError("worked example: the NumPy forward and the kernel disagree")
    errors: dict[str, float] = {}
    for name, analytic in result.adjoints.items():
        numeric = np.zeros_like(analytic)
        for k in range(analytic.size):

            def at(eps: float, name: str = name, k: int = k, size: int = analytic.size) -> float:
                delta = np.zeros(size)
                delta[k] = eps
                return _loss_with_bumps({name: delta}, params, h_prev, c_prev, x0)

            numeric[k] = _central(at)
        errors[f"δ{name}"] = _relative(analytic, numeric)
    lstm = _kernel()
    for name, analytic in result.weights.items():
        numeric = np.zeros_like(analytic)
        for index in np.ndindex(analytic.shape):

            def loss_at(eps: float, name: str = name, index: tuple[int, ...] = index) -> float:
                bumped = {k: v.copy() for k, v in params.items()}
                bumped[name][index] += eps
                after, _ = lstm.step(x, state, bumped)
                p = _softmax(output_weights() @ after["h"][0])
                return float(-np.log(p[0]))

            numeric[index] = _central(loss_at)
        errors[f"δ{name}"] = _relative(analytic, numeric)
    bad = {k: v for k, v in errors.items() if not v <= tolerance}
    if bad:
        raise ValueError(f"worked example: adjoints disagree with finite differences: {bad}")
    return errors


def _relative(a: np.ndarray, n: np.ndarray) -> float:
    scale = max(float(np.abs(a).max()), float(np.abs(n).max()), 1e-12)
    return float(np.abs(a - n).max()) / scale


# --- Exercises: answers from the kernels (lstm_sym.site.stated_numbers checks them). -------

#: Sizes of the parameter-count exercise: a word-level model with a 1000-word one-hot input.
COUNT_SIZES = (1000, 128)
#: Givens of the peephole exercise: the forget gate's value and its peephole weight.
PEEPHOLE_GIVENS = {"f": 0.95, "p_f": 0.5}
#: Givens of the GRU exercise: h_{t-1}, the candidate, the update gate and δh_t.
GRU_GIVENS = {"h_prev": 0.6, "h_tilde": -0.2, "z": 0.3, "dh": 1.0}


def exercise_answers() -> dict[str, float | tuple[float, ...]]:
    """The numeric answers of the Exercises page, each computed by a generated kernel.

    ``forget_half_10``: what is left of C₀ = 1 after ten steps with f = σ(0) = 0.5 and the
    input gate shut. ``forget_dan``: the forget gate of the subject unit at "Dan".
    ``count_*``: parameters of the LSTM and the GRU, for the worked example's sizes and for
    :data:`COUNT_SIZES`. ``rnn_09`` / ``rnn_11``: the factor by which 20 steps of a one-unit
    RNN with recurrent weight 0.9 / 1.1 scale the gradient reaching h₀ (linear regime).
    ``lstm_far``: the same for 20 steps along an LSTM's cell state with f = σ(3).
    ``carry_c`` / ``total_c``: δC₆^in (handed back by step 7 along the cell state) and the
    whole δC₆ of the subject unit, for the loss at "brave". ``h_prev``: δh₆ of both units.
    ``dW_f``: the subject unit's row of step 7's δW_f. ``peephole``: ∂f/∂C_{t-1} of a
    peephole forget gate, :data:`PEEPHOLE_GIVENS`. ``gru_a_z``: δa^z of a GRU unit,
    :data:`GRU_GIVENS`.
    """
    lstm = _kernel()
    rnn = _kernel("rnn")
    gru = _kernel("gru")

    zeros = {k: np.zeros_like(v) for k, v in parameters().items()}
    zeros["b_i"] = np.full(H, -40.0)
    state = {"h": np.zeros((1, H)), "C": np.ones((1, H))}
    _, final, _ = lstm.forward(np.zeros((10, 1, D)), zeros, state)
    back = backward_last_step()
    carry, total = through_time()
    six = TOKENS.index("navy") + 1  # C_6: the state after "navy"

    def count(module: Any, d: int, h: int) -> float:
        return float(sum(int(np.prod(s)) for s in module.parameter_shapes(d, h).values()))

    answers: dict[str, float | tuple[float, ...]] = {
        "forget_half_10": float(final["C"][0, 0]),
        "forget_dan": float(trace().f[TOKENS.index("Dan"), 0]),
        "count_lstm_example": count(lstm, D, H),
        "count_gru_example": count(gru, D, H),
        "count_lstm_large": count(lstm, *COUNT_SIZES),
        "count_gru_large": count(gru, *COUNT_SIZES),
        "carry_c": float(carry[six, 0]),
        "total_c": float(total[six, 0]),
        "h_prev": tuple(float(v) for v in back.adjoints["h_prev"]),
        "dW_f": tuple(float(v) for v in back.weights["W_f"][0]),
    }
    for weight, key in ((0.9, "rnn_09"), (1.1, "rnn_11")):
        params = {"W_h": np.array([[weight, 0.0]]), "b_h": np.zeros(1)}
        h0 = {"h": np.full((1, 1), 1e-8)}
        hs, _, cache = rnn.forward(np.zeros((20, 1, 1)), params, h0)
        dhs = np.zeros_like(hs)
        dhs[-1] = 1.0
        answers[key] = float(rnn.backward(dhs, cache)["h0"][0, 0])
    # 20 steps of an LSTM unit whose forget gate sits at σ(3), input gate shut.
    far = {k: np.zeros_like(v) for k, v in parameters().items()}
    far["b_f"] = np.full(H, 3.0)
    far["b_i"] = np.full(H, -40.0)
    _, _, cache = lstm.forward(
        np.zeros((20, 1, D)), far, {"h": np.zeros((1, H)), "C": np.ones((1, H))}
    )
    grads = lstm.backward(
        np.zeros((20, 1, H)), cache, {"h": np.zeros((1, H)), "C": np.ones((1, H))}
    )
    answers["lstm_far"] = float(grads["C0"][0, 0])
    answers["peephole"] = _peephole_answer()
    answers["gru_a_z"] = _gru_answer()
    return answers


def _peephole_answer() -> float:
    """∂f/∂C_{t-1} for f = σ(a + p_f C_{t-1}), by the peephole kernel's step_backward.

    With C_{t-1} = 1, δC_t = 1, δh_t = 0 and the input gate shut, the kernel's
    δC_{t-1} = f + C_{t-1} · ∂f/∂C_{t-1}: the slope is what exceeds f.
    """
    kernel = _kernel("peephole_lstm")

    f, p_f = PEEPHOLE_GIVENS["f"], PEEPHOLE_GIVENS["p_f"]
    params = {k: np.zeros(s) for k, s in kernel.parameter_shapes(1, 1).items()}
    params["b_f"][:] = np.log(f / (1 - f)) - p_f  # the gate's argument is logit(f)
    params["p_f"][:] = p_f
    params["b_i"][:] = -40.0
    state = {"h": np.zeros((1, 1)), "C": np.ones((1, 1))}
    _, cache = kernel.step(np.zeros((1, 1)), state, params)
    grads = kernel.step_backward({"h": np.zeros((1, 1)), "C": np.ones((1, 1))}, cache)
    return float(grads["C_prev"][0, 0] - f)


def _gru_answer() -> float:
    """δa^z of one GRU unit for :data:`GRU_GIVENS`, by the GRU kernel's step_backward."""
    gru = _kernel("gru")

    g = GRU_GIVENS
    params = {k: np.zeros(s) for k, s in gru.parameter_shapes(1, 1).items()}
    params["b_z"][:] = np.log(g["z"] / (1 - g["z"]))
    params["b_h"][:] = np.arctanh(g["h_tilde"])
    _, cache = gru.step(np.zeros((1, 1)), {"h": np.full((1, 1), g["h_prev"])}, params)
    grads = gru.step_backward({"h": np.full((1, 1), g["dh"])}, cache)
    return float(grads["b_z"][0])


# --- Snippets and plots. ------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines[1] = "|---|---|" + "|".join("---:" for _ in header[2:]) + "|"
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _steps(columns: list[tuple[str, np.ndarray]]) -> str:
    header = ["$t$", "word", *[title for title, _ in columns]]
    rows = []
    for t, word in enumerate(TOKENS):
        rows.append([str(t + 1), f"*{word}*", *[fmt(values[t]) for _, values in columns]])
    return _table(header, rows)


def _plot(
    series: list[tuple[str, np.ndarray, str, str]], ylabel: str, ylim: tuple[float, float]
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(1, len(TOKENS) + 1)
    with matplotlib.rc_context(
        {
            "svg.hashsalt": "lstm_sym",
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
            "font.size": 12.0,
            "path.simplify": False,
        }
    ):
        # Narrow on purpose: on a phone it is shown at about its natural size (see extra.css).
        fig, ax = plt.subplots(figsize=(4.8, 3.4), layout="constrained")
        for label, values, colour, style in series:
            ax.plot(steps, values, style, color=colour, label=label, linewidth=2, markersize=6)
        ax.set_xticks(steps, [f"{t}\n{w}" for t, w in zip(steps, TOKENS, strict=True)])
        ax.set_ylim(*ylim)
        ax.set_ylabel(ylabel)
        ax.grid(True, linewidth=0.3)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
        plt.close(fig)
    return buffer.getvalue()


RED, BLUE, GREEN, ORANGE, GREY = "#d32f2f", "#1565c0", "#2e7d32", "#ef6c00", "#546e7a"


#: The file named as the source of every generated example file.
SOURCE = "lstm_sym/docs_render/worked_example.py"


def example_files(command: str, kernels: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Render the example's snippets and plots, by path relative to the repository root.

    Parameters
    ----------
    command
        The command named in every file's generated-file comment.
    kernels
        The kernels to run by cell (``lstm``, ``rnn``, ``gru``, ``peephole_lstm``), when not
        the committed ones (regeneration passes those it just rendered).
    """
    _RENDERED.clear()
    _RENDERED.update(kernels or {})
    try:
        return _example_files(command)
    finally:
        _RENDERED.clear()


def _example_files(command: str) -> dict[str, str]:
    header = html_header(f"lstm_sym/spec/cells/lstm.cell (its kernel, run by {SOURCE})", command)
    tr = trace()
    back = backward_last_step()
    snippets = "docs/snippets/example"
    assets = "docs/assets/generated"
    out: dict[str, str] = {}
    words = ", ".join(f"*{w}*" for w in TOKENS)
    out[f"{snippets}/forget.md"] = header + _steps(
        [
            ("$f_t$ subject", tr.f[:, 0]),
            ("$f_t$ navy", tr.f[:, 1]),
            ("$C_{t-1}$ subject", tr.C_prev[:, 0]),
            ("$f_t \\odot C_{t-1}$ subject", tr.f[:, 0] * tr.C_prev[:, 0]),
        ]
    )
    out[f"{snippets}/input.md"] = header + _steps(
        [
            ("$i_t$ subject", tr.i[:, 0]),
            ("$\\tilde{C}_t$ subject", tr.C_tilde[:, 0]),
            ("$i_t$ navy", tr.i[:, 1]),
            ("$\\tilde{C}_t$ navy", tr.C_tilde[:, 1]),
            ("$C_t$ navy", tr.C[:, 1]),
        ]
    )
    out[f"{snippets}/output.md"] = header + _steps(
        [
            ("$o_t$ subject", tr.o[:, 0]),
            ("$\\tanh C_t$ subject", tr.tanh_cell[:, 0]),
            ("$h_t$ subject", tr.h[:, 0]),
            ("$h_t$ navy", tr.h[:, 1]),
            ("P(next = Bob)", tr.probabilities[:, 0]),
        ]
    )
    out[f"{snippets}/cell.md"] = header + _steps(
        [
            ("$C_t$ subject", tr.C[:, 0]),
            ("$C_t$ navy", tr.C[:, 1]),
            ("$h_t$ subject", tr.h[:, 0]),
            ("$h_t$ navy", tr.h[:, 1]),
        ]
    )
    out[f"{snippets}/sequence.md"] = header + (
        f"The network reads {words}: one word per step, $T = {len(TOKENS)}$.\n"
    )
    out[f"{snippets}/weights.md"] = header + _weights_table()
    out[f"{snippets}/backward.md"] = header + _backward_table(back)
    out[f"{snippets}/through-time.md"] = header + _through_time_table()
    answers = exercise_answers()
    for key, value in answers.items():
        text = fmt_answer(value) if isinstance(value, float) else fmt_vector(value)
        out[f"{snippets}/answer-{key.replace('_', '-')}.md"] = header + text + "\n"
    out[f"{assets}/example-forget.svg"] = _plot(
        [
            ("f subject", tr.f[:, 0], RED, "o-"),
            ("C subject", tr.C[:, 0], GREY, "^:"),
        ],
        "value",
        (-1.05, 1.05),
    )
    out[f"{assets}/example-input.svg"] = _plot(
        [
            ("i subject", tr.i[:, 0], BLUE, "o-"),
            ("i navy", tr.i[:, 1], BLUE, "s--"),
            ("C̃ navy", tr.C_tilde[:, 1], GREEN, "d-"),
            ("C navy", tr.C[:, 1], GREY, "^:"),
        ],
        "value",
        (-0.05, 1.05),
    )
    out[f"{assets}/example-output.svg"] = _plot(
        [
            ("o subject", tr.o[:, 0], ORANGE, "o-"),
            ("h subject", tr.h[:, 0], GREY, "^:"),
            ("P(next = Bob)", tr.probabilities[:, 0], BLUE, "s--"),
        ],
        "value",
        (-0.25, 1.05),
    )
    for path, text in out.items():
        if path.endswith(".svg"):
            declaration, _, rest = text.partition("\n")
            out[path] = f"{declaration}\n{header}{rest}"
    return out


def fmt_answer(value: float) -> str:
    """An exercise answer: three significant digits (trailing zeros kept); a whole number in
    full, with thin spaces between thousands."""
    if value == round(value) and (abs(value) >= 1 or value == 0):
        return f"{round(value):,}".replace(",", "\u2009")
    return f"{value:#.3g}".replace("-", "−")


def fmt_vector(values: tuple[float, ...]) -> str:
    """A vector answer: each entry to three significant digits, in parentheses."""
    return "(" + ", ".join(fmt_answer(v) for v in values) + ")"


def _weights_table() -> str:
    params = parameters()
    cols = ["$h_1$", "$h_2$", *[f"*{w}*" for w in VOCABULARY]]
    lines = [
        "| gate | unit | " + " | ".join(cols) + " | bias |",
        "|---|---|" + "|".join("---:" for _ in cols) + "|---:|",
    ]
    names = {"f": "forget $W_f$", "i": "input $W_i$", "C": "candidate $W_C$", "o": "output $W_o$"}
    for g, title in names.items():
        for unit in range(H):
            row = [_weight(v) for v in params[f"W_{g}"][unit]]
            lines.append(
                f"| {title} | {UNITS[unit]} | "
                + " | ".join(row)
                + f" | {_weight(params[f'b_{g}'][unit])} |"
            )
    return "\n".join(lines) + "\n"


def _weight(value: float) -> str:
    return f"{value:g}".replace("-", "−")


_ADJOINT_ROWS = (
    ("h", r"\delta h_t", r"V^{\top}(p - y)", r"$\eqref{lstm-loss-dh}$"),
    ("o", r"\delta o_t", r"\delta h_t \odot \tanh C_t", r"$\eqref{lstm-adj-o}$"),
    ("C", r"\delta C_t", r"\delta h_t \odot o_t \odot (1 - \tanh^2 C_t)", r"$\eqref{lstm-adj-C}$"),
    ("C_tilde", r"\delta \tilde{C}_t", r"\delta C_t \odot i_t", r"$\eqref{lstm-adj-C-tilde}$"),
    ("i", r"\delta i_t", r"\delta C_t \odot \tilde{C}_t", r"$\eqref{lstm-adj-i}$"),
    ("f", r"\delta f_t", r"\delta C_t \odot C_{t-1}", r"$\eqref{lstm-adj-f}$"),
    ("a_f", r"\delta a^f_t", r"\delta f_t \odot f_t (1 - f_t)", r"$\eqref{lstm-adj-a-f}$"),
    ("a_i", r"\delta a^i_t", r"\delta i_t \odot i_t (1 - i_t)", r"$\eqref{lstm-adj-a-i}$"),
    (
        "a_C",
        r"\delta a^C_t",
        r"\delta \tilde{C}_t \odot (1 - \tilde{C}_t^2)",
        r"$\eqref{lstm-adj-a-C}$",
    ),
    ("a_o", r"\delta a^o_t", r"\delta o_t \odot o_t (1 - o_t)", r"$\eqref{lstm-adj-a-o}$"),
    (
        "C_prev",
        r"\delta C_{t-1}^{\mathrm{in}}",
        r"\delta C_t \odot f_t",
        r"$\eqref{lstm-adj-C-prev}$",
    ),
    (
        "h_prev",
        r"\delta h_{t-1}^{\mathrm{in}}",
        r"\textstyle\sum_g W_g^{(h)\top} \delta a^g_t",
        r"$\eqref{lstm-adj-h-prev}$",
    ),
)


def _backward_table(back: Backward) -> str:
    lines = [
        "| adjoint | formula | eq. | subject | navy |",
        "|---|---|---|---:|---:|",
    ]
    for name, symbol, formula, uses in _ADJOINT_ROWS:
        v = back.adjoints[name]
        lines.append(f"| ${symbol}$ | ${formula}$ | {uses} | {fmt(v[0])} | {fmt(v[1])} |")
    return "\n".join(lines) + "\n"


def _through_time_table() -> str:
    carry, total = through_time()
    tr = trace()
    lines = [
        "| $t$ | word | $f_{t+1}$ subject | $\\delta C_t^{\\mathrm{in}}$ subject "
        "| $\\delta C_t$ subject | $\\delta C_t$ navy |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for t in range(len(TOKENS), 0, -1):
        last = t == len(TOKENS)
        f_next = "—" if last else fmt(tr.f[t, 0])
        carried = "—" if last else fmt(carry[t, 0])
        lines.append(
            f"| {t} | *{TOKENS[t - 1]}* | {f_next} | {carried} | {fmt(total[t, 0])} "
            f"| {fmt(total[t, 1])} |"
        )
    return "\n".join(lines) + "\n"
