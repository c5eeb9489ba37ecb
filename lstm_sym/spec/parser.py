"""Parse a ``.cell`` spec file into a :class:`~lstm_sym.spec.model.CellSpec`.

The text is parsed, never evaluated: declarations are split with :mod:`shlex`, equations are
parsed with :func:`ast.parse` and the syntax tree is walked against a whitelist (names,
numbers, ``+ - * / **``, calls of the functions in
:data:`~lstm_sym.spec.functions.ALLOWED_FUNCTIONS`, and ``W @ [a, b] + c`` for linear maps).
Anything else is rejected with the file, the line and the problem.

File format (one item per line, ``#`` starts a comment)::

    cell lstm
    title "Long short-term memory (LSTM)"
    summary "One paragraph."
    compare "One line: what the cell removes or adds relative to the lecture's LSTM."
    input x     latex="x"   doc="input at step t"
    state h     latex="h"   doc="hidden state" output
    param W_f   latex="W_f" doc="forget-gate weights"
    value f     latex="f"   doc="forget gate"
    a_f = W_f @ [h_prev, x] + b_f
    f = sigmoid(a_f)

``<state>_prev`` denotes a state's value at the previous step.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import errno
import keyword
import math
import os
import re
import shlex
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import sympy

from .errors import SpecError
from .functions import ALLOWED_FUNCTIONS, sigmoid
from .model import CellSpec, Declaration, Elementwise, Equation, LinearMap, Role, previous

__all__ = [
    "PUBLIC_NAMES",
    "default_latex",
    "latex_problem",
    "name_problem",
    "parse_spec",
    "parse_spec_file",
    "text_problem",
]

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$")
#: Longest name a spec may declare (also bounds the cell name, which becomes a file name).
MAX_NAME_LENGTH = 64
#: Names a generated kernel module uses besides the spec's own names and the ``_`` namespace:
#: its public API (functions, constants, argument names), its imports, and the keys of the
#: dicts it returns. Every other name of a kernel starts with ``_``, which no spec name can.
PUBLIC_NAMES = frozenset(
    {"CELL", "INPUT_NAME", "LINEAR_STACKS", "OUTPUT_STATE", "PARAMETER_NAMES", "STATE_NAMES"}
    | {"backward", "forward", "init_params", "parameter_shapes", "step", "step_backward"}
    | {"xs", "params", "state", "dhs", "cache", "dstate", "input_size", "hidden_size"}
    | {"seed", "dtype", "np", "numpy", "Mapping", "Any", "annotations", "cell"}
)
#: ``x`` names the input of :func:`step` (and its gradient): only the spec's input may use it.
_INPUT_ONLY = frozenset({"x"})
_BUILTINS = frozenset(dir(builtins))
#: Limits on what one spec may ask for, so that parsing and deriving stay fast (seconds).
MAX_FILE_BYTES = 200_000
MAX_LINE_LENGTH = 5_000
MAX_EQUATIONS = 100
MAX_EXPRESSION_LENGTH = 2_000
MAX_EXPRESSION_NODES = 400
MAX_EXPRESSION_DEPTH = 40
MAX_TEXT_LENGTH = {
    "cell": MAX_NAME_LENGTH,
    "title": 200,
    "summary": 4_000,
    "compare": 1_000,
    "latex": 200,
    "doc": 1_000,
    "shape": 40,
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: Punctuation allowed in title, summary, compare and doc= text (besides letters, digits and
#: spaces): enough for prose and formulas, and inert in Markdown, HTML and Python docstrings.
TEXT_PUNCTUATION = " '()+,-./:;=[]_×−⊙·σ?!%*^≤≥≈→←…–—‘’“”"
#: LaTeX commands a latex= attribute may use (symbols and accents, nothing that acts).
LATEX_COMMANDS = frozenset(
    {"tilde", "hat", "bar", "widetilde", "widehat", "overline", "vec", "dot", "ddot", "prime"}
    | {"mathrm", "mathbf", "mathit", "mathcal", "boldsymbol", "text", "cdot", "odot", "circ"}
    | {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta"}
    | {"vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau"}
    | {"upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda"}
    | {"Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell"}
)
_LATEX_CHARACTERS = re.compile(r"^[A-Za-z0-9 _^{}\\()+\-,.'*]*$")
#: Largest magnitude of a number in an equation (float64 overflows near 1.8e308).
MAX_CONSTANT = 1e15
#: Largest magnitude of an exponent.
MAX_EXPONENT = 16
_DECLARATION_KEYWORDS = {"input": Role.INPUT, "state": Role.STATE, "param": Role.PARAM}
_DECLARATION_KEYWORDS["value"] = Role.VALUE
_HEADER_KEYWORDS = ("cell", "title", "summary", "compare")
_BINARY_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}


def default_latex(name: str) -> str:
    """Return LaTeX for an identifier: ``C_tilde`` → ``\\tilde{C}``, ``a_f`` → ``a_{f}``."""
    base, _, rest = name.partition("_")
    if rest == "tilde":
        return rf"\tilde{{{base}}}"
    if rest.endswith("_tilde"):
        return rf"\tilde{{{base}}}_{{{rest[: -len('_tilde')]}}}"
    return f"{base}_{{{rest}}}" if rest else base


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a title, summary, compare or doc= text (``None`` if it can)."""
    bad = sorted(
        {
            c
            for c in text
            if not (c.isalnum() or unicodedata.category(c).startswith("M"))
            and c not in TEXT_PUNCTUATION
        }
    )
    if bad:
        return (
            f"contains {''.join(bad)!r}: text may use letters, digits, spaces and "
            f"{TEXT_PUNCTUATION.strip()}"
        )
    if "](" in text:
        return "contains '](' (a Markdown link): write the address without brackets"
    return None


def latex_problem(latex: str) -> str | None:
    """Why ``latex`` cannot be a latex= attribute (``None`` if it can)."""
    if not _LATEX_CHARACTERS.fullmatch(latex):
        return (
            "may use letters, digits, spaces, _ ^ { } ( ) + - , . ' * and commands such as "
            "\\tilde, \\hat, \\mathrm and Greek letters"
        )
    depth = 0
    for character in latex:
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return "has a '}' without its '{'"
    if depth:
        return "has a '{' without its '}'"
    for command in re.findall(r"\\([A-Za-z]*)", latex):
        if command not in LATEX_COMMANDS:
            return f"uses \\{command}, which is not one of {', '.join(sorted(LATEX_COMMANDS))}"
    return None


def name_problem(name: str, role: Role = Role.VALUE) -> str | None:
    """Why ``name`` cannot name a quantity of the given role in a spec (``None`` if it can).

    A spec name is letters and digits joined by single ``_`` (so it never starts with ``_``,
    the generated kernels' own namespace), at most :data:`MAX_NAME_LENGTH` characters, not a
    Python keyword or builtin, not one of :data:`PUBLIC_NAMES`, and without the affixes the
    kernels derive from spec names (``d_`` prefix, ``_prev``, ``_seq``, ``_in`` suffixes).
    """
    if len(name) > MAX_NAME_LENGTH:
        return f"the name {name[:20]!r}… is {len(name)} characters long; at most {MAX_NAME_LENGTH}"
    if not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name):
        return (
            f"{name!r} is not a valid name: use letters and digits joined by single '_' "
            "(starting with a letter, not a Python keyword)"
        )
    if name.startswith("d_") or name.endswith(("_seq", "_prev", "_in")):
        return (
            f"the name {name!r} is reserved for the generated code: no 'd_' prefix and no "
            "'_seq', '_prev' or '_in' suffix (the kernels derive such names from spec names)"
        )
    if name in _BUILTINS:
        return f"the name {name!r} is a Python builtin, which the generated code uses; rename it"
    if name in PUBLIC_NAMES or (name in _INPUT_ONLY and role is not Role.INPUT):
        only = " (only the input may be called 'x')" if name in _INPUT_ONLY else ""
        return (
            f"the name {name!r} is reserved for the generated code's public API{only}; "
            f"reserved: {', '.join(sorted(PUBLIC_NAMES | _INPUT_ONLY))}"
        )
    return None


#: A shape= value with its spaces removed: ``H`` or ``H, <sum of H and D terms>``.
_SHAPE = re.compile(r"^\(?H(?:,\d*[HD](?:\+\d*[HD])*)?\)?$")


def shape_problem(text: str) -> str | None:
    """Why ``text`` cannot be a shape= attribute (``None`` if it can)."""
    if _SHAPE.fullmatch(text.replace(" ", "")):
        return None
    return (
        f"{text!r} is not a shape: write 'H' for a vector or 'H, <width>' for a matrix, the "
        "width a sum of H and D terms ('H, H + D', 'H, 2H + D')"
    )


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "a named pipe", stat.S_ISCHR: "a character device"}
    kinds |= {stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


def parse_spec_file(path: Path | str) -> CellSpec:
    """Read and parse the spec file at ``path``.

    Raises
    ------
    SpecError
        If the file cannot be read or is malformed (the message names file and line).
    """
    source = Path(path)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer; anything but a
        # regular file is refused before a byte is read.
        descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            mode = os.fstat(descriptor).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if not stat.S_ISREG(mode):
                raise OSError(f"not a regular file ({_file_kind(mode)})")
            data = stream.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SpecError(source, 0, f"cannot read the spec file: {reason}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(source, 1, f"the spec file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SpecError(source, line, "the spec file is not UTF-8 text") from None
    return parse_spec(text, source)


def parse_spec(text: str, source: Path | str = "<spec>") -> CellSpec:
    """Parse spec ``text``; ``source`` names the file in error messages.

    Raises
    ------
    SpecError
        If the text is malformed: unknown symbol or function, unsupported syntax, a shape
        mismatch, a state never updated, a value used before it is assigned (or a cycle).
    """
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(source, 1, f"the spec is longer than {MAX_FILE_BYTES} characters")
    return _SpecBuilder(Path(source)).build(text.removeprefix("\ufeff"))


@dataclass
class _SpecBuilder:
    source: Path
    header: dict[str, tuple[str, int]] = field(default_factory=dict)
    declarations: dict[str, Declaration] = field(default_factory=dict)
    raw_equations: list[tuple[str, str, int]] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)
    assigned: dict[str, int] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    weight_use: dict[str, LinearMap] = field(default_factory=dict)
    vector_param_use: dict[str, int] = field(default_factory=dict)

    def error(self, line: int, problem: str) -> SpecError:
        return SpecError(self.source, line, problem)

    # -- pass 1: split lines -------------------------------------------------------------
    def build(self, text: str) -> CellSpec:
        for number, raw in enumerate(_LINE_BREAK.split(text), start=1):
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if len(stripped) > MAX_LINE_LENGTH:
                raise self.error(
                    number,
                    f"the line is {len(stripped)} characters long; at most {MAX_LINE_LENGTH}",
                )
            if any(ord(c) < 32 and c != "\t" for c in stripped):
                raise self.error(number, "the line contains a control character")
            first = stripped.split(None, 1)[0]
            if first in _HEADER_KEYWORDS or first in _DECLARATION_KEYWORDS:
                self.read_declaration(stripped, number)
            elif "=" in stripped:
                target, _, rhs = stripped.partition("=")
                rhs = rhs.split("#", 1)[0]
                self.raw_equations.append((target.strip(), rhs.strip(), number))
            else:
                raise self.error(
                    number,
                    f"cannot read {stripped!r}: expected a declaration "
                    f"({', '.join(_HEADER_KEYWORDS + tuple(_DECLARATION_KEYWORDS))}) "
                    "or an equation 'name = expression'",
                )
        if len(self.raw_equations) > MAX_EQUATIONS:
            raise self.error(
                self.raw_equations[MAX_EQUATIONS][2],
                f"a cell has at most {MAX_EQUATIONS} equations; this one has "
                f"{len(self.raw_equations)}",
            )
        if len(self.declarations) > MAX_EQUATIONS:
            raise self.error(0, f"a cell declares at most {MAX_EQUATIONS} names")
        self.check_header()
        self.check_declarations()
        for target, rhs, number in self.raw_equations:
            self.read_equation(target, rhs, number)
        return self.finish()

    def read_declaration(self, text: str, line: int) -> None:
        try:
            words = shlex.split(text, comments=True)
        except ValueError as error:
            raise self.error(line, f"cannot split the declaration: {error}") from None
        keyword_, *rest = words
        if keyword_ in _HEADER_KEYWORDS:
            if len(rest) != 1:
                raise self.error(line, f"'{keyword_}' takes exactly one (quoted) value")
            if keyword_ in self.header:
                raise self.error(
                    line, f"'{keyword_}' given twice (first on line {self.header[keyword_][1]})"
                )
            limit = MAX_TEXT_LENGTH[keyword_]
            if len(rest[0]) > limit:
                raise self.error(line, f"'{keyword_}' is longer than {limit} characters")
            problem = text_problem(rest[0]) if keyword_ != "cell" else None
            if problem is not None:
                raise self.error(line, f"'{keyword_}' {problem}")
            self.header[keyword_] = (rest[0], line)
            return
        if not rest:
            raise self.error(line, f"'{keyword_}' needs a name")
        name, *attributes = rest
        self.check_identifier(name, line, _DECLARATION_KEYWORDS[keyword_])
        if name in self.declarations:
            first = self.declarations[name].line
            raise self.error(line, f"'{name}' is declared twice (first on line {first})")
        options: dict[str, str] = {}
        output = False
        for attribute in attributes:
            key, has_value, value = attribute.partition("=")
            if not has_value and key == "output":
                output = True
            elif has_value and key in ("latex", "doc", "shape"):
                if len(value) > MAX_TEXT_LENGTH[key]:
                    raise self.error(
                        line, f"{key}= is longer than {MAX_TEXT_LENGTH[key]} characters"
                    )
                problem = {"doc": text_problem, "latex": latex_problem, "shape": shape_problem}[
                    key
                ](value)
                if problem is not None:
                    raise self.error(line, f"{key}= {problem}")
                options[key] = value
            else:
                raise self.error(
                    line,
                    f"unknown attribute {attribute!r} for '{name}'; "
                    'expected latex="…", doc="…", shape="…" (params) or output (states)',
                )
        role = _DECLARATION_KEYWORDS[keyword_]
        if output and role is not Role.STATE:
            raise self.error(line, f"only a state can be the output; '{name}' is a {role.value}")
        if "shape" in options and role is not Role.PARAM:
            raise self.error(line, f"only a parameter takes shape=; '{name}' is a {role.value}")
        declaration = Declaration(
            name=name,
            role=role,
            latex=options.get("latex", default_latex(name)),
            doc=options.get("doc", ""),
            line=line,
            output=output,
        )
        self.declarations[name] = declaration
        if "shape" in options:
            self.declared_shapes[name] = (options["shape"], line)

    declared_shapes: dict[str, tuple[str, int]] = field(default_factory=dict)

    def check_identifier(self, name: str, line: int, role: Role = Role.VALUE) -> None:
        problem = name_problem(name, role)
        if problem is not None:
            raise self.error(line, problem)

    def check_header(self) -> None:
        if "cell" not in self.header:
            raise self.error(0, "missing 'cell <name>' line naming the cell")
        name, line = self.header["cell"]
        if len(name) > MAX_NAME_LENGTH:
            raise self.error(
                line, f"the cell name is {len(name)} characters long; at most {MAX_NAME_LENGTH}"
            )
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
            raise self.error(
                line,
                f"cell name {name!r} must be a lower-case Python module name "
                "(a-z, 0-9 and '_', starting with a letter)",
            )

    def check_declarations(self) -> None:
        inputs = [d for d in self.declarations.values() if d.role is Role.INPUT]
        if len(inputs) != 1:
            where = inputs[1].line if len(inputs) > 1 else 0
            raise self.error(where, f"a cell has exactly one input; found {len(inputs)}")
        states = [d for d in self.declarations.values() if d.role is Role.STATE]
        if not states:
            raise self.error(0, "a cell needs at least one state (e.g. 'state h output')")
        outputs = [d for d in states if d.output]
        if not outputs and len(states) == 1:
            only = states[0]
            self.declarations[only.name] = Declaration(
                only.name, only.role, only.latex, only.doc, only.line, output=True
            )
        elif len(outputs) != 1:
            where = outputs[1].line if len(outputs) > 1 else states[0].line
            raise self.error(
                where, f"exactly one state must be marked 'output'; found {len(outputs)}"
            )

    # -- pass 2: equations ----------------------------------------------------------------
    def read_equation(self, target: str, rhs: str, line: int) -> None:
        self.check_identifier(target, line)
        declared = self.declarations.get(target)
        if declared is not None and declared.role in (Role.INPUT, Role.PARAM):
            raise self.error(line, f"cannot assign to {declared.role.value} '{target}'")
        if target in self.assigned:
            raise self.error(
                line, f"'{target}' is assigned twice (first on line {self.assigned[target]})"
            )
        if len(rhs) > MAX_EXPRESSION_LENGTH:
            raise self.error(
                line, f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters"
            )
        try:
            tree = ast.parse(rhs, mode="eval")
        except SyntaxError as error:
            raise self.error(line, f"cannot parse {rhs[:60]!r}: {error.msg}") from None
        except (RecursionError, MemoryError, ValueError):
            raise self.error(line, f"cannot parse {rhs[:60]!r}: nested too deeply") from None
        self.check_size(tree, line)
        if any(isinstance(node, ast.MatMult) for node in ast.walk(tree)):
            equation: Equation = self.linear_map(target, tree.body, line)
        else:
            expr = self.expression(tree.body, line)
            if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                raise self.error(line, f"'{target}' is infinite or undefined (a division by zero)")
            problem = folded_problem(expr)
            if problem is not None:
                raise self.error(line, f"'{target}' {problem}")
            with sympy.evaluate(False):
                display = self.expression(tree.body, line)
            equation = Elementwise(target, expr, line, display)
        if declared is None:
            self.declarations[target] = Declaration(
                target, Role.VALUE, default_latex(target), "", 0
            )
        self.assigned[target] = line
        self.equations.append(equation)

    def check_size(self, tree: ast.AST, line: int) -> None:
        """Refuse an expression with too many operations or nested too deeply."""
        count = 0
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            count += 1
            if depth > MAX_EXPRESSION_DEPTH or count > MAX_EXPRESSION_NODES:
                raise self.error(
                    line,
                    f"the expression is too large: at most {MAX_EXPRESSION_NODES} operations "
                    f"nested at most {MAX_EXPRESSION_DEPTH} deep; assign parts to values",
                )
            stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)]

    def linear_map(self, target: str, node: ast.expr, line: int) -> LinearMap:
        expected = "a linear map must read 'W @ [a, b, …]' or 'W @ [a, b, …] + bias'"
        bias: str | None = None
        product = node
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = node.left, node.right
            if isinstance(right, ast.BinOp) and isinstance(right.op, ast.MatMult):
                left, right = right, left
            if not isinstance(right, ast.Name):
                raise self.error(line, f"{expected}; the bias must be a parameter name")
            bias, product = right.id, left
        if not (isinstance(product, ast.BinOp) and isinstance(product.op, ast.MatMult)):
            raise self.error(line, expected)
        if not isinstance(product.left, ast.Name):
            raise self.error(line, f"{expected}; the matrix must be a parameter name")
        if not isinstance(product.right, ast.List) or not product.right.elts:
            raise self.error(line, f"{expected}; the right operand must be a list of names")
        weight = product.left.id
        operands: list[str] = []
        for element in product.right.elts:
            if not isinstance(element, ast.Name):
                raise self.error(
                    line,
                    f"{expected}; list entries must be names (assign "
                    f"{ast.unparse(element)!r} to a value first)",
                )
            name = element.id
            self.check_readable(name, line)
            if self.role_of(name) is Role.PARAM:
                raise self.error(
                    line, f"parameter '{name}' cannot be an operand of '{weight} @ […]'"
                )
            if name in operands:
                raise self.error(line, f"'{name}' appears twice in '{weight} @ […]'")
            operands.append(name)
            self.used.add(name)
        self.use_weight(weight, target, tuple(operands), line)
        if bias is not None:
            self.use_vector_parameter(bias, line, as_bias=True)
        return LinearMap(target, weight, bias, tuple(operands), line)

    def expression(self, node: ast.expr, line: int) -> sympy.Expr:
        if isinstance(node, ast.Name):
            self.check_readable(node.id, line)
            if self.role_of(node.id) is Role.PARAM:
                self.use_vector_parameter(node.id, line, as_bias=False)
            elif self.role_of(node.id) is Role.INPUT:
                raise self.error(
                    line,
                    f"input '{node.id}' has D units and may only enter through a linear map "
                    "'W @ […]', not elementwise",
                )
            self.used.add(node.id)
            return sympy.Symbol(node.id, real=True)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            value = cast(int | float, node.value)
            infinite = isinstance(value, float) and not math.isfinite(value)
            if infinite or abs(value) > MAX_CONSTANT:
                huge = infinite or abs(value) > 1e300
                shown = "infinite as a float" if huge else f"{value:g}"
                raise self.error(
                    line,
                    f"a constant is out of range ({shown}): numbers must be finite and at "
                    f"most {MAX_CONSTANT:g} in magnitude",
                )
            if isinstance(value, int):
                return sympy.Integer(value)
            return sympy.Rational(repr(value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.expression(node.operand, line)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPERATORS:
            left = self.expression(node.left, line)
            right = self.expression(node.right, line)
            operator = _BINARY_OPERATORS[type(node.op)]
            if operator == "**" and not (right.is_Number and abs(right) <= MAX_EXPONENT):
                raise self.error(
                    line,
                    f"exponents must be numbers between -{MAX_EXPONENT} and {MAX_EXPONENT} "
                    "(integer, negative or fractional: x ** 2, x ** -3, x ** 0.5)",
                )
            if operator == "/" and right == 0:
                raise self.error(line, "division by zero")
            return {
                "+": lambda: left + right,
                "-": lambda: left - right,
                "*": lambda: left * right,
                "/": lambda: left / right,
                "**": lambda: left**right,
            }[operator]()
        if isinstance(node, ast.Call):
            allowed = ", ".join(sorted(ALLOWED_FUNCTIONS))
            if not isinstance(node.func, ast.Name):
                raise self.error(
                    line,
                    f"unsupported call {ast.unparse(node.func)!r}: only the functions "
                    f"{allowed} may be called, by name",
                )
            if node.func.id not in ALLOWED_FUNCTIONS:
                raise self.error(line, f"unsupported function '{node.func.id}'; allowed: {allowed}")
            if node.keywords or len(node.args) != 1:
                raise self.error(line, f"'{node.func.id}' takes exactly one argument")
            argument = self.expression(node.args[0], line)
            return ALLOWED_FUNCTIONS[node.func.id](argument)
        raise self.error(
            line,
            f"unsupported syntax {ast.unparse(node)!r} ({type(node).__name__}): equations use "
            "names, numbers, + - * / **, and calls of " + ", ".join(sorted(ALLOWED_FUNCTIONS)),
        )

    # -- symbol checks ----------------------------------------------------------------------
    def role_of(self, name: str) -> Role:
        if name.endswith("_prev"):
            return Role.STATE
        return self.declarations[name].role if name in self.declarations else Role.VALUE

    def check_readable(self, name: str, line: int) -> None:
        """Raise unless ``name`` has a value at this point of the step."""
        if name.endswith("_prev"):
            state = name[: -len("_prev")]
            declared = self.declarations.get(state)
            if declared is None or declared.role is not Role.STATE:
                raise self.error(
                    line, f"'{name}' refers to '{state}', which is not a declared state"
                )
            return
        declared = self.declarations.get(name)
        if declared is not None and declared.role in (Role.INPUT, Role.PARAM):
            return
        if name in self.assigned:
            return
        later = next((n for t, _, n in self.raw_equations if t == name), None)
        if declared is not None and declared.role is Role.STATE and later is not None:
            raise self.error(
                line,
                f"state '{name}' is read before this step assigns it (line {later}); "
                f"write {previous(name)} for its value at the previous step",
            )
        if later is not None:
            raise self.error(
                line,
                f"'{name}' is used before it is assigned (line {later}): order the equations so "
                "every value is assigned before it is read; a value cannot depend on itself "
                "(cycle)",
            )
        known = list(self.declarations) + list(self.assigned)
        known += [previous(s) for s, d in self.declarations.items() if d.role is Role.STATE]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise self.error(line, f"unknown symbol '{name}'{hint}")

    def use_weight(self, weight: str, target: str, operands: tuple[str, ...], line: int) -> None:
        declared = self.declarations.get(weight)
        if declared is None or declared.role is not Role.PARAM:
            raise self.error(line, f"'{weight}' in '{weight} @ […]' must be a declared param")
        if weight in self.vector_param_use:
            raise self.error(
                line,
                f"shape mismatch: '{weight}' is used as a vector (H,) on line "
                f"{self.vector_param_use[weight]} and as a matrix here",
            )
        if weight in self.weight_use:
            first = self.weight_use[weight]
            raise self.error(
                line,
                f"'{weight}' already acts on [{', '.join(first.operands)}] on line {first.line}; "
                "each weight belongs to one linear map",
            )
        self.weight_use[weight] = LinearMap(target, weight, None, operands, line)
        if weight in self.declared_shapes:
            text, _ = self.declared_shapes[weight]
            sizes = ["D" if self.role_of(op) is Role.INPUT else "H" for op in operands]
            n_h, n_d = sizes.count("H"), sizes.count("D")
            declared_shape = _normalise_shape(text)
            actual = ("H", n_h, n_d)
            if declared_shape != actual:
                width = " + ".join(
                    ([f"{n_h}H" if n_h > 1 else "H"] if n_h else []) + (["D"] if n_d else [])
                )
                raise self.error(
                    line,
                    f"shape mismatch: '{weight}' is declared with shape ({text}) but is applied to "
                    f"[{', '.join(operands)}], which needs shape (H, {width})",
                )

    def use_vector_parameter(self, name: str, line: int, *, as_bias: bool) -> None:
        declared = self.declarations.get(name)
        if declared is None or declared.role is not Role.PARAM:
            what = "bias" if as_bias else "parameter"
            raise self.error(line, f"{what} '{name}' must be a declared param")
        if name in self.weight_use:
            first = self.weight_use[name]
            raise self.error(
                line,
                f"shape mismatch: '{name}' is a matrix acting on [{', '.join(first.operands)}] "
                f"(line {first.line}) and cannot be used as a vector (H,) here",
            )
        if name in self.declared_shapes:
            text, _ = self.declared_shapes[name]
            if _normalise_shape(text) != ("H",):
                raise self.error(
                    line,
                    f"shape mismatch: '{name}' is declared with shape ({text}) but used as (H,)",
                )
        self.vector_param_use.setdefault(name, line)
        self.used.add(name)

    # -- pass 3: whole-cell checks -------------------------------------------------------------
    def finish(self) -> CellSpec:
        for declaration in self.declarations.values():
            if declaration.role is Role.STATE and declaration.name not in self.assigned:
                raise self.error(
                    declaration.line,
                    f"state '{declaration.name}' is never updated: add an equation "
                    f"'{declaration.name} = …'",
                )
            if declaration.role is Role.PARAM and declaration.name not in (
                set(self.weight_use) | set(self.vector_param_use)
            ):
                raise self.error(declaration.line, f"parameter '{declaration.name}' is never used")
            if declaration.role is Role.INPUT and declaration.name not in self.used:
                raise self.error(declaration.line, f"input '{declaration.name}' is never used")
            if declaration.role is Role.VALUE and declaration.name not in self.assigned:
                raise self.error(declaration.line, f"value '{declaration.name}' is never assigned")
        states = {d.name for d in self.declarations.values() if d.role is Role.STATE}
        for declaration in self.declarations.values():
            if declaration.name.endswith("0") and declaration.name[:-1] in states:
                raise self.error(
                    declaration.line,
                    f"the name {declaration.name!r} is reserved: backward returns the gradient "
                    f"of state '{declaration.name[:-1]}''s initial value under that key",
                )
        for equation in self.equations:
            target = equation.target
            if self.role_of(target) is Role.VALUE and target not in self.used:
                raise self.error(
                    equation.line, f"'{target}' is assigned but never used by a state or output"
                )
        # Order: declarations in file order, then implicit values in equation order.
        ordered = sorted(self.declarations.values(), key=lambda d: (d.line == 0, d.line))
        implicit = [d for d in ordered if d.line == 0]
        implicit.sort(key=lambda d: self.assigned.get(d.name, 0))
        ordered = [d for d in ordered if d.line != 0] + implicit
        name, _ = self.header["cell"]
        title = self.header.get("title", (name, 0))[0]
        summary = self.header.get("summary", ("", 0))[0]
        compare = self.header.get("compare", ("", 0))[0]
        return CellSpec(
            name=name,
            title=title,
            summary=summary,
            compare=compare,
            source=self.source,
            declarations=tuple(ordered),
            equations=tuple(self.equations),
        )


def _number_value(node: sympy.Expr) -> float:
    """Evaluate a constant subexpression in float64, refusing magnitudes above MAX_CONSTANT.

    Evaluated bottom-up with :mod:`math`, so that a tower such as ``exp(exp(exp(100)))``
    stops at the first overflow instead of asking SymPy for its digits.
    """
    if isinstance(node, sympy.Rational):
        value = int(node.p) / int(node.q)  # OverflowError for a huge fraction
    elif isinstance(node, sympy.Float) or node.is_NumberSymbol:  # a float; e = exp(1)
        value = float(node)
    else:
        parts = [_number_value(argument) for argument in node.args]
        if isinstance(node, sympy.Add):
            value = math.fsum(parts)
        elif isinstance(node, sympy.Mul):
            value = math.prod(parts)
        elif isinstance(node, sympy.Pow):
            value = parts[0] ** parts[1]
            if isinstance(value, complex):
                raise ValueError("is not a real number")
        elif isinstance(node, sympy.exp):
            value = math.exp(parts[0])
        elif isinstance(node, sympy.tanh):
            value = math.tanh(parts[0])
        elif isinstance(node, sigmoid):
            value = 0.5 * (1.0 + math.tanh(0.5 * parts[0]))
        else:
            raise ValueError(f"uses {type(node).__name__}, which a kernel cannot compute")
    if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
        raise OverflowError
    return value


def folded_problem(expr: sympy.Expr) -> str | None:
    """Why the folded expression ``expr`` cannot be generated (``None`` if it can).

    SymPy folds constants while it builds an expression (``1e15 ** 16 * 1e15 ** 16`` becomes
    one integer of 481 digits, ``(a ** 2) ** 0.5`` becomes ``Abs(a)``), so the literal checks
    are repeated on the result: every constant, and every subexpression made only of
    constants, must be a real number of magnitude at most :data:`MAX_CONSTANT`, and every
    function must be one a spec may call.
    """
    for node in sympy.preorder_traversal(expr):
        if node.is_Function and not isinstance(node, tuple(ALLOWED_FUNCTIONS.values())):
            return (
                f"uses {type(node).__name__} after simplification ({node}), which a kernel "
                "cannot compute; write the expression with " + ", ".join(sorted(ALLOWED_FUNCTIONS))
            )
        if node.has(sympy.I) and node.is_number:
            return "is not a real number (a fractional power of a negative number?)"
    for node in sympy.preorder_traversal(expr):
        if not node.is_number:
            continue
        try:
            _number_value(node)
        except (OverflowError, ZeroDivisionError):
            return (
                f"holds a constant out of range after folding ({str(node)[:40]}): numbers "
                f"must be finite and at most {MAX_CONSTANT:g} in magnitude"
            )
        except ValueError as error:
            return str(error)
    return None


def _normalise_shape(text: str) -> tuple[object, ...]:
    """Turn ``"H, H + D"`` into ``("H", 1, 1)`` and ``"H"`` into ``("H",)`` for comparison."""
    parts = [p.strip().replace(" ", "") for p in text.strip("() ").split(",") if p.strip()]
    if len(parts) == 1:
        return (parts[0],)
    n_h = n_d = 0
    for term in parts[1].split("+"):
        count = int(term[:-1]) if len(term) > 1 and term[:-1].isdigit() else 1
        if term.endswith("H"):
            n_h += count
        elif term.endswith("D"):
            n_d += count
    return (parts[0], n_h, n_d)
