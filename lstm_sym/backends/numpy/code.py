"""SymPy printer for NumPy source: ``np.tanh``, and ``_sigmoid`` for the stable sigmoid node."""

from __future__ import annotations

import sympy
from sympy.printing.numpy import NumPyPrinter

__all__ = ["KernelPrinter", "numpy_code"]


class KernelPrinter(NumPyPrinter):  # type: ignore[misc]
    """NumPy printer writing ``np.tanh``, and ``_sigmoid`` for the stable sigmoid node.

    Only right-hand sides are printed; the template writes ``lhs = rhs`` itself (printing an
    assignment whose right-hand side is a bare call crashes NumPyPrinter, sympy#30395).
    """

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "strict": True})

    def _module_format(self, fqn: str, register: bool = True) -> str:
        if fqn.startswith("numpy."):
            return "np." + fqn[len("numpy.") :]
        return str(super()._module_format(fqn, register))

    def _print_sigmoid(self, expr: sympy.Expr) -> str:
        return f"_sigmoid({self._print(expr.args[0])})"


_KERNEL_PRINTER = KernelPrinter()


def numpy_code(expr: sympy.Expr) -> str:
    """Print ``expr`` as a NumPy expression over variables named like its symbols."""
    return str(_KERNEL_PRINTER.doprint(expr))
