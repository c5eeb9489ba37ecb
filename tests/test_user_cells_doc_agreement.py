"""docs/user-cells.md and the parser agree on which names, shapes and texts are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lstm_sym.derive import limits
from lstm_sym.spec.model import Role
from lstm_sym.spec.parser import PUBLIC_NAMES, latex_problem, name_problem, shape_problem

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "user-cells.md").read_text()


def _documented_public_names() -> set[str]:
    line = next(x for x in PAGE.splitlines() if "the kernel's public names:" in x)
    return set(re.findall(r"`([A-Za-z_]+)`", line))


def test_the_page_lists_exactly_the_reserved_public_names():
    """The page's list of the kernel's public names is the parser's PUBLIC_NAMES."""
    assert _documented_public_names() == set(PUBLIC_NAMES)


@pytest.mark.parametrize("name", sorted(PUBLIC_NAMES))
def test_every_documented_public_name_is_refused(name):
    """Each name the page says is reserved is refused by the parser."""
    assert name_problem(name, Role.VALUE) is not None


@pytest.mark.parametrize("name", ["T", "B", "H", "D", "t", "hs", "grads", "out"])
def test_the_short_names_the_page_gives_to_users_are_accepted(name):
    """T, B, H, D, t, hs, grads and out are spec names (the kernels' own start with '_')."""
    assert f"`{name}`" in PAGE
    assert name_problem(name, Role.VALUE) is None


@pytest.mark.parametrize("text", ["H", "H, H + D", "H, 2H + D", "(H, H)", "H,D", "H, 3H"])
def test_documented_shapes_are_accepted(text):
    """Shapes of the documented form are accepted."""
    assert shape_problem(text) is None


@pytest.mark.parametrize("text", ["H, H + D, 7", "H, 2*H + D", "D", "H, H +", "H, X", "7"])
def test_malformed_shapes_are_refused(text):
    """A shape with a third size, a '*', an unknown letter or nothing after '+' is refused."""
    assert shape_problem(text) is not None


@pytest.mark.parametrize("text", ["x\n", "x\r", "a_{f}\n"])
def test_a_trailing_line_break_is_refused_in_latex_and_names(text):
    """A text ending in a line break is refused (a '$' anchor alone would accept it)."""
    assert latex_problem(text) is not None
    assert name_problem(text.replace("_{f}", "_f"), Role.VALUE) is not None


def test_the_page_states_the_derivation_limits():
    """The limits the page names are the ones the derivation applies."""
    assert f"longer than {limits.MAX_SECONDS:g} seconds" in PAGE
    assert f"more\nthan {limits.MAX_MEMORY_BYTES // 1024**3} GB" in PAGE
