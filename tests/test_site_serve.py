"""`mkdocs serve` regenerates from the specs live, and settles instead of rebuilding in a loop."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from site_support import build_env, copy_checkout, free_port


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_editing_a_spec_updates_the_served_site_without_a_rebuild_loop() -> None:
    """A doc string edited in lstm.cell appears on the served derivation page, after which the
    server stops rebuilding."""
    copy = copy_checkout("lstm_sym_serve_")
    port = free_port()
    env = build_env(pythonpath=copy)
    env["LSTM_SYM_SITE_URL"] = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "mkdocs", "serve"]
    command += ["-f", str(copy / "mkdocs.yml"), "-a", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(server.stdout or []), daemon=True)
    reader.start()
    page = f"http://127.0.0.1:{port}/derivations/lstm/"
    try:
        assert _wait_for(lambda: "forget-gate bias" in _get(page), 120), "".join(log)
        spec = copy / "lstm_sym" / "spec" / "cells" / "lstm.cell"
        spec.write_text(
            spec.read_text().replace(
                'doc="forget-gate bias"', 'doc="forget-gate bias, edited live"'
            )
        )
        assert _wait_for(lambda: "edited live" in _get(page), 120), "".join(log)
        generated = (copy / "docs" / "derivations" / "lstm.md").read_text()
        assert "forget-gate bias, edited live" in generated
        builds = sum("Documentation built" in line for line in log)
        time.sleep(25)
        settled = sum("Documentation built" in line for line in log)
        assert settled - builds <= 1, "".join(log)
        time.sleep(10)
        assert sum("Documentation built" in line for line in log) == settled, "".join(log)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_broken_spec_is_reported_and_the_server_keeps_serving(tmp_path: Path) -> None:
    """An unknown function in a spec is logged with file and line, the server keeps running, and
    fixing the spec brings the page back."""
    del tmp_path
    copy = copy_checkout("lstm_sym_serve_")
    port = free_port()
    env = build_env(pythonpath=copy)
    command = [sys.executable, "-m", "mkdocs", "serve"]
    command += ["-f", str(copy / "mkdocs.yml"), "-a", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(server.stdout or []), daemon=True).start()
    page = f"http://127.0.0.1:{port}/derivations/lstm/"
    try:
        assert _wait_for(lambda: "forget-gate bias" in _get(page), 120), "".join(log)
        spec = copy / "lstm_sym" / "spec" / "cells" / "lstm.cell"
        good = spec.read_text()
        spec.write_text(good.replace("f = sigmoid(a_f)", "f = relu(a_f)"))
        assert _wait_for(lambda: any("unsupported function 'relu'" in x for x in log), 120)
        assert "lstm.cell:30" in "".join(log)
        assert server.poll() is None, "".join(log)
        spec.write_text(good.replace('doc="forget-gate bias"', 'doc="forget-gate bias, fixed"'))
        assert _wait_for(lambda: "forget-gate bias, fixed" in _get(page), 120), "".join(log)
    finally:
        server.terminate()
        server.wait(timeout=30)
