"""How the command line behaves in a shell: closed pipes, Ctrl-C, progress in logs, installs."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_sym.cli import main
from lstm_sym.console import Progress

REPO = Path(__file__).resolve().parent.parent


def _default_ctrl_c() -> None:
    # A test runner's worker may ignore SIGINT, and children inherit that: give the program
    # under test the default, as a shell would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _lstm_sym(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lstm_sym", *args]
    return subprocess.Popen(command, preexec_fn=_default_ctrl_c, **kwargs)  # type: ignore[call-overload]


@pytest.mark.parametrize("command", [["list"], ["derive", "lstm"]])
def test_output_into_a_closed_pipe_ends_quietly(command: list[str]) -> None:
    """Writing into a pipe whose reader has gone ends with status 141 and nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (think `head -1`) has already gone
    try:
        process = _lstm_sym(*command, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141
    assert err.decode() == ""


def test_output_piped_into_head_prints_no_traceback() -> None:
    """`lstm-sym derive lstm | head -1` prints the first line and no traceback."""
    result = subprocess.run(
        f"{sys.executable} -m lstm_sym derive lstm | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.startswith("Long short-term memory (LSTM)")
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_ctrl_c_ends_with_one_line_and_status_130() -> None:
    """SIGINT during `regenerate --check` ends with 'lstm-sym: interrupted' and exit 130."""
    process = _lstm_sym(
        "regenerate", "--check", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # the first progress line: the command is running
    assert first.strip(), "regenerate printed no progress before it ended"
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read().decode()
    process.wait(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in rest
    assert rest.strip().splitlines()[-1] == "lstm-sym: interrupted"


def test_ctrl_c_during_the_experiment_stops_its_workers_quietly(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while the experiment's
    worker processes train ends with one line and exit 130, and no worker traceback."""
    process = _lstm_sym(
        "experiment",
        "long-context",
        "--quick",
        "--out",
        str(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stderr is not None
    seen = b""
    while b"seed=" not in seen:  # a run has finished: the workers are up and training
        line = process.stderr.readline()
        assert line, f"the experiment ended before any run finished: {seen.decode()}"
        seen += line
    os.killpg(process.pid, signal.SIGINT)
    rest = process.stderr.read().decode()
    process.wait(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert rest.strip().splitlines()[-1] == "lstm-sym: interrupted"


def test_progress_in_a_log_is_plain_lines() -> None:
    """Redirected to a pipe, `regenerate --check` progress has no carriage returns."""
    result = subprocess.run(
        [sys.executable, "-m", "lstm_sym", "regenerate", "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\r" not in result.stderr
    assert "lstm: deriving" in result.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal() -> None:
    """On a terminal, updates overwrite each other with \\r and done() ends the line."""
    stream = _Terminal()
    progress = Progress(stream)
    progress.update("step 1")
    progress.update("step 2")
    progress.done()
    assert stream.getvalue() == "\rstep 1\rstep 2\n"


def test_progress_off_a_terminal_prints_each_update_once() -> None:
    """Off a terminal, each distinct update is its own line and repeats are dropped."""
    stream = io.StringIO()
    progress = Progress(stream)
    for message in ("a", "a", "b"):
        progress.update(message)
    progress.done()
    assert stream.getvalue() == "a\nb\n"


def test_counted_progress_off_a_terminal_prints_every_nth_and_the_last() -> None:
    """count() off a terminal prints every `every`-th update and the final one."""
    stream = io.StringIO()
    progress = Progress(stream, every=4)
    for done in range(1, 11):
        progress.count(f"{done}/10 mutants", done, 10)
    assert stream.getvalue().splitlines() == ["4/10 mutants", "8/10 mutants", "10/10 mutants"]


def test_regenerate_outside_a_checkout_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed without a clone (`pip install lstm_sym`), `regenerate` exits 2 and says why."""
    monkeypatch.setattr("lstm_sym.cli.repository_root", lambda: tmp_path)
    assert main(["regenerate"]) == 2
    err = capsys.readouterr().err
    assert "is not a checkout of lstm_sym" in err and "--spec" in err
    assert list(tmp_path.iterdir()) == []
