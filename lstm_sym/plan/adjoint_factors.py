"""Split each adjoint of a step into incoming adjoints times forward-only factors.

Reverse mode is linear in the adjoints: every adjoint equation of a step has the form
``δv = Σ_j δu_j ⊙ c_j``, where each coefficient ``c_j`` depends on forward values only
(``δa_f = δC ⊙ C_prev f (1 − f)`` in an LSTM). The kernel uses this in two ways:

* an adjoint with a single term (``δf = C_prev δC``) is never stored: it is substituted
  into the adjoints that read it, so the chain ``δC → δf → δa_f`` becomes one product;
* every coefficient that is not a plain value (``C_prev f (1 − f)``) is a *factor*: the
  backward pass computes it for a block of steps at once, before those steps run, so the
  per-step loop is left with a few multiplications by the incoming adjoints.

This module works out which adjoints are stored, their terms, and the factors; it does no
printing (:mod:`lstm_sym.backends.numpy.printer` turns the plan into statements).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..derive.model import Adjoint, Derivation
from ..derive.reverse import seed_symbol

__all__ = [
    "AdjointPlan",
    "Factor",
    "LinearForm",
    "Term",
    "plan_adjoints",
    "row_sources",
    "split_sign",
]


@dataclass(frozen=True)
class Term:
    """One term ``sign · source ⊙ coefficient`` of a stored adjoint.

    ``coefficient`` is a number, a forward value, or the symbol of a :class:`Factor`.
    """

    source: sympy.Symbol
    coefficient: sympy.Expr

    @property
    def expr(self) -> sympy.Expr:
        """The term as a SymPy product."""
        return self.source * self.coefficient


@dataclass(frozen=True)
class LinearForm:
    """``Σ terms``: an adjoint written through the adjoints it reads."""

    terms: tuple[Term, ...]

    @property
    def expr(self) -> sympy.Expr:
        """The sum of the terms."""
        return sympy.Add(*(term.expr for term in self.terms))

    def single_source(self) -> sympy.Symbol | None:
        """The one adjoint this form reads, when it has exactly one term."""
        return self.terms[0].source if len(self.terms) == 1 else None


@dataclass(frozen=True)
class Factor:
    """A forward-only coefficient computed for a block of steps before they run.

    ``index`` is its slot in the kernel's factor buffer (steps, B, factors, H).
    """

    name: str
    expr: sympy.Expr
    index: int

    @property
    def symbol(self) -> sympy.Symbol:
        """The symbol standing for the factor in the per-step forms."""
        return sympy.Symbol(self.name, real=True)


@dataclass
class AdjointPlan:
    """Which adjoints a step stores, how each is computed, and the factors they use.

    Attributes
    ----------
    forms : dict of str to LinearForm
        Stored adjoints by quantity name, their terms using factor symbols.
    inlined : dict of sympy.Symbol to sympy.Expr
        Single-term adjoints substituted into their readers instead of being stored.
    factors : list of Factor
        In slot order; factors of a run of stacked rows (see :attr:`row_runs`) are adjacent.
    row_runs : dict of int to list of tuple
        Per linear group, runs of consecutive rows ``(first, stop, source)`` whose adjoints
        are all ``source ⊙ factor`` with adjacent factor slots: one broadcast product each.
    """

    forms: dict[str, LinearForm] = field(default_factory=dict)
    inlined: dict[sympy.Symbol, sympy.Expr] = field(default_factory=dict)
    factors: list[Factor] = field(default_factory=list)
    row_runs: dict[int, list[tuple[int, int, sympy.Symbol]]] = field(default_factory=dict)

    def factor_of(self, symbol: sympy.Symbol) -> Factor | None:
        """The factor named by ``symbol``, if it is one."""
        for factor in self.factors:
            if factor.symbol == symbol:
                return factor
        return None


def adjoint_symbols(derivation: Derivation) -> set[sympy.Symbol]:
    """Every symbol of the step that holds an adjoint (seeds and GEMM placeholders included)."""
    every = derivation.adjoints + derivation.parameter_adjoints
    symbols = {adjoint.symbol for adjoint in every + derivation.previous_state_adjoints}
    symbols |= {seed_symbol(state) for state in derivation.spec.state_names}
    symbols |= {operand.symbol for operand in derivation.linear_operands}
    return symbols


def linear_terms(
    expr: sympy.Expr, adjoints: set[sympy.Symbol]
) -> list[tuple[sympy.Symbol, sympy.Expr]]:
    """Split ``expr``, linear in ``adjoints``, into ``(adjoint, coefficient)`` pairs.

    Raises
    ------
    ValueError
        If ``expr`` is not linear in the adjoints (a derivation never produces that).
    """
    sources = sorted(expr.free_symbols & adjoints, key=lambda s: s.name)
    terms = [(source, sympy.diff(expr, source)) for source in sources]
    # Linear (and homogeneous) iff no coefficient reads an adjoint and the expression vanishes
    # with every adjoint at zero; no expansion, whose cost grows exponentially with products
    # of sums.
    constant = expr.xreplace({source: sympy.Integer(0) for source in sources})
    if constant != 0 or any(c.free_symbols & adjoints for _, c in terms):
        raise ValueError(f"adjoint expression is not linear in the adjoints: {expr}")
    return terms


def split_sign(coefficient: sympy.Expr) -> tuple[bool, sympy.Expr]:
    """``-3 z`` → ``(True, 3 z)``; a sum such as ``1 - z`` keeps its sign."""
    if coefficient.is_Number or coefficient.is_Mul:
        if coefficient.as_coeff_Mul()[0] < 0:
            return True, -coefficient
    return False, coefficient


def _is_plain(coefficient: sympy.Expr) -> bool:
    """Whether a coefficient costs nothing to read: a number or a (negated) forward value."""
    bare = split_sign(coefficient)[1]
    return bool(bare.is_Number or bare.is_Symbol)


def _quantity(symbol: sympy.Symbol) -> str:
    """``d_a_f`` → ``a_f``: the quantity an adjoint symbol belongs to."""
    name = str(symbol.name)
    return name[2:] if name.startswith("d_") else name


def plan_adjoints(
    derivation: Derivation,
    row_orders: dict[int, tuple[str, ...]] | None = None,
    halved: frozenset[str] = frozenset(),
) -> AdjointPlan:
    """Decide what the backward step stores and which factors it computes per block.

    Parameters
    ----------
    derivation : Derivation
        The cell's adjoint equations.
    row_orders : dict of int to tuple of str, optional
        Per linear group, the order of its members' rows in the stacked buffers (member
        targets); spec order when omitted. Runs of rows sharing one source adjoint get
        adjacent factor slots.
    halved : frozenset of str
        Stacked rows that hold half their pre-activation (``a / 2``, from halved weights):
        their stored adjoint is that of ``a / 2``, twice the adjoint of ``a``.

    Returns
    -------
    AdjointPlan
    """
    row_orders = row_orders or {}
    raw = _raw_forms(derivation)
    for target in halved:
        raw.terms[target] = [(source, 2 * c) for source, c in raw.terms[target]]
    plan = AdjointPlan(inlined=raw.inlined)
    stacked = {m.target for group in derivation.groups for m in group.maps}
    factor_by_expr: dict[sympy.Expr, Factor] = {}

    def new_factor(target: str, source: sympy.Symbol, expr: sympy.Expr) -> Factor:
        name = f"fac_{target}__{_quantity(source)}"
        factor = Factor(name, expr, len(plan.factors))
        plan.factors.append(factor)
        return factor

    def shared_factor(target: str, source: sympy.Symbol, expr: sympy.Expr) -> Factor:
        if expr not in factor_by_expr:
            factor_by_expr[expr] = new_factor(target, source, expr)
        return factor_by_expr[expr]

    # Rows of a stack first: a run of rows fed by one adjoint gets adjacent slots.
    for group in reversed(derivation.groups):
        order = row_orders.get(group.index, tuple(m.target for m in group.maps))
        plan.row_runs[group.index] = []
        for first, stop, source in _source_runs(order, raw.terms):
            if stop - first < 2:
                continue
            for target in order[first:stop]:
                ((_, coefficient),) = raw.terms[target]
                factor = new_factor(target, source, coefficient)
                plan.forms[target] = LinearForm((Term(source, factor.symbol),))
            plan.row_runs[group.index].append((first, stop, source))
    row_forms = {name: raw.terms[name] for name in stacked}
    # Parameter and previous-state adjoints come after every stacked row in a step.
    last = {a.name for a in derivation.parameter_adjoints + derivation.previous_state_adjoints}
    for name, terms in raw.terms.items():
        if name in plan.forms:
            continue
        if name in last:
            terms = _through_stacked_row(terms, row_forms, derivation)
        result = []
        for source, coefficient in terms:
            if not _is_plain(coefficient):
                negative, bare = split_sign(coefficient)
                symbol = shared_factor(name, source, bare).symbol
                coefficient = -symbol if negative else symbol
            result.append(Term(source, coefficient))
        plan.forms[name] = LinearForm(tuple(result))
    return plan


@dataclass
class _RawForms:
    terms: dict[str, list[tuple[sympy.Symbol, sympy.Expr]]]
    inlined: dict[sympy.Symbol, sympy.Expr]


def _raw_forms(derivation: Derivation) -> _RawForms:
    """Linear forms of the stored adjoints, with single-term adjoints substituted away.

    Adjoints of stacked rows, of parameters and of previous states are always stored (GEMMs,
    sums and the next step read them); any other adjoint is stored only if it has more than
    one term.
    """
    adjoints = adjoint_symbols(derivation)
    stacked = {m.target for group in derivation.groups for m in group.maps}
    always = stacked | {a.name for a in derivation.parameter_adjoints}
    always |= {a.name for a in derivation.previous_state_adjoints}
    inlined: dict[sympy.Symbol, sympy.Expr] = {}
    terms: dict[str, list[tuple[sympy.Symbol, sympy.Expr]]] = {}
    ordered: tuple[Adjoint, ...] = (
        derivation.adjoints + derivation.parameter_adjoints + derivation.previous_state_adjoints
    )
    for adjoint in ordered:
        expr = adjoint.expr.xreplace(inlined)
        found = linear_terms(expr, adjoints)
        if adjoint.name not in always and len(found) == 1:
            source, coefficient = found[0]
            inlined[adjoint.symbol] = source * coefficient
            continue
        terms[adjoint.name] = found
    return _RawForms(terms, inlined)


def _source_runs(
    order: tuple[str, ...], terms: dict[str, list[tuple[sympy.Symbol, sympy.Expr]]]
) -> list[tuple[int, int, sympy.Symbol]]:
    """Maximal runs of rows whose adjoints are one source times a coefficient."""
    runs: list[tuple[int, int, sympy.Symbol]] = []
    for position, target in enumerate(order):
        found = terms[target]
        source = found[0][0] if len(found) == 1 else None
        if source is None:
            continue
        if runs and runs[-1][1] == position and runs[-1][2] == source:
            runs[-1] = (runs[-1][0], position + 1, source)
        else:
            runs.append((position, position + 1, source))
    return runs


def _through_stacked_row(
    terms: list[tuple[sympy.Symbol, sympy.Expr]],
    row_forms: dict[str, list[tuple[sympy.Symbol, sympy.Expr]]],
    derivation: Derivation,
) -> list[tuple[sympy.Symbol, sympy.Expr]]:
    """Rewrite a term ``δu ⊙ K`` as ``δa ⊙ v`` if a stacked row has ``δa = δu ⊙ K'``, ``K = K' v``.

    A peephole's gradient ``C_prev f (1 − f) δC`` becomes ``δa_f ⊙ C_prev``: no factor, since
    ``δa_f`` is stored anyway. A term is rewritten only when the quotient ``v`` is plain.
    """
    rewritten = []
    for source, coefficient in terms:
        rewritten.append((source, coefficient))
        for group in derivation.groups:
            for linear_map in group.maps:
                row = row_forms[linear_map.target]
                if len(row) != 1 or row[0][0] != source:
                    continue
                quotient = _plain_quotient(coefficient, row[0][1])
                if quotient is not None:
                    symbol = sympy.Symbol(f"d_{linear_map.target}", real=True)
                    rewritten[-1] = (symbol, quotient)
                    break
            else:
                continue
            break
    return rewritten


#: Operation count above which a quotient is not looked for with :func:`sympy.cancel` (its
#: cost grows fast with the size of the products, e.g. a long chain of values).
_CANCEL_LIMIT = 60


def _plain_quotient(numerator: sympy.Expr, denominator: sympy.Expr) -> sympy.Expr | None:
    """``numerator / denominator`` when it is plain (a number or a signed symbol), else ``None``.

    Products are divided factor by factor; :func:`sympy.cancel` is tried only on small
    expressions.
    """
    quotient = _factor_quotient(numerator, denominator)
    if quotient is None and sympy.count_ops(numerator) + sympy.count_ops(denominator) <= (
        _CANCEL_LIMIT
    ):
        candidate = sympy.cancel(numerator / denominator)
        quotient = candidate if sympy.fraction(candidate)[1] == 1 else None
    return quotient if quotient is not None and _is_plain(quotient) else None


def _factor_quotient(numerator: sympy.Expr, denominator: sympy.Expr) -> sympy.Expr | None:
    """Divide two products factor by factor (``None`` unless every factor divides)."""
    top_coefficient, top = numerator.as_coeff_Mul()
    bottom_coefficient, bottom = denominator.as_coeff_Mul()
    if bottom_coefficient == 0:
        return None
    powers: dict[sympy.Expr, sympy.Expr] = {}
    for factor in sympy.Mul.make_args(top):
        base, exponent = factor.as_base_exp()
        powers[base] = powers.get(base, sympy.Integer(0)) + exponent
    for factor in sympy.Mul.make_args(bottom):
        base, exponent = factor.as_base_exp()
        powers[base] = powers.get(base, sympy.Integer(0)) - exponent
    if any(not (e.is_number and e >= 0) for e in powers.values()):
        return None
    rest = sympy.Mul(*(base**exponent for base, exponent in powers.items()))
    return (top_coefficient / bottom_coefficient) * rest


def row_sources(derivation: Derivation) -> dict[str, sympy.Symbol | None]:
    """Per stacked-row target, the one adjoint its adjoint is a multiple of (else ``None``)."""
    raw = _raw_forms(derivation)
    sources: dict[str, sympy.Symbol | None] = {}
    for group in derivation.groups:
        for linear_map in group.maps:
            terms = raw.terms[linear_map.target]
            sources[linear_map.target] = terms[0][0] if len(terms) == 1 else None
    return sources
