"""Every number the worked example's pages state is checked against an independent computation
of what its heading or exercise names, and the Exercises page asks what the issue asked for."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_sym.site import stated_numbers

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXERCISES = DOCS / "exercises.md"


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    """A copy of the committed example snippets, in a docs folder of its own."""
    target = tmp_path / "docs" / stated_numbers.SNIPPETS
    shutil.copytree(DOCS / stated_numbers.SNIPPETS, target)
    return tmp_path / "docs"


def _edit(docs: Path, name: str, old: str, new: str) -> None:
    path = docs / stated_numbers.SNIPPETS / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_committed_snippets_pass() -> None:
    """Every number of the committed tables and answers agrees with its independent value."""
    assert stated_numbers.check_snippets(DOCS) > 200


def test_the_carry_headed_as_the_whole_adjoint_fails(docs: Path) -> None:
    """The through-time table's carry column headed δC_t (the mislabel of issue 20) fails: at
    navy the carry is −0.149 and the whole δC_t is −0.150."""
    path = docs / stated_numbers.SNIPPETS / "through-time.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| $t$"))
    cells = lines[header].split("|")
    cells[4], cells[5] = cells[5], cells[4]  # swap the headings of the carry and the whole
    lines[header] = "|".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(stated_numbers.StatedNumberError, match=r"at t = 6 states −0.149"):
        stated_numbers.check_snippets(docs)


def test_the_carry_given_as_the_whole_delta_c6_fails(docs: Path) -> None:
    """Exercise 9's whole δC₆ answered with the carry δC₇ ⊙ f₇ (the old exercise 3) fails."""
    _edit(docs, "answer-total-c.md", "−0.150", "−0.149")
    with pytest.raises(stated_numbers.StatedNumberError, match="answer-total-c"):
        stated_numbers.check_snippets(docs)


def test_a_wrong_forward_value_fails(docs: Path) -> None:
    """A gate value off in its last digit (f at Dan) fails the forward check."""
    _edit(docs, "forget.md", "| 0.049 |", "| 0.048 |")
    with pytest.raises(stated_numbers.StatedNumberError, match=r"\$f_t\$ subject at t = 3"):
        stated_numbers.check_snippets(docs)


def test_a_number_without_a_check_fails(docs: Path) -> None:
    """An answer snippet that no independent computation covers fails the build."""
    (docs / stated_numbers.SNIPPETS / "answer-new.md").write_text("0.5\n", encoding="utf-8")
    with pytest.raises(stated_numbers.StatedNumberError, match="answer-new: no independent"):
        stated_numbers.check_snippets(docs)


def test_a_heading_without_a_check_fails(docs: Path) -> None:
    """A table column whose heading names no known quantity fails the build."""
    _edit(docs, "cell.md", "$h_t$ navy", "$y_t$ navy")
    with pytest.raises(stated_numbers.StatedNumberError, match=r"no independent check .*y_t"):
        stated_numbers.check_snippets(docs)


def test_finite_differences_see_both_paths_into_c6() -> None:
    """Nudging C₆ everywhere and only where step 7's cell equation reads it differ by the path
    through h₆ (so the two columns name two quantities)."""
    whole = stated_numbers.adjoint("C", 6)[0]
    carry = stated_numbers.adjoint("C_read", 7)[0]
    assert abs(whole - carry) > 5e-4


def _exercises() -> list[str]:
    text = EXERCISES.read_text(encoding="utf-8")
    return re.split(r"^### ", text, flags=re.M)[1:]


def test_at_least_eight_exercises_each_with_a_collapsed_solution() -> None:
    """The page has at least eight exercises and each has exactly one collapsed solution."""
    exercises = _exercises()
    assert len(exercises) >= 8
    for text in exercises:
        assert text.count('??? success "Solution"') == 1, text.splitlines()[0]
        assert "!!! success" not in text and "???+" not in text


def test_the_spec_exercise_solution_passes_gradcheck() -> None:
    """The `.cell` the spec exercise's solution includes passes `lstm-sym gradcheck --spec`."""
    included = re.findall(r'--8<-- "(docs/examples/[\w.]+\.cell)"', EXERCISES.read_text())
    assert len(included) == 1
    proc = subprocess.run(
        [sys.executable, "-m", "lstm_sym", "gradcheck", "--spec", included[0]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gradcheck passed" in proc.stdout
