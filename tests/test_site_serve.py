"""`mkdocs serve` typesets every page reached by navigation, regenerates from the specs live,
and settles instead of rebuilding in a loop.

Every test talks to one server on one copy of the checkout (started once for the module:
each server start is a full build). The module runs in the worker of the shared site build
(it uses ``require_built_site``, see conftest.py), after that build: the server's first build
then finds the kernels of these identical sources verified, instead of verifying them again
at the same time on the other core. The navigation walks come first, on the untouched site;
each editing test leaves the spec in a state the others accept.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from site_support import build_env, copy_checkout, free_port, require_built_site
from test_site_browser import WIDTHS, browser, walk_the_learn_track

__all__ = ["browser"]  # the fixture, imported so that this module's tests can request it


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


@dataclasses.dataclass
class Server:
    """A running `mkdocs serve` of a copy of the checkout, with its log so far."""

    copy: Path
    base: str
    page: str
    log: list[str]
    process: subprocess.Popen[str]

    @property
    def spec(self) -> Path:
        return self.copy / "lstm_sym" / "spec" / "cells" / "lstm.cell"

    def builds(self) -> int:
        return sum("Documentation built" in line for line in self.log)

    def output(self) -> str:
        return "".join(self.log)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    require_built_site()  # its verification results are the server's first build's (above)
    copy = copy_checkout("lstm_sym_serve_")
    port = free_port()
    env = build_env(pythonpath=copy)
    env["LSTM_SYM_SITE_URL"] = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "mkdocs", "serve"]
    command += ["-f", str(copy / "mkdocs.yml"), "-a", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(process.stdout or []), daemon=True).start()
    base = f"http://127.0.0.1:{port}/"
    running = Server(copy, base, base + "derivations/lstm/", log, process)
    try:
        assert _wait_for(lambda: "forget-gate bias" in _get(running.page), 180), running.output()
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_math_typesets_on_every_page_reached_by_navigation_under_serve(
    browser: Browser, server: Server, width: str
) -> None:
    """Under `mkdocs serve` (site_url its own address, live reload injected), every page the
    Learn-track walk reaches without a reload shows all its math drawn."""
    walk_the_learn_track(browser, server.base, width)


def _generated_mtimes(copy: Path) -> dict[Path, int]:
    """Modification times of every file a build may (re)generate: docs/ and the kernels."""
    files = [*(copy / "docs").rglob("*"), *(copy / "lstm_sym" / "kernels").rglob("*.py")]
    return {path: path.stat().st_mtime_ns for path in files if path.is_file()}


def test_editing_a_spec_updates_the_served_site_without_a_rebuild_loop(server: Server) -> None:
    """A doc string edited in lstm.cell appears on the served derivation page, and a later
    build rewrites no generated file (a rewrite would trigger the next build: a loop)."""
    server.spec.write_text(
        server.spec.read_text().replace(
            'doc="forget-gate bias', 'doc="forget-gate bias, edited live'
        )
    )
    assert _wait_for(lambda: "edited live" in _get(server.page), 180), server.output()
    generated = (server.copy / "docs" / "derivations" / "lstm.md").read_text()
    assert "forget-gate bias, edited live" in generated
    before = _generated_mtimes(server.copy)
    # One more build, started after the snapshot: a hand-written page gets a marker, and the
    # served page shows it once that build has finished.
    index = server.copy / "docs" / "index.md"
    index.write_text(index.read_text() + "\n\nSettle marker 7f3a.\n")
    home = server.page.split("derivations/")[0]
    assert _wait_for(lambda: "Settle marker 7f3a" in _get(home), 180), server.output()
    after = _generated_mtimes(server.copy)
    rewritten = sorted(str(p.relative_to(server.copy)) for p in before if after.get(p) != before[p])
    assert rewritten == [str(index.relative_to(server.copy))], server.output()


def test_a_broken_spec_is_reported_and_the_server_keeps_serving(server: Server) -> None:
    """An unknown function in a spec is logged with file and line, the server keeps running, and
    fixing the spec brings the page back."""
    good = server.spec.read_text()
    server.spec.write_text(good.replace("f = sigmoid(a_f)", "f = relu(a_f)"))
    assert _wait_for(lambda: any("unsupported function 'relu'" in x for x in server.log), 180)
    assert "lstm.cell:30" in server.output()
    assert server.process.poll() is None, server.output()
    server.spec.write_text(good.replace('doc="forget-gate bias', 'doc="forget-gate bias, fixed'))
    assert _wait_for(lambda: "forget-gate bias, fixed" in _get(server.page), 180), server.output()
