"""Regeneration: committed files up to date, deterministic, atomic, and --check precise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_sym import regenerate
from lstm_sym.regenerate import builtin_artifacts, repository_root, stale_files, write_files

ROOT = repository_root()


def _all_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for cell in builtin_artifacts():
        files.update(cell.files)
    return files


def test_committed_generated_files_are_up_to_date():
    """Regenerating in memory gives exactly the files in the repository."""
    assert stale_files(_all_files(), ROOT) == []


def test_every_generated_file_names_its_spec_and_command():
    """Each generated file's header says which spec and which command produced it."""
    for relative, content in _all_files().items():
        header = "\n".join(content.splitlines()[:2])
        assert "Generated from lstm_sym/spec/" in header, relative
        assert "`lstm-sym regenerate`" in header and "do not edit" in header, relative


def test_generated_kernels_import_only_numpy():
    """A generated NumPy kernel imports numpy and the standard library, nothing else."""
    for relative, content in _all_files().items():
        # The torch modules import only torch (tests/test_nn_backend.py).
        if relative.endswith(".py") and not relative.startswith("lstm_sym/torch_kernels/"):
            imports = {
                line.split()[1].split(".")[0]
                for line in content.splitlines()
                if line.startswith(("import ", "from "))
            }
            assert imports <= {"numpy", "__future__", "collections", "typing"}, relative


def _regenerate_into(root: Path, seed: str) -> dict[str, bytes]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    subprocess.run(
        [sys.executable, "-m", "lstm_sym", "regenerate", "--root", str(root)],
        check=True,
        env=env,
        capture_output=True,
    )
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_regeneration_is_byte_identical_under_different_hash_seeds(tmp_path):
    """Two regenerations with PYTHONHASHSEED 0 and 4242 write byte-identical files."""
    first = _regenerate_into(tmp_path / "a", "0")
    second = _regenerate_into(tmp_path / "b", "4242")
    assert first and first == second
    assert first["lstm_sym/kernels/lstm.py"] == (ROOT / "lstm_sym/kernels/lstm.py").read_bytes()


def _copy_generated(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for relative in _all_files():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    return root


def test_check_names_exactly_the_stale_files(tmp_path):
    """--check exits 1 and lists the one edited and the one deleted file, nothing else."""
    root = _copy_generated(tmp_path)
    (root / "docs/derivations/lstm.md").write_text("edited by hand\n")
    (root / "docs/snippets/lstm/forward-f.md").unlink()
    result = subprocess.run(
        [sys.executable, "-m", "lstm_sym", "regenerate", "--check", "--root", str(root)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    listed = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert listed == ["docs/derivations/lstm.md", "docs/snippets/lstm/forward-f.md"]
    assert (root / "docs/derivations/lstm.md").read_text() == "edited by hand\n"


def test_check_passes_on_an_up_to_date_tree(tmp_path):
    """--check exits 0 when nothing is stale."""
    root = _copy_generated(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "lstm_sym", "regenerate", "--check", "--root", str(root)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_failing_template_leaves_every_file_as_it_was(tmp_path, monkeypatch):
    """An exception while rendering one cell's page (the GRU's) writes nothing at all, not even
    the stale kernels of the cells rendered before it."""
    from lstm_sym import artifacts

    root = _copy_generated(tmp_path)
    kernel = root / "lstm_sym/kernels/lstm.py"
    kernel.write_text("# stale\n")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    real = artifacts.render_derivation_page

    def broken(derivation, *args, **kwargs):
        if derivation.spec.name == "gru":
            raise RuntimeError("template exploded")
        return real(derivation, *args, **kwargs)

    monkeypatch.setattr(artifacts, "render_derivation_page", broken)
    with pytest.raises(RuntimeError, match="template exploded"):
        files: dict[str, str] = {}
        for cell in builtin_artifacts(root=root):
            files.update(cell.files)
        write_files(files, root)
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_a_failing_write_leaves_targets_unchanged_and_no_temporaries(tmp_path, monkeypatch):
    """If writing a temporary file fails, no target is replaced and no temporary remains."""
    root = _copy_generated(tmp_path)
    files = _all_files()
    files["lstm_sym/kernels/lstm.py"] = "# new kernel\n"
    files["docs/derivations/lstm.md"] = "# new page\n"
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    real_fdopen = os.fdopen
    calls = {"n": 0}

    def flaky_fdopen(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_fdopen(*args, **kwargs)

    monkeypatch.setattr(regenerate.os, "fdopen", flaky_fdopen)
    with pytest.raises(OSError, match="disk full"):
        write_files(files, root)
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_unchanged_files_are_not_rewritten(tmp_path):
    """Writing an up-to-date tree keeps every file's modification time (no serve rebuild loop)."""
    root = _copy_generated(tmp_path)
    times = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    result = write_files(_all_files(), root)
    assert result.written == ()
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == times
