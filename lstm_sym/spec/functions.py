"""Elementwise functions a cell spec may use, with their derivative rules.

Every function here is a :class:`sympy.Function` whose derivative is written through the
function's own value (σ' = σ(1 − σ), tanh' = 1 − tanh²), so a derivation can express every
local derivative through forward values the kernel has already cached.
"""

from __future__ import annotations

import sympy

__all__ = ["ALLOWED_FUNCTIONS", "sigmoid"]


class sigmoid(sympy.Function):  # type: ignore[misc]  # noqa: N801 - named as in the equations
    """The logistic function σ(a) = 1 / (1 + e^{-a}), as an opaque SymPy node.

    Keeping σ opaque (instead of ``1/(1+exp(-a))``) gives a derivative in terms of σ itself,
    prints as ``\\sigma`` in LaTeX and as a numerically stable NumPy helper in kernels.
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        """Return dσ/da = σ(a)(1 − σ(a))."""
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        value = sigmoid(self.args[0])
        return value * (1 - value)

    def _eval_rewrite_as_exp(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-arg))

    def _latex(self, printer: sympy.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        # LatexPrinter prints a power of a function as the function with exp= (σ²(a)).
        power = f"^{{{exp}}}" if exp else ""
        return rf"\sigma{power}\left({printer._print(self.args[0])}\right)"

    def _eval_evalf(self, prec: int) -> sympy.Expr | None:
        arg = self.args[0]
        if arg.is_number:
            return (1 / (1 + sympy.exp(-arg)))._eval_evalf(prec)
        return None


#: Function names a spec may call, mapped to their SymPy constructors.
ALLOWED_FUNCTIONS: dict[str, type[sympy.Function]] = {
    "sigmoid": sigmoid,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
}
