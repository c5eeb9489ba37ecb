"""Shared helpers of the site tests: one strict build per test session, a local HTTP server.

Not a test module (no ``test_`` prefix): the ``test_site_*`` modules import it. The build is
cached at module level, so every test module of a session reuses the same built site.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Pages of the navigation, as built paths (use_directory_urls).
NAV_PAGES = (
    "index.html",
    "why-lstm/index.html",
    "cell/index.html",
    "gates/forget/index.html",
    "gates/input/index.html",
    "gates/output/index.html",
    "explore/index.html",
    "derivations/lstm/index.html",
    "exercises/index.html",
    "kernels/index.html",
    "train/index.html",
    "verification/index.html",
    "notation/index.html",
    "further-reading/index.html",
)


@dataclasses.dataclass(frozen=True)
class BuildResult:
    """The outcome of one ``mkdocs build --strict`` run."""

    returncode: int
    output: str
    seconds: float
    site_dir: Path


def build_env(pythonpath: Path | None = None) -> dict[str, str]:
    """Environment for a build: quiet Material banner, optional checkout first on PYTHONPATH."""
    env = dict(os.environ)
    env["NO_MKDOCS_2_WARNING"] = "1"
    if pythonpath is not None:
        rest = env.get("PYTHONPATH", "")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), rest) if p)
    return env


def run_build(
    config_dir: Path, site_dir: Path, env: Mapping[str, str] | None = None
) -> BuildResult:
    """Run ``mkdocs build --strict`` for the ``mkdocs.yml`` in ``config_dir``."""
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(config_dir / "mkdocs.yml"),
            "-d",
            str(site_dir),
        ],
        cwd=config_dir,
        env=dict(env) if env is not None else build_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    return BuildResult(proc.returncode, proc.stdout + proc.stderr, seconds, site_dir)


def _temp_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@functools.cache
def site_port() -> int:
    """The port the built site is served on; its site_url names it (instant navigation)."""
    return free_port()


@functools.cache
def built_site() -> BuildResult:
    """Build the repository's site once per test session (strict) and return the result."""
    env = build_env()
    env["LSTM_SYM_SITE_URL"] = f"http://127.0.0.1:{site_port()}/"
    return run_build(REPO, _temp_dir("lstm_sym_site_") / "site", env=env)


def require_built_site() -> Path:
    """The built site folder; fails the calling test with the build log if the build failed."""
    result = built_site()
    if result.returncode != 0:
        raise AssertionError(f"mkdocs build --strict failed:\n{result.output}")
    return result.site_dir


def copy_checkout(prefix: str = "lstm_sym_copy_") -> Path:
    """Copy what a site build reads (config, docs, package) into a fresh temporary folder."""
    dest = _temp_dir(prefix) / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    dest.mkdir()
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("docs", "lstm_sym", "benchmarks/results", "examples"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    return dest


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextmanager
def serve(directory: Path, port: int = 0) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (``port`` 0: any) in a thread; yield its URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
