"""Print a per-unit SymPy expression as in-place NumPy statements into a preallocated array.

``C = f*C_prev + i*C_tilde`` becomes ``np.multiply(C_prev, f, out=C)``,
``np.multiply(C_tilde, i, out=work0)``, ``C += work0``: every intermediate lives in a
preallocated buffer (``out`` or a ``work<k>`` scratch array), so a time step allocates
nothing. Statements are returned one per line; the caller writes the readable formula as a
comment above them.
"""

from __future__ import annotations

import sympy

from ...spec.functions import sigmoid
from .code import numpy_code

__all__ = ["InPlaceEmitter"]


def _negative(term: sympy.Expr) -> bool:
    return bool(term.could_extract_minus_sign())


class InPlaceEmitter:
    """Emit statements computing an expression into an output array.

    Scratch arrays are named ``<scratch_prefix>0``, ``<scratch_prefix>1``, … (``_work0``, …
    by default); :attr:`scratch_needed` says how many the emitted code uses (the caller
    allocates them, each with the shape of ``out``).
    """

    def __init__(self, scratch_prefix: str = "_work") -> None:
        self._depth = 0
        self.scratch_prefix = scratch_prefix
        self.scratch_needed = 0

    def scratch_names(self) -> list[str]:
        """Names of every scratch array the emitted statements use."""
        return [f"{self.scratch_prefix}{k}" for k in range(self.scratch_needed)]

    def _take(self) -> str:
        name = f"{self.scratch_prefix}{self._depth}"
        self._depth += 1
        self.scratch_needed = max(self.scratch_needed, self._depth)
        return name

    def _release(self) -> None:
        self._depth -= 1

    def emit(self, expr: sympy.Expr, out: str) -> list[str]:
        """Return statements that leave the value of ``expr`` in array ``out``.

        ``out`` must not be read by ``expr`` (every quantity of a step is assigned once).
        """
        if expr.is_Symbol:
            return [f"np.copyto({out}, {expr.name})"]
        if expr.is_Number:
            return [f"{out}.fill({numpy_code(expr)})"]
        if expr.is_number:  # a constant such as E = exp(1) or sigmoid(2): its float value
            return [f"{out}.fill({float(expr.evalf())!r})"]
        if isinstance(expr, sympy.Add):
            return self._add(expr, out)
        if isinstance(expr, sympy.Mul):
            return self._mul(expr, out)
        if isinstance(expr, sympy.Pow):
            return self._pow(expr, out)
        if isinstance(expr, (sigmoid, sympy.tanh, sympy.exp)):
            return self._call(expr, out)
        raise NotImplementedError(f"no in-place form for {expr!r}")  # pragma: no cover

    def _combine(self, expr: sympy.Expr, statement: str, lines: list[str]) -> None:
        """Append ``statement.format(value)``: a symbol directly, else via a scratch array."""
        if expr.is_Symbol:
            lines.append(statement.format(expr.name))
            return
        scratch = self._take()
        lines += self.emit(expr, scratch)
        lines.append(statement.format(scratch))
        self._release()

    def _add(self, expr: sympy.Add, out: str) -> list[str]:
        terms = list(expr.args)
        numbers = [t for t in terms if t.is_Number]
        others = [t for t in terms if not t.is_Number]
        compound = [t for t in others if not (-t if _negative(t) else t).is_Symbol]
        simple = [t for t in others if t not in compound]
        lines: list[str] = []
        if compound:
            first = compound.pop(0)
            if _negative(first):
                lines += self.emit(-first, out)
                if numbers:
                    lines.append(f"np.subtract({numpy_code(numbers.pop(0))}, {out}, out={out})")
                else:
                    lines.append(f"np.negative({out}, out={out})")
            else:
                lines += self.emit(first, out)
        else:
            positive = [t for t in simple if not _negative(t)]
            if positive:
                first = positive[0]
                simple.remove(first)
                rest = simple.pop(0) if simple else None
                if rest is None:
                    lines.append(f"np.copyto({out}, {first.name})")
                elif _negative(rest):
                    lines.append(f"np.subtract({first.name}, {(-rest).name}, out={out})")
                else:
                    lines.append(f"np.add({first.name}, {rest.name}, out={out})")
            else:
                first = simple.pop(0)
                if numbers:
                    number = numpy_code(numbers.pop(0))
                    lines.append(f"np.subtract({number}, {(-first).name}, out={out})")
                else:
                    lines.append(f"np.negative({(-first).name}, out={out})")
        for term in simple + compound:
            if _negative(term):
                self._combine(-term, f"{out} -= {{}}", lines)
            else:
                self._combine(term, f"{out} += {{}}", lines)
        for number in numbers:
            value = numpy_code(-number) if number < 0 else numpy_code(number)
            lines.append(f"{out} {'-=' if number < 0 else '+='} {value}")
        return lines

    def _mul(self, expr: sympy.Mul, out: str) -> list[str]:
        coefficient, factors_tuple = expr.as_coeff_mul()
        if coefficient == -1 and len(factors_tuple) == 1 and factors_tuple[0].is_Symbol:
            return [f"np.negative({factors_tuple[0].name}, out={out})"]
        if coefficient < 0:
            return [*self.emit(-expr, out), f"np.negative({out}, out={out})"]
        factors = list(factors_tuple)
        divisors = [f.base for f in factors if f.is_Pow and f.exp == -1]
        factors = [f for f in factors if not (f.is_Pow and f.exp == -1)]
        compound = [f for f in factors if not f.is_Symbol]
        symbols = [f for f in factors if f.is_Symbol]
        lines: list[str] = []
        if compound:
            lines += self.emit(compound.pop(0), out)
        elif len(symbols) >= 2:
            first, second = symbols.pop(0), symbols.pop(0)
            lines.append(f"np.multiply({first.name}, {second.name}, out={out})")
        elif symbols:
            first = symbols.pop(0)
            if coefficient != 1:
                lines.append(f"np.multiply({first.name}, {numpy_code(coefficient)}, out={out})")
                coefficient = sympy.Integer(1)
            else:
                lines.append(f"np.copyto({out}, {first.name})")
        else:
            lines.append(f"{out}.fill(1)")
        for factor in symbols + compound:
            self._combine(factor, f"{out} *= {{}}", lines)
        for divisor in divisors:
            self._combine(divisor, f"{out} /= {{}}", lines)
        if coefficient != 1:
            lines.append(f"{out} *= {numpy_code(coefficient)}")
        return lines

    def _pow(self, expr: sympy.Pow, out: str) -> list[str]:
        base, exponent = expr.args
        lines: list[str] = []
        if base.is_Symbol:
            source = str(base.name)
        else:
            lines += self.emit(base, out)
            source = out
        if exponent == 2:
            lines.append(f"np.square({source}, out={out})")
        elif exponent == -1:
            lines.append(f"np.divide(1, {source}, out={out})")
        elif exponent == sympy.Rational(1, 2):
            lines.append(f"np.sqrt({source}, out={out})")
        else:
            lines.append(f"np.power({source}, {numpy_code(exponent)}, out={out})")
        return lines

    def _call(self, expr: sympy.Expr, out: str) -> list[str]:
        (argument,) = expr.args
        lines: list[str] = []
        if argument.is_Symbol:
            source = str(argument.name)
        else:
            lines += self.emit(argument, out)
            source = out
        if isinstance(expr, sigmoid):
            lines.append(f"_sigmoid({source}, {out})")
        else:
            lines.append(f"np.{type(expr).__name__}({source}, out={out})")
        return lines
