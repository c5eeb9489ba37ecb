"""SymPy printer for LaTeX in the lecture's notation."""

from __future__ import annotations

from collections.abc import Mapping

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

__all__ = ["LectureLatexPrinter"]


class LectureLatexPrinter(LatexPrinter):  # type: ignore[misc]
    """LaTeX printer in the lecture's notation: ``⊙`` for elementwise products, σ, tanh.

    Parameters
    ----------
    symbol_latex : Mapping of sympy.Symbol to str
        LaTeX of every symbol, time index included (``f`` → ``f_t``, ``d_C`` → ``\\delta C_t``).
    """

    def __init__(self, symbol_latex: Mapping[sympy.Symbol, str]) -> None:
        super().__init__(
            {
                "mul_symbol": r" \odot ",
                "symbol_names": dict(symbol_latex),
                "order": "none",
            }
        )

    def _print_sigmoid(self, expr: sympy.Expr, exp: str | None = None) -> str:
        power = f"^{{{exp}}}" if exp else ""
        return rf"\sigma{power}\left({self._print(expr.args[0])}\right)"

    def _print_tanh(self, expr: sympy.Expr, exp: str | None = None) -> str:
        power = f"^{{{exp}}}" if exp else ""
        return rf"\tanh{power}\left({self._print(expr.args[0])}\right)"

    def _print_Mul(self, expr: sympy.Expr) -> str:
        # LatexPrinter._print_Pow hands a negative power (1 / x) to _print_Mul as a Pow.
        numerator, denominator = sympy.fraction(expr, exact=True)
        if denominator != 1:
            top, bottom = self._print(numerator), self._print(denominator)
            return rf"\frac{{{top}}}{{{bottom}}}"
        coefficient, factors = expr.as_coeff_mul()
        if coefficient < 0:
            return "- " + self._print_Mul(-expr) if coefficient != -1 or factors else "-1"
        # Adjoints first, as the chain rule is read: δh_t ⊙ o_t ⊙ (1 − tanh²(C_t)).
        ordered = sorted(factors, key=lambda f: 0 if str(f).startswith("d_") else 1)
        parts = [self.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in ordered]
        text = r" \odot ".join(parts)
        if coefficient != 1:
            text = f"{self._print(coefficient)} {text}"
        return text

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exponent = expr.args
        if isinstance(base, sympy.Symbol) and exponent == 2:
            name = str(self._print(base))
            if name.startswith(r"\tanh"):
                return rf"\tanh^{{2}}{name[len(chr(92) + 'tanh') :]}"
            return rf"{name}^{{2}}"
        return str(super()._print_Pow(expr))
