"""The time limit on deriving a user's cell: raised once, in the caller, never printed."""

from __future__ import annotations

import sys
import time

import pytest

from lstm_sym.derive.limits import DerivationLimitError, limited


class _SlowFinaliser:
    """An object whose finaliser busy-waits, so that the limit's timer fires inside it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __del__(self) -> None:
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            pass


def _spin_until_interrupted(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_limit_reached_inside_a_finaliser_reaches_the_caller_without_output(capfd):
    """A limit hit inside a finaliser is not reported as unraisable; the next tick raises it."""
    seen = []
    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        with pytest.raises(DerivationLimitError):
            with limited(seconds=0.1):
                _SlowFinaliser(0.4)  # dropped at once: its finaliser outlasts the limit
                _spin_until_interrupted(5.0)
    finally:
        sys.unraisablehook = previous
    assert seen == []
    assert capfd.readouterr().err == ""


def test_the_unraisable_hook_is_restored_after_the_limit():
    """Whatever hook was installed before `limited` is installed again after it."""

    def hook(unraisable):
        pass

    previous = sys.unraisablehook
    sys.unraisablehook = hook
    try:
        with pytest.raises(DerivationLimitError):
            with limited(seconds=0.1):
                _spin_until_interrupted(5.0)
        assert sys.unraisablehook is hook
    finally:
        sys.unraisablehook = previous


def test_other_unraisable_errors_still_reach_the_previous_hook():
    """Only the limit's own error is silenced; anything else a finaliser raises is reported."""
    seen = []

    class Failing:
        def __del__(self):
            raise ValueError("finaliser failed")

    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        with limited(seconds=5.0):
            Failing()
    finally:
        sys.unraisablehook = previous
    assert [type(u.exc_value) for u in seen] == [ValueError]
