"""Symbolic derivation: per-step adjoint equations and the BPTT recurrence of a cell."""

from __future__ import annotations

from .limits import DerivationLimitError, limited
from .model import (
    Adjoint,
    AdjointTerm,
    Derivation,
    ForwardValue,
    LinearGroup,
    LinearOperandAdjoint,
    Stage,
)
from .reverse import adjoint_symbol, derive, seed_symbol

__all__ = [
    "Adjoint",
    "AdjointTerm",
    "Derivation",
    "DerivationLimitError",
    "ForwardValue",
    "LinearGroup",
    "LinearOperandAdjoint",
    "Stage",
    "adjoint_symbol",
    "derive",
    "limited",
    "seed_symbol",
]
