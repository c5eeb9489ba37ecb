"""Backends: each prints a cell's kernel plan for one target, from its own folder.

A backend is a package ``lstm_sym/backends/<name>/`` holding its printer, its templates
(``templates/``) and a module-level ``BACKEND``, a :class:`Backend` record. It registers by
one line in :data:`BACKEND_PACKAGES`. Everything that renders or verifies kernels asks
:func:`registered` which backends there are:

* :func:`lstm_sym.artifacts.render_cell` writes each backend's per-cell file
  (:attr:`Backend.builtin_path` in the repository, :attr:`Backend.user_path` under ``--out``);
* :func:`lstm_sym.regenerate.builtin_artifacts` adds each backend's file over all built-in
  cells (:attr:`Backend.render_builtins`, the explorer's script);
* ``lstm-sym gradcheck``, the mutation check and the verification page run the checks of
  :mod:`lstm_sym.verify.gradcheck` on every backend with a :attr:`Backend.load`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..plan.kernel_plan import KernelPlan

__all__ = [
    "BACKEND_PACKAGES",
    "Backend",
    "backend",
    "register",
    "registered",
    "unregister",
    "verifiable",
]

#: The built-in backends, in rendering order. Adding a backend: its folder, and one line here.
BACKEND_PACKAGES: tuple[str, ...] = (
    "lstm_sym.backends.numpy",
    "lstm_sym.backends.javascript",
    "lstm_sym.backends.torch",
)

#: Renders one cell's file: (plan, spec source as named in the header, command) → text.
CellRenderer = Callable[[KernelPlan, str, str], str]
#: Loads a rendered file as a kernel: (text, cell name, block constants) → an object with
#: the kernel API on NumPy arrays (see :data:`lstm_sym.kernels.KERNEL_API`).
KernelLoader = Callable[[str, str, Mapping[str, int]], Any]


@dataclass(frozen=True)
class Backend:
    """One target of the kernel plan.

    Attributes
    ----------
    name : str
        Short name (``"numpy"``), used in messages and reports.
    render : callable, optional
        Prints one cell's file from its plan (``None``: the backend writes no per-cell file).
    builtin_path, user_path : callable, optional
        Cell name → path of that file, relative to the repository (built-in cells) or to
        ``--out`` (user cells); ``user_path`` ``None``: not written for user cells.
    render_builtins : callable, optional
        (plans of all built-in cells, command) → files relative to the repository, for a
        backend that writes one file over every cell.
    load : callable, optional
        (rendered text, cell, block constants) → a kernel with ``forward``, ``backward``,
        ``step``, ``step_backward``, ... on NumPy arrays; backends with one are verified.
        Only text this package rendered may be passed (it may be executed).
    block_settings : mapping
        Block constants the gradient check crosses, by label; the first is the
        finite-difference run's, the last what the backend ships with.
    unavailable : callable, optional
        () → why :attr:`load` cannot run here (a missing optional dependency, with what to
        install), or ``None`` when it can. The checks skip such a backend and say so.
    halve_sigmoid_rows : bool
        Which plan :attr:`render` prints: with sigmoid rows holding ``a / 2`` (one tanh per
        activation block, as the NumPy kernels compute σ), or without (a backend with its own
        fused sigmoid). See :func:`lstm_sym.plan.kernel_plan.build_plan`.
    """

    name: str
    render: CellRenderer | None = None
    builtin_path: Callable[[str], str] | None = None
    user_path: Callable[[str], str] | None = None
    render_builtins: Callable[[Sequence[KernelPlan], str], dict[str, str]] | None = None
    load: KernelLoader | None = None
    block_settings: Mapping[str, Mapping[str, int]] = field(
        default_factory=lambda: {"as shipped": {}}
    )
    halve_sigmoid_rows: bool = True
    unavailable: Callable[[], str | None] | None = None

    def missing(self) -> str | None:
        """Why this backend's files cannot be run here, or ``None`` (see :attr:`unavailable`)."""
        return None if self.unavailable is None else self.unavailable()


_EXTRA: dict[str, Backend] = {}


def registered() -> tuple[Backend, ...]:
    """Every backend: those of :data:`BACKEND_PACKAGES`, then any :func:`register`-ed one."""
    found = [importlib.import_module(package).BACKEND for package in BACKEND_PACKAGES]
    return (*found, *_EXTRA.values())


def verifiable() -> tuple[Backend, ...]:
    """The backends whose rendered files can be run (and so are checked)."""
    return tuple(b for b in registered() if b.load is not None)


def backend(name: str) -> Backend:
    """The registered backend called ``name``.

    Raises
    ------
    KeyError
        If none is (the message lists them).
    """
    every = {b.name: b for b in registered()}
    if name not in every:
        raise KeyError(f"no backend {name!r}; registered: {', '.join(every)}")
    return every[name]


def register(extra: Backend) -> Backend:
    """Register a backend at run time (plugins, tests); returns it.

    Raises
    ------
    ValueError
        If a backend of that name is registered already.
    """
    if extra.name in {b.name for b in registered()}:
        raise ValueError(f"a backend named {extra.name!r} is registered already")
    _EXTRA[extra.name] = extra
    return extra


def unregister(name: str) -> None:
    """Remove a backend registered with :func:`register` (no effect on built-in ones)."""
    _EXTRA.pop(name, None)
