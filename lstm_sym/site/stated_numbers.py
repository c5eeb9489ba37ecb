"""Check every number the worked example's pages state against an independent computation.

The pages' tables and exercise answers are generated from the generated kernels
(:mod:`lstm_sym.docs_render.worked_example`). This module never calls those kernels: it reads what
the pages state (the generated snippets under ``docs/snippets/example``) and recomputes the
quantity each table heading or answer names, from the lecture's equations in plain NumPy:

- a forward value (``f_t``, ``C_t``, ``P(next = Bob)`` …): by evaluating the equations;
- an adjoint (``δC_t``, ``δh_{t-1}^in`` …) or a weight gradient: by central finite differences
  of the stated loss (the cross-entropy of the next word at *brave*) with that one value
  nudged where the text says it is read;
- closed forms (``0.5^10``, ``w^20``, a parameter count) where the exercise asks for one.

A heading or snippet this module does not know fails the check: a new number needs a check.
The site build runs :func:`check_snippets` (``lstm_sym.site.events``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lstm_sym.docs_render.worked_example import (
    COUNT_SIZES,
    GRU_GIVENS,
    OUTPUT_WORDS,
    PEEPHOLE_GIVENS,
    TOKENS,
    inputs,
    output_weights,
    parameters,
)

__all__ = ["SNIPPETS", "StatedNumberError", "adjoint", "check_snippets", "forward", "loss"]

#: Where the generated example snippets live, relative to the docs folder.
SNIPPETS = "snippets/example"
#: A stated number agrees when it is within half a unit of its last printed digit (plus
#: the finite differences' own error).
_SLACK = 1e-7
_UNITS = ("subject", "navy")
_T = len(TOKENS)


class StatedNumberError(ValueError):
    """A number a page states disagrees with the quantity its text names, or has no check."""


# --- The lecture's LSTM in plain NumPy, with a nudge anywhere. ---------------------------------

#: A nudge: (name, step) → added vector. Names: a_f, f, a_i, i, a_C, C_tilde, C, a_o, o, h
#: (values of step t), C_read / h_read (C_{t-1} / h_{t-1} as step t reads them, and nothing
#: else), W_f … (the weight as step t uses it).
Bumps = dict[tuple[str, int], np.ndarray]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-a)))


def forward(bumps: Bumps | None = None) -> dict[str, np.ndarray]:
    """Run the example sentence through the lecture's equations, steps 1 … T.

    Returns every value by name, each (T, H) (``p``: (T, 3) next-word probabilities).
    """
    bumps = bumps or {}
    params = parameters()
    xs = inputs()[:, 0, :]
    hidden = xs.shape[0], params["b_f"].size
    h, c = np.zeros(hidden[1]), np.zeros(hidden[1])
    out: dict[str, list[np.ndarray]] = {}
    for t in range(1, _T + 1):

        def b(name: str, value: np.ndarray, t: int = t) -> np.ndarray:
            return value + bumps.get((name, t), 0.0)

        z = np.concatenate([b("h_read", h), xs[t - 1]])
        c_read = b("C_read", c)
        values = {"C_prev": c, "h_prev": h}
        for g in "fiCo":
            weight = params[f"W_{g}"] + bumps.get((f"W_{g}", t), 0.0)
            values[f"a_{g}"] = b(f"a_{g}", weight @ z + params[f"b_{g}"])
        values["f"] = b("f", _sigmoid(values["a_f"]))
        values["i"] = b("i", _sigmoid(values["a_i"]))
        values["C_tilde"] = b("C_tilde", np.tanh(values["a_C"]))
        values["o"] = b("o", _sigmoid(values["a_o"]))
        c = b("C", values["f"] * c_read + values["i"] * values["C_tilde"])
        h = b("h", values["o"] * np.tanh(c))
        values.update(C=c, h=h, tanh_C=np.tanh(c))
        scores = output_weights() @ h
        values["p"] = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        for name, value in values.items():
            out.setdefault(name, []).append(value)
    return {name: np.array(rows) for name, rows in out.items()}


def loss(bumps: Bumps | None = None) -> float:
    """The stated loss: cross-entropy of the next word at *brave* (step T), target "Bob"."""
    p = forward(bumps)["p"][-1]
    return float(-np.log(p[OUTPUT_WORDS.index("Bob")]))


def adjoint(name: str, t: int, shape: tuple[int, ...] = (2,), eps: float = 1e-6) -> np.ndarray:
    """∂(loss)/∂(name at step t), by central finite differences, one entry at a time."""
    grad = np.zeros(shape)
    for index in np.ndindex(shape):
        delta = np.zeros(shape)
        delta[index] = eps
        grad[index] = (loss({(name, t): delta}) - loss({(name, t): -delta})) / (2 * eps)
    return grad


# --- What each table heading names. ---------------------------------------------------------

_FORWARD = {
    r"$f_t$": "f",
    r"$i_t$": "i",
    r"$\tilde{C}_t$": "C_tilde",
    r"$o_t$": "o",
    r"$C_t$": "C",
    r"$C_{t-1}$": "C_prev",
    r"$h_t$": "h",
    r"$\tanh C_t$": "tanh_C",
}


def _column(heading: str) -> Callable[[int], float | None] | None:
    """The independent value of a step table's column, as a function of the step (1-based)."""
    quantity, _, unit_name = heading.rpartition(" ")
    if heading == "P(next = Bob)":
        return lambda t: float(forward()["p"][t - 1, OUTPUT_WORDS.index("Bob")])
    if unit_name not in _UNITS:
        return None
    unit = _UNITS.index(unit_name)
    if quantity in _FORWARD:
        name = _FORWARD[quantity]
        return lambda t: float(forward()[name][t - 1, unit])
    if quantity == r"$f_t \odot C_{t-1}$":
        return lambda t: float(forward()["f"][t - 1, unit] * forward()["C_prev"][t - 1, unit])
    if quantity == r"$f_{t+1}$":
        return lambda t: None if t == _T else float(forward()["f"][t, unit])
    if quantity == r"$\delta C_t$":  # the whole gradient: C_t as every later equation reads it
        return lambda t: float(adjoint("C", t)[unit])
    if quantity == r"$\delta C_t^{\mathrm{in}}$":  # what arrives along the cell state only
        return lambda t: None if t == _T else float(adjoint("C_read", t + 1)[unit])
    return None


#: Rows of the backward table (step T, its own loss): the value nudged, at which step.
_BACKWARD_ROWS = {
    r"$\delta h_t$": ("h", _T),
    r"$\delta o_t$": ("o", _T),
    r"$\delta C_t$": ("C", _T),
    r"$\delta \tilde{C}_t$": ("C_tilde", _T),
    r"$\delta i_t$": ("i", _T),
    r"$\delta f_t$": ("f", _T),
    r"$\delta a^f_t$": ("a_f", _T),
    r"$\delta a^i_t$": ("a_i", _T),
    r"$\delta a^C_t$": ("a_C", _T),
    r"$\delta a^o_t$": ("a_o", _T),
    r"$\delta C_{t-1}^{\mathrm{in}}$": ("C_read", _T),
    r"$\delta h_{t-1}^{\mathrm{in}}$": ("h_read", _T),
}


# --- What each exercise answer names. -------------------------------------------------------


def _count(d: int, h: int, gates: int) -> float:
    """Entries of ``gates`` weight matrices (H, H + D) and bias vectors (H)."""
    return float(gates * (h * (h + d) + h))


def _peephole_slope() -> float:
    """∂σ(a + p_f C)/∂C by central differences, at the C where σ(…) = f."""
    f, p_f = PEEPHOLE_GIVENS["f"], PEEPHOLE_GIVENS["p_f"]
    a = math.log(f / (1 - f))
    eps = 1e-6
    return (float(_sigmoid(np.array(a + p_f * eps))) - float(_sigmoid(np.array(a - p_f * eps)))) / (
        2 * eps
    )


def _gru_a_z() -> float:
    """δa^z of h = (1 − σ(a)) h_prev + σ(a) h̃ for the loss δh · h, by central differences."""
    g = GRU_GIVENS
    a = math.log(g["z"] / (1 - g["z"]))

    def h(a: float) -> float:
        z = 1 / (1 + math.exp(-a))
        return g["dh"] * ((1 - z) * g["h_prev"] + z * g["h_tilde"])

    return (h(a + 1e-6) - h(a - 1e-6)) / 2e-6


def _carry_factor(f: float, steps: int) -> float:
    return f**steps


#: Exercise answer snippets: file stem → the independent value of what the exercise asks.
_ANSWERS: dict[str, Callable[[], float | tuple[float, ...]]] = {
    "answer-forget-half-10": lambda: 0.5**10,
    "answer-forget-dan": lambda: float(forward()["f"][TOKENS.index("Dan"), 0]),
    "answer-count-lstm-example": lambda: _count(inputs().shape[2], 2, 4),
    "answer-count-gru-example": lambda: _count(inputs().shape[2], 2, 3),
    "answer-count-lstm-large": lambda: _count(*COUNT_SIZES, 4),
    "answer-count-gru-large": lambda: _count(*COUNT_SIZES, 3),
    "answer-rnn-09": lambda: 0.9**20,
    "answer-rnn-11": lambda: 1.1**20,
    "answer-lstm-far": lambda: _carry_factor(1 / (1 + math.exp(-3)), 20),
    "answer-carry-c": lambda: float(adjoint("C_read", TOKENS.index("navy") + 2)[0]),
    "answer-total-c": lambda: float(adjoint("C", TOKENS.index("navy") + 1)[0]),
    "answer-h-prev": lambda: tuple(adjoint("h_read", _T)),
    "answer-dW-f": lambda: tuple(adjoint("W_f", _T, (2, 6))[0]),
    "answer-peephole": _peephole_slope,
    "answer-gru-a-z": _gru_a_z,
}

#: Snippets that state no computed number (the sentence, the hand-chosen weights).
_NO_NUMBERS = {"sequence", "weights"}
#: Step tables: every column but t and word is checked by its heading.
_STEP_TABLES = {"forget", "input", "output", "cell", "through-time"}

_NUMBER = re.compile(r"[−-]?\d[\d\u2009]*(?:\.\d+)?(?:e[−-]?\d+)?")


def _parse(text: str) -> list[float]:
    return [
        float(m.group(0).replace("−", "-").replace("\u2009", "")) for m in _NUMBER.finditer(text)
    ]


def _agrees(stated: str, value: float) -> bool:
    """Whether ``stated`` is ``value`` rounded the way it is printed."""
    number = float(stated.replace("−", "-").replace("\u2009", ""))
    mantissa = stated.replace("−", "").replace("\u2009", "").split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    half = 0.5 * 10.0**-decimals
    return abs(number - value) <= half + _SLACK


def _table(text: str) -> tuple[list[str], list[list[str]]]:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
    ]
    return rows[0], rows[2:]


def _check_step_table(name: str, text: str) -> list[str]:
    header, rows = _table(text)
    problems = []
    for col, heading in enumerate(header[2:], start=2):
        value_at = _column(heading)
        if value_at is None:
            problems.append(f"{name}: no independent check for the column {heading!r}")
            continue
        for row in rows:
            t = int(row[0])
            expected = value_at(t)
            stated = row[col]
            if expected is None:
                if stated != "—":
                    problems.append(f"{name}: {heading} at t = {t} states {stated}, expected —")
            elif stated == "—" or not _agrees(stated, expected):
                problems.append(
                    f"{name}: {heading} at t = {t} states {stated}, independently {expected:.6f}"
                )
    return problems


def _check_backward(text: str) -> list[str]:
    header, rows = _table(text)
    problems = []
    if header[-2:] != list(_UNITS):
        return [f"backward: expected the last columns {_UNITS}, found {header[-2:]}"]
    for row in rows:
        if row[0] not in _BACKWARD_ROWS:
            problems.append(f"backward: no independent check for the row {row[0]!r}")
            continue
        expected = adjoint(*_BACKWARD_ROWS[row[0]])
        for unit, stated in enumerate(row[-2:]):
            if not _agrees(stated, float(expected[unit])):
                problems.append(
                    f"backward: {row[0]} {_UNITS[unit]} states {stated}, "
                    f"finite differences {expected[unit]:.6f}"
                )
    return problems


def _check_answer(stem: str, text: str) -> list[str]:
    if stem not in _ANSWERS:
        return [f"{stem}: no independent check for this answer"]
    expected = _ANSWERS[stem]()
    values = expected if isinstance(expected, tuple) else (expected,)
    stated = [m.group(0) for m in _NUMBER.finditer(text)]
    if len(stated) != len(values):
        return [f"{stem}: states {stated}, expected {len(values)} number(s)"]
    return [
        f"{stem}: states {s}, independently {v:.6g}"
        for s, v in zip(stated, values, strict=True)
        if not _agrees(s, v)
    ]


def _body(path: Path) -> str:
    """The snippet without its generated-file comment."""
    return re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S)


def check_snippets(docs_dir: Path) -> int:
    """Check every number of the example snippets; return how many numbers were checked.

    Raises
    ------
    StatedNumberError
        Naming every number that disagrees and every table column, row or answer that has
        no independent check.
    """
    folder = Path(docs_dir) / SNIPPETS
    problems: list[str] = []
    checked = 0
    paths = sorted(folder.glob("*.md"))
    if not paths:
        raise StatedNumberError(f"no example snippets in {folder}")
    for path in paths:
        stem, text = path.stem, _body(path)
        if stem in _NO_NUMBERS:
            continue
        if stem in _STEP_TABLES:
            problems += _check_step_table(stem, text)
        elif stem == "backward":
            problems += _check_backward(text)
        else:
            problems += _check_answer(stem, text)
        checked += len(_parse(text))
    if problems:
        raise StatedNumberError(
            "numbers on the pages disagree with an independent computation:\n  "
            + "\n  ".join(problems)
        )
    return checked
