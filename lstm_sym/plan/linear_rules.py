"""The reverse rules of a linear map ``a = W·v + b``, stated once for every consumer.

For one step with adjoint ``δa`` of the pre-activation (rows: batch, or a single unit):

* ``δW += δa·vᵀ`` (outer product, summed over the batch),
* ``δb += Σ δa`` (summed over the batch),
* ``δv += Wᵀ·δa`` (the operand's adjoint, from every map reading it).

Each rule is applied through an *algebra*: a consumer says what an outer product, a
transposed product and a batch sum are in its terms (NumPy source, JavaScript source, SymPy
scalars, LaTeX), and :data:`LINEAR_REVERSE_RULES` says which of them gives which gradient.
The NumPy and JavaScript printers, the symbolic identity check
(:mod:`lstm_sym.verify.symbolic`) and the LaTeX pages all go through these rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = [
    "BIAS_RULE",
    "LINEAR_REVERSE_RULES",
    "OPERAND_RULE",
    "WEIGHT_RULE",
    "LinearAlgebra",
    "LinearReverseRule",
]

T = TypeVar("T")


class LinearAlgebra(Protocol[T]):
    """What one consumer's values are, for the three products of the reverse rules."""

    def outer(self, delta: T, operand: T) -> T:
        """``δa·vᵀ``: adjoint of the pre-activation times the operand, transposed."""
        ...

    def transposed_product(self, weight: T, delta: T) -> T:
        """``Wᵀ·δa``: the weight (its columns acting on the operand), transposed, times ``δa``."""
        ...

    def batch_sum(self, delta: T) -> T:
        """``Σ δa``: the adjoint summed over the batch."""
        ...


Gradient = Literal["weight", "bias", "operand"]


@dataclass(frozen=True)
class LinearReverseRule(Generic[T]):
    """One reverse rule: which gradient it adds to, and what it adds.

    Attributes
    ----------
    gradient : {"weight", "bias", "operand"}
        The quantity whose adjoint the rule accumulates into (``W``, ``b`` or ``v``).
    text : str
        The rule in plain text (``δW += δa·vᵀ``).
    latex : str
        The rule in LaTeX.
    """

    gradient: Gradient
    text: str
    latex: str
    _apply: Callable[[LinearAlgebra[T], T, T, T], T]

    def apply(self, algebra: LinearAlgebra[T], delta: T, weight: T, operand: T) -> T:
        """What the rule adds to its gradient, in ``algebra``'s terms.

        Parameters
        ----------
        algebra : LinearAlgebra
            The consumer's products.
        delta, weight, operand : T
            ``δa``, ``W`` (the columns acting on ``v``) and ``v``, in the consumer's terms.
        """
        return self._apply(algebra, delta, weight, operand)


WEIGHT_RULE: LinearReverseRule[Any] = LinearReverseRule(
    "weight",
    "δW += δa·vᵀ",
    r"\delta W \mathrel{+}= \delta a \, v^{\top}",
    lambda algebra, delta, weight, operand: algebra.outer(delta, operand),
)
BIAS_RULE: LinearReverseRule[Any] = LinearReverseRule(
    "bias",
    "δb += Σ δa",
    r"\delta b \mathrel{+}= \textstyle\sum \delta a",
    lambda algebra, delta, weight, operand: algebra.batch_sum(delta),
)
OPERAND_RULE: LinearReverseRule[Any] = LinearReverseRule(
    "operand",
    "δv += Wᵀ·δa",
    r"\delta v \mathrel{+}= W^{\top} \delta a",
    lambda algebra, delta, weight, operand: algebra.transposed_product(weight, delta),
)

#: The three rules, in the order weight, bias, operand.
LINEAR_REVERSE_RULES: tuple[LinearReverseRule[Any], ...] = (
    WEIGHT_RULE,
    BIAS_RULE,
    OPERAND_RULE,
)
