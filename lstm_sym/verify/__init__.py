"""Checks that a generated kernel is right: finite differences, a torch oracle, a symbolic
identity. Verification reads kernels and specs; it never writes them."""

from __future__ import annotations

from .finite_differences import finite_difference_errors, make_problem, relative_error
from .symbolic import SymbolicResult, symbolic_identity

__all__ = [
    "SymbolicResult",
    "finite_difference_errors",
    "make_problem",
    "relative_error",
    "symbolic_identity",
]
