"""The lstm-sym command line: help, list, derive, gradcheck, and user spec files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_sym.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mgu.cell"


@pytest.mark.parametrize("command", ["regenerate", "gradcheck", "derive", "list"])
def test_every_command_has_help(command, capsys):
    """`lstm-sym COMMAND --help` describes the command and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: lstm-sym {command}" in capsys.readouterr().out


def test_python_dash_m_runs_the_same_program():
    """`python -m lstm_sym --help` lists the four commands."""
    result = subprocess.run(
        [sys.executable, "-m", "lstm_sym", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("regenerate", "gradcheck", "derive", "list"):
        assert command in result.stdout


def test_list_shows_the_lstm_with_its_parameter_count(capsys):
    """`lstm-sym list` prints the LSTM and its 4·H·(H + D + 1) parameters at D=32, H=64."""
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "lstm" in out and str(4 * 64 * (64 + 32 + 1)) in out


def test_derive_prints_forward_and_adjoint_equations(capsys):
    """`lstm-sym derive lstm` prints the lecture's equations and the cell-state adjoint."""
    assert main(["derive", "lstm"]) == 0
    out = capsys.readouterr().out
    assert "C = f*C_prev + i*C_tilde" in out
    assert "d_C = d_C_in + d_h*o*(1 - tanh_C**2)" in out
    assert "d_C_prev = d_C*f" in out


def test_gradcheck_passes_and_prints_a_table(capsys):
    """`lstm-sym gradcheck lstm` prints one row per tensor and exits 0."""
    assert main(["gradcheck", "lstm"]) == 0
    out = capsys.readouterr().out
    for tensor in ("W_f", "b_o", "xs", "h0", "C0"):
        assert f"  {tensor} " in out
    assert "gradcheck passed" in out


def test_gradcheck_fails_on_a_wrong_kernel(monkeypatch, capsys):
    """A kernel whose W_o gradient is off by 1e-4 makes gradcheck exit 1 and flag W_o."""
    from lstm_sym.verify import gradcheck

    original = gradcheck.kernel_source("lstm")
    entry = '"W_o": _dW_stack0[3 * _H:4 * _H],'
    assert entry in original
    wrong = original.replace(entry, entry[:-1] + " * (1 + 1e-4),")
    monkeypatch.setattr(gradcheck, "kernel_source", lambda name, backend=None: wrong)
    assert main(["gradcheck", "lstm"]) == 1
    rows = [line for line in capsys.readouterr().out.splitlines() if "FAIL" in line]
    assert [row.split()[0] for row in rows][:1] == ["W_o"]


def test_unknown_cell_is_a_clear_error(capsys):
    """An unknown cell name exits 2 and lists the known cells."""
    assert main(["derive", "nonesuch"]) == 2
    assert "no built-in cell named 'nonesuch'; known cells: lstm" in capsys.readouterr().err


def test_user_spec_generates_a_working_kernel_and_page(tmp_path):
    """--spec FILE --out DIR writes a kernel that runs and a derivation page."""
    assert main(["regenerate", "--spec", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    kernel_source = (tmp_path / "mgu.py").read_text()
    assert kernel_source.startswith("# Generated from mgu.cell by `lstm-sym regenerate --spec")
    namespace: dict[str, object] = {}
    exec(compile(kernel_source, "mgu.py", "exec"), namespace)  # our generated code, not user text
    params = namespace["init_params"](3, 4, seed=0)
    hs, state, _ = namespace["forward"](np.zeros((2, 1, 3)), params)
    assert hs.shape == (2, 1, 4) and set(state) == {"h"}
    assert r"\tilde{h}" in (tmp_path / "mgu.md").read_text()


def test_user_spec_gradcheck_passes(capsys):
    """`lstm-sym gradcheck --spec mgu.cell` checks the user cell's NumPy kernel and torch module."""
    assert main(["gradcheck", "--spec", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "mgu (numpy): finite differences" in out
    assert "mgu (torch): finite differences" in out
    assert "ok  outputs and gradients vs the numpy kernel" in out


SAME_STEP_STATE_CELL = """\
cell stateop
title "Output gate reading the new cell state through a matrix"
summary "A linear map whose operand is a state written earlier in the same step."

input x        doc="input"
state h        doc="hidden state"  output
state C        doc="cell state"
param W_f      doc="forget weights"
param b_f      doc="forget bias"
param W_o      doc="output weights"
param b_o      doc="output bias"
value f        doc="forget gate"
value o        doc="output gate"

a_f = W_f @ [h_prev, x] + b_f
f = sigmoid(a_f)
C = f * C_prev + (1 - f) * tanh(a_f)
a_o = W_o @ [C, x] + b_o
o = sigmoid(a_o)
h = o * tanh(C)
"""


def test_linear_map_on_a_state_of_the_same_step_passes_gradcheck(tmp_path, capsys):
    """A weight acting on a state written earlier in the step gets the right gradient."""
    spec = tmp_path / "stateop.cell"
    spec.write_text(SAME_STEP_STATE_CELL)
    assert main(["gradcheck", "--spec", str(spec)]) == 0
    assert "W_o" in capsys.readouterr().out


def test_malformed_user_spec_exits_2_naming_file_and_line(tmp_path, capsys):
    """A spec with an unknown function exits 2 with file:line: problem and writes nothing."""
    bad = tmp_path / "bad.cell"
    shutil.copy(EXAMPLE, bad)
    bad.write_text(bad.read_text().replace("h_tilde = tanh(a_h)", "h_tilde = relu(a_h)"))
    out = tmp_path / "out"
    assert main(["regenerate", "--spec", str(bad), "--out", str(out)]) == 2
    assert f"{bad}:22: unsupported function 'relu'" in capsys.readouterr().err
    assert not out.exists()
