"""Regenerate never overwrites what the user wrote, and interruptions leave nothing behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

import lstm_sym
from lstm_sym import regenerate
from lstm_sym.cli import main

CELL = """\
cell {name}
input x
state h output
param W
param b
a = W @ [h_prev, x] + b
h = tanh(a)
"""


def _spec(folder: Path, name: str = "train") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "my_gate.cell"
    path.write_text(CELL.format(name=name), encoding="utf-8")
    return path


def test_a_user_file_with_the_cell_name_is_refused_by_name(tmp_path, capsys):
    """A cell 'train' beside the user's own train.py exits 2, names it and writes nothing."""
    spec = _spec(tmp_path / "proj")
    mine = tmp_path / "proj" / "train.py"
    mine.write_text("print('my training script')\n", encoding="utf-8")
    assert main(["regenerate", "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "train.py" in err
    assert mine.read_text(encoding="utf-8") == "print('my training script')\n"
    assert sorted(p.name for p in (tmp_path / "proj").iterdir()) == ["my_gate.cell", "train.py"]


def test_files_it_generated_are_replaced(tmp_path):
    """A second regeneration after a spec change rewrites the generated kernel in place."""
    spec = _spec(tmp_path / "proj", "gate")
    assert main(["regenerate", "--spec", str(spec)]) == 0
    spec.write_text(spec.read_text().replace("h = tanh(a)", "h = sigmoid(a)"), encoding="utf-8")
    assert main(["regenerate", "--spec", str(spec)]) == 0
    assert "_sigmoid(" in (tmp_path / "proj" / "gate.py").read_text(encoding="utf-8")


def test_out_inside_the_installed_package_is_refused(tmp_path, capsys):
    """--out pointing into lstm_sym/ (where a cell named 'cli' would replace cli.py) exits 2."""
    spec = _spec(tmp_path, "cli")
    package = Path(lstm_sym.__file__).parent
    assert main(["regenerate", "--spec", str(spec), "--out", str(package)]) == 2
    assert "inside the installed package" in capsys.readouterr().err


def test_temporaries_of_a_killed_run_are_reported_then_removed(tmp_path, capsys):
    """A '.gate.py.*.tmp' left by a killed run makes --check fail; the next run removes it."""
    spec = _spec(tmp_path / "proj", "gate")
    assert main(["regenerate", "--spec", str(spec)]) == 0
    leftover = tmp_path / "proj" / ".gate.py.k1ll3d.tmp"
    leftover.write_text("half a kernel", encoding="utf-8")
    capsys.readouterr()
    assert main(["regenerate", "--spec", str(spec), "--check"]) == 1
    assert ".gate.py.k1ll3d.tmp (temporary file of an interrupted run)" in capsys.readouterr().out
    assert main(["regenerate", "--spec", str(spec)]) == 0
    assert not leftover.exists()


def test_ctrl_c_while_renaming_leaves_no_temporary_file(tmp_path, monkeypatch):
    """KeyboardInterrupt during the renames removes every temporary file not yet renamed."""
    files = {"a.py": "# Generated from x — do not edit.\n", "b.py": "# b\n", "c.py": "# c\n"}
    real_replace = regenerate.os.replace
    calls = {"n": 0}

    def interrupted(source, target):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(regenerate.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        regenerate.write_files(files, tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))


def test_gradcheck_of_a_user_spec_leaves_no_temporary_folder(tmp_path, monkeypatch, capsys):
    """`lstm-sym gradcheck --spec` creates nothing in the temporary folder."""
    spec = _spec(tmp_path / "proj", "gate")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert main(["gradcheck", "--spec", str(spec)]) == 0
    assert list(scratch.iterdir()) == []
