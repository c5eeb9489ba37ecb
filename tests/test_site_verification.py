"""The build-time verification page: rendering, failure messages, MathJax lookup, hook reload."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from lstm_sym.site import mathjax, verification
from lstm_sym.site.verification import CellReport


def _report(**changes: object) -> CellReport:
    base = CellReport(
        cell="lstm",
        passed=True,
        failures=[],
        finite_differences={"W_f": 1e-10, "xs": 2e-10},
        fd_tolerance=1e-7,
        torch={"W_f": 1e-15, "xs": 3e-16},
        torch_tolerance=1e-10,
        symbolic_passed=True,
        symbolic_max_abs_error=0.0,
        symbolic_digits=50,
        versions={"numpy": "2.4.6", "sympy": "1.14.0"},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_reports_survive_the_json_round_trip() -> None:
    """What the child process prints parses back into equal reports, NaN included."""
    report = _report(finite_differences={"W_f": float("nan")}, passed=False)
    payload = json.dumps({"reports": [verification._serialise(report)]})
    (parsed,) = verification.parse_reports(payload)
    assert parsed.finite_differences["W_f"] != parsed.finite_differences["W_f"]  # NaN
    assert dataclasses.replace(parsed, finite_differences={}) == dataclasses.replace(
        report, finite_differences={}
    )


def test_passing_reports_give_no_failure_message() -> None:
    """When every kernel passed, there is nothing to fail the build with."""
    assert verification.failure_message([_report()]) is None


def test_failure_message_names_kernel_and_tensor() -> None:
    """A failed report yields a message naming the kernel and each reported tensor."""
    report = _report(passed=False, failures=["lstm: W_f: finite-difference error 2.0e+00"])
    message = verification.failure_message([report])
    assert message is not None
    assert "'lstm'" in message and "W_f" in message


def test_failed_symbolic_identity_alone_fails() -> None:
    """A report whose symbolic identity failed is a failure even if `passed` says otherwise."""
    assert verification.failure_message([_report(symbolic_passed=False)]) is not None


def test_markdown_has_a_row_per_tensor_and_the_versions() -> None:
    """The rendered report lists every tensor with both errors, and every library version."""
    markdown = verification.render_markdown([_report()])
    assert "| `W_f` | 1.00e-10 |" in markdown
    assert "| `xs` | 2.00e-10 |" in markdown
    assert "| numpy | `2.4.6` |" in markdown
    assert "{ #kernel-lstm }" in markdown


def test_markdown_warns_when_torch_did_not_run() -> None:
    """Without a torch oracle the page says so instead of showing an empty column."""
    markdown = verification.render_markdown([_report(torch=None)])
    assert "Torch oracle not run" in markdown
    assert "Torch autograd" not in markdown


def test_fingerprint_changes_with_the_sources(tmp_path: Path) -> None:
    """Editing a package file changes the fingerprint, so serve re-verifies edited kernels."""
    kernel = tmp_path / "lstm_sym" / "kernels" / "lstm.py"
    kernel.parent.mkdir(parents=True)
    kernel.write_text("x = 1\n")
    before = verification.fingerprint([tmp_path])
    kernel.write_text("x = 2\n")
    assert verification.fingerprint([tmp_path]) != before


def test_an_identical_copy_elsewhere_has_the_same_fingerprint(tmp_path: Path) -> None:
    """The fingerprint reads relative names and contents, not where the checkout lies."""
    for name in ("one", "two"):
        kernel = tmp_path / name / "lstm_sym" / "kernels" / "lstm.py"
        kernel.parent.mkdir(parents=True)
        kernel.write_text("x = 1\n")
    one, two = tmp_path / "one", tmp_path / "two"
    assert verification.fingerprint([one]) == verification.fingerprint([two, two])


def test_stored_reports_are_found_only_under_their_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache folder set, reports stored under a key load back; other keys find none."""
    monkeypatch.setenv(verification.CACHE_ENV, str(tmp_path))
    verification.store_cached("abc", [_report()])
    assert verification.load_cached("abc") == [_report()]
    assert verification.load_cached("abd") is None
    assert [p.name for p in tmp_path.iterdir()] == ["abc.json"]


def test_without_the_cache_folder_nothing_is_stored_or_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset, the default, no report is written or read: every build process verifies."""
    monkeypatch.delenv(verification.CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    verification.store_cached("abc", [_report()])
    assert verification.load_cached("abc") is None
    assert list(tmp_path.iterdir()) == []


def test_mathjax_is_found_in_the_installed_package() -> None:
    """The installed django-static-mathjax provides MathJax 3.2.2's tex-chtml component."""
    source = mathjax.mathjax_source_dir()
    assert (source / "tex-chtml.js").is_file()


def test_copy_mathjax_copies_only_the_needed_parts(tmp_path: Path) -> None:
    """Only the listed MathJax parts (and the licence) land in the site, not the whole package."""
    dest = mathjax.copy_mathjax(tmp_path)
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        {"LICENSE", *(part.split("/")[0] for part in mathjax.MATHJAX_PARTS)}
    )
    assert not (dest / "tex-svg.js").exists()


def test_hooks_reload_the_site_code_on_every_build() -> None:
    """Each on_config re-imports lstm_sym.site.events, so `mkdocs serve` picks up edits."""
    from mkdocs.config import load_config

    from lstm_sym.site import hooks

    config = load_config(str(Path(__file__).resolve().parents[1] / "mkdocs.yml"))
    hooks.on_config(config)
    assert hooks._events is not None
    first = hooks._events.BuildState
    hooks.on_config(config)
    assert hooks._events.BuildState is not first


def test_new_derivation_pages_join_the_navigation(tmp_path: Path) -> None:
    """A generated derivation page that mkdocs.yml does not name is listed under "More cells",
    titled by its cell's title (its file name when no built-in cell has it), right after the
    Variants page of the reference section."""
    from mkdocs.config import load_config

    from lstm_sym.site import events

    config = load_config(str(Path(__file__).resolve().parents[1] / "mkdocs.yml"))
    (tmp_path / "derivations").mkdir()
    for name in ("lstm.md", "zz_new_cell.md"):
        (tmp_path / "derivations" / name).write_text(
            f"{events.GENERATED_MARK}x -->\n# A cell\n", encoding="utf-8"
        )
    (tmp_path / "hand-written.md").write_text("# Not generated\n", encoding="utf-8")
    config.docs_dir = str(tmp_path)
    events._add_generated_pages(config)
    section = next(
        value
        for item in config.nav
        if isinstance(item, dict)
        for value in item.values()
        if isinstance(value, list) and events.ANCHOR_PAGE in events._nav_paths(value)
    )
    titles = [next(iter(item)) if isinstance(item, dict) else item for item in section]
    position = titles.index(events.MORE_CELLS)
    assert section[position] == {events.MORE_CELLS: [{"zz_new_cell": "derivations/zz_new_cell.md"}]}
    assert events._nav_paths(section[position - 1]) == {events.ANCHOR_PAGE}
    assert "hand-written.md" not in events._nav_paths(config.nav)


def test_more_cells_are_titled_by_their_spec() -> None:
    """The navigation names a built-in cell's derivation page by the cell's title."""
    from lstm_sym.site import events

    assert events._cell_title("derivations/gru.md") == "Gated recurrent unit (GRU)"
