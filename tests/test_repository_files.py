"""The README and the docs point only at files a user's clone has; LICENSE matches pyproject."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _local_targets(markdown: Path) -> list[str]:
    targets = LINK.findall(markdown.read_text(encoding="utf-8"))
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and t.split("#")[0]]


def test_readme_links_resolve_inside_the_repository() -> None:
    """Every relative link of README.md names a file of the repository."""
    targets = _local_targets(REPO / "README.md")
    assert targets, "the README links to no repository file"
    for target in targets:
        path = (REPO / target).resolve()
        assert path.is_relative_to(REPO) and path.exists(), f"README links to missing {target}"


def test_no_page_points_outside_the_clone() -> None:
    """No README or docs page refers to ../shared, which a user's clone does not have."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    offenders = [p.name for p in pages if "../shared" in p.read_text(encoding="utf-8")]
    assert not offenders


def test_license_is_the_mit_license_pyproject_declares() -> None:
    """LICENSE holds the MIT licence text that pyproject.toml declares."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]["text"]
    text = (REPO / "LICENSE").read_text()
    assert declared == "MIT"
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_changelog_has_an_unreleased_section() -> None:
    """CHANGELOG.md exists and starts with what is not yet released."""
    headings = re.findall(r"^## (.+)$", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings and headings[0] == "Unreleased"


def test_readme_stack_example_is_the_tested_example_file() -> None:
    """The README's stacked, bidirectional example is examples/stacked_bidirectional.py verbatim."""
    example = (REPO / "examples" / "stacked_bidirectional.py").read_text().strip()
    assert example in (REPO / "README.md").read_text()
