"""Time and memory limits on deriving a user's cell.

Some legal equations make SymPy work for ever: ``tanh(exp(K * sigmoid(a)))`` with K = 1e15
spends its time (and gigabytes) in SymPy's assumptions on a polynomial of degree K. The
derivation of a user spec therefore runs under :func:`limited`, which stops it with a
:class:`DerivationLimitError` once it has taken :data:`MAX_SECONDS` or grown the process by
:data:`MAX_MEMORY_BYTES`.

A timer signal (``SIGALRM``, every 50 ms) checks the clock and the resident memory; SymPy
runs Python code, so the check runs within milliseconds. If the signal arrives inside a
finaliser or a garbage-collector callback, Python cannot raise the error there and hands it
to ``sys.unraisablehook``; for the duration, a hook that drops exactly that error (and passes
anything else on to the hook it replaced) is installed, and the next tick raises the error
again in the caller. The address space is also capped
(``RLIMIT_AS``) for the duration, so that a single huge allocation fails with
``MemoryError`` instead of swapping. Signals exist only in the main thread of a POSIX
process; elsewhere the derivation runs without limits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType

__all__ = ["MAX_MEMORY_BYTES", "MAX_SECONDS", "DerivationLimitError", "limited"]

#: Longest a user cell may take to derive and render (the built-in cells take 0.1 s each).
MAX_SECONDS = 30.0
#: Most memory deriving a user cell may add to the process (the built-in cells add ~10 MB).
MAX_MEMORY_BYTES = 2 * 1024**3
_TICK = 0.05


class DerivationLimitError(RuntimeError):
    """Deriving a cell took longer than :data:`MAX_SECONDS` or more memory than allowed.

    ``line`` is the spec line of the equation being differentiated, when known (else 0).
    """

    def __init__(self, problem: str, line: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as stream:
            fields = stream.read().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource  # ru_maxrss (peak, KiB on Linux) where /proc is missing

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as stream:
            return int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def limited(seconds: float | None = None, memory_bytes: int | None = None) -> Iterator[None]:
    """Run the body under a time and memory limit; raise :class:`DerivationLimitError`.

    Parameters
    ----------
    seconds : float, optional
        Wall-clock limit (default :data:`MAX_SECONDS`, read when called).
    memory_bytes : int, optional
        Growth of the resident memory allowed (default :data:`MAX_MEMORY_BYTES`).
    """
    seconds = MAX_SECONDS if seconds is None else seconds
    memory_bytes = MAX_MEMORY_BYTES if memory_bytes is None else memory_bytes
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return
    start = time.monotonic()
    baseline = _resident_bytes()

    previous_hook = sys.unraisablehook

    def drop_limit_errors(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, DerivationLimitError):
            previous_hook(unraisable)

    def check(signum: int, frame: FrameType | None) -> None:
        if time.monotonic() - start > seconds:
            problem = (
                f"deriving this cell takes longer than {seconds:g} s; simplify the equations "
                "(large constants inside exp, sigmoid or tanh make SymPy slow)"
            )
        elif _resident_bytes() - baseline > memory_bytes:
            problem = (
                f"deriving this cell needs more than {memory_bytes / 1024**3:g} GB of memory; "
                "simplify the equations (large constants inside exp, sigmoid or tanh)"
            )
        else:
            return
        if not _inside(frame, drop_limit_errors.__code__):
            raise DerivationLimitError(problem)
        # Raised inside the unraisable hook, the error would be printed: the next tick raises.

    sys.unraisablehook = drop_limit_errors
    previous_handler = signal.signal(signal.SIGALRM, check)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, _TICK, _TICK)
    restore_limit = _cap_address_space(memory_bytes)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer != (0.0, 0.0):
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)
        restore_limit()
        sys.unraisablehook = previous_hook


def _inside(frame: FrameType | None, code: CodeType) -> bool:
    """Whether ``code`` runs in ``frame`` or in any frame that called it."""
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def _cap_address_space(extra: int) -> Callable[[], None]:
    """Cap the address space at its current size plus ``extra``; return the undo."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return lambda: None
    current = _address_space_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if current is None or soft != resource.RLIM_INFINITY:
        return lambda: None
    cap = current + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):
        return lambda: None
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
