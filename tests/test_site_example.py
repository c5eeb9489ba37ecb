"""The worked example of the site tells the lecture's story, in the kernel's own numbers, and its
build-time check catches a wrong adjoint."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lstm_sym.docs_render import worked_example as example


@pytest.fixture(scope="module")
def gates() -> example.Trace:
    """The kernel's forward values over the example sentence."""
    return example.trace()


def test_forget_gate_closes_when_dan_arrives(gates: example.Trace) -> None:
    """At "Dan" the subject unit's forget gate is below 0.1; at the following word above 0.9."""
    dan = example.TOKENS.index("Dan")
    assert gates.f[dan, 0] < 0.1 < 0.9 < gates.f[dan + 1, 0]


def test_input_gate_writes_the_navy_fact(gates: example.Trace) -> None:
    """At "navy" the navy unit's input gate opens and its cell state jumps above 0.8."""
    navy = example.TOKENS.index("navy")
    assert gates.i[navy, 1] > 0.9 and gates.C[navy - 1, 1] < 0.1 < 0.8 < gates.C[navy, 1]


def test_brave_reveals_bob_as_the_next_word(gates: example.Trace) -> None:
    """Only at "brave" is the subject unit's output gate open and "Bob" the likeliest next word
    by a wide margin."""
    brave = example.TOKENS.index("brave")
    opened = np.flatnonzero(gates.o[:, 0] > 0.5)
    assert list(opened) == [brave]
    assert gates.probabilities[brave, 0] > 0.8


def test_adjoints_agree_with_finite_differences() -> None:
    """Every adjoint of the example's backward step matches central differences to 1e-6."""
    errors = example.check()
    assert errors and max(errors.values()) < 1e-6


def test_check_rejects_a_wrong_adjoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """If one adjoint were off (δf doubled), the build's check raises and names it."""
    right = example.backward_last_step()
    adjoints = dict(right.adjoints, f=2 * right.adjoints["f"])
    wrong = dataclasses.replace(right, adjoints=adjoints)
    monkeypatch.setattr(example, "backward_last_step", lambda: wrong)
    with pytest.raises(ValueError, match="δf"):
        example.check()


def test_numbers_are_printed_with_a_true_minus_sign() -> None:
    """Negative values print with U+2212 and three decimals; a rounded zero prints unsigned."""
    assert example.fmt(-0.1234) == "\u22120.123"
    assert example.fmt(-0.0001) == "0.000"
