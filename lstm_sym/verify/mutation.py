"""Mutation testing of generated kernels: does ``lstm-sym gradcheck`` catch real mistakes?

Each mutant is the generated kernel with one systematic change in the computation of
``_forward``, ``backward``, ``step`` or ``step_backward`` (after input validation), or, in a
generated torch module, of ``SequenceFunction.forward`` and ``SequenceFunction.backward``:
``+`` and ``−`` swapped (``+=``/``-=``, ``np.add``/``np.subtract``, torch's fused
``addmm``/``addcmul`` with a negated product), one term or factor dropped (an operand of
``+``/``−``, the product of a fused ``addmm``/``addcmul``, or a whole in-place statement:
``+=``, ``-=``, ``*=``, ``/=``, a torch in-place method such as ``addmm_`` or
``sigmoid_``, a torch call writing into ``out=``), a numeric constant changed, an operand
of a matrix product transposed, or a time index shifted. A mutant is *killed* when
:func:`~lstm_sym.verify.gradcheck.check_kernel` (the checks of ``lstm-sym gradcheck``, and
nothing else) rejects it; an exception counts as rejection. Survivors are either equivalent
mutants (see :func:`equivalent`) or holes in the checks.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from ..backends import Backend, backend
from ..spec import CellSpec, load_builtin
from .gradcheck import (
    FD_SHAPES,
    check_kernel,
    compare_runs,
    default_backend,
    kernel_source,
    outputs_and_gradients,
    shaped_problem,
)

__all__ = [
    "Mutant",
    "MutantResult",
    "equivalent",
    "evaluate_mutant",
    "mutants",
    "mutation_operators",
]


@dataclass(frozen=True)
class Mutant:
    """One mutated kernel source.

    Attributes
    ----------
    cell : str
    operator : str
        ``swap_sign``, ``drop_term``, ``constant``, ``transpose`` or ``time_shift``.
    line : int
        Line of the generated kernel that was changed.
    before, after : str
        The changed expression, as source.
    source : str
        The whole mutated module.
    backend : str or None
        The registered backend that rendered the kernel (``None``: the default one).
    """

    cell: str
    operator: str
    line: int
    before: str
    after: str
    source: str
    backend: str | None = None


@dataclass(frozen=True)
class MutantResult:
    """Which check killed a mutant (``None`` when it survived) and why."""

    mutant: Mutant
    killed_by: str | None
    detail: str


def _time_index(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "_t"


#: Fused torch products: name → positions of the two matrix operands (after ``self``).
_TORCH_PRODUCTS = {"addmm": (1, 2), "addmm_": (0, 1), "mm": (0, 1)}
#: Fused torch products with an added term: name → the keyword that scales the product.
_TORCH_SCALED = {"addmm": "alpha", "addmm_": "alpha", "addcmul": "value", "addcmul_": "value"}


def _torch_call(node: ast.AST) -> str | None:
    """The function name of a call of the torch module (``_torch.addmm``) or a torch
    in-place method (``x.addmm_``); ``None`` for anything else (NumPy kernels have neither).
    """
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if isinstance(owner, ast.Name) and owner.id == "_torch":
        return node.func.attr
    if node.func.attr.endswith("_") and not node.func.attr.startswith("_"):
        return node.func.attr
    return None


def _torch_sites(child: ast.AST) -> Iterator[tuple[str, ast.AST, ast.AST]]:
    """Mutation sites of generated torch code: fused products and in-place statements."""
    if isinstance(child, ast.Expr):
        name = _torch_call(child.value)
        call = child.value
        writes = name is not None and (
            name.endswith("_") or any(k.arg == "out" for k in call.keywords)  # type: ignore[attr-defined]
        )
        if writes:
            yield "drop_term", child, ast.Pass()
        return
    name = _torch_call(child)
    if name is None or not isinstance(child, ast.Call):
        return
    if name in _TORCH_SCALED:
        negated = ast.keyword(_TORCH_SCALED[name], ast.Constant(-1))
        yield "swap_sign", child, ast.Call(child.func, child.args, [*child.keywords, negated])
        if not name.endswith("_") and child.args:
            yield "drop_term", child, child.args[0]
    if name in _TORCH_PRODUCTS:
        for position in _TORCH_PRODUCTS[name]:
            if position < len(child.args):
                args = list(child.args)
                args[position] = ast.Attribute(args[position], "T", ast.Load())
                yield "transpose", child, ast.Call(child.func, args, child.keywords)


def _sites(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.AST]]:
    """Yield (operator, node, replacement) for every mutation site under ``node``."""
    for child in ast.walk(node):
        yield from _torch_sites(child)
        if isinstance(child, ast.AugAssign):
            if isinstance(child.op, (ast.Add, ast.Sub)):
                flipped_op = ast.Sub() if isinstance(child.op, ast.Add) else ast.Add()
                yield "swap_sign", child, ast.AugAssign(child.target, flipped_op, child.value)
            yield "drop_term", child, ast.Pass()
        elif (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and child.func.attr in ("add", "subtract")
        ):
            other = "subtract" if child.func.attr == "add" else "add"
            function = ast.Attribute(child.func.value, other, ast.Load())
            yield "swap_sign", child, ast.Call(function, child.args, child.keywords)
        if isinstance(child, ast.BinOp) and isinstance(child.op, (ast.Add, ast.Sub)):
            flipped = ast.Sub() if isinstance(child.op, ast.Add) else ast.Add()
            yield "swap_sign", child, ast.BinOp(child.left, flipped, child.right)
            yield "drop_term", child, child.left
            yield "drop_term", child, child.right
        elif isinstance(child, ast.Constant) and isinstance(child.value, (int, float)):
            yield "constant", child, ast.Constant(child.value + 1)
        elif (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and child.func.attr == "matmul"
            and len(child.args) >= 2
        ):
            for position in (0, 1):
                args = list(child.args)
                args[position] = ast.Attribute(args[position], "T", ast.Load())
                yield "transpose", child, ast.Call(child.func, args, child.keywords)
        elif isinstance(child, ast.Subscript):
            index = child.slice
            if _time_index(index):
                for delta in (ast.Sub(), ast.Add()):
                    moved = ast.BinOp(ast.Name("_t", ast.Load()), delta, ast.Constant(1))
                    yield "time_shift", child, ast.Subscript(child.value, moved, child.ctx)
            elif (
                isinstance(index, ast.BinOp)
                and _time_index(index.left)
                and isinstance(index.op, ast.Add)
            ):
                unshifted = ast.Subscript(child.value, ast.Name("_t", ast.Load()), child.ctx)
                yield "time_shift", child, unshifted
            elif isinstance(index, ast.Slice) and index.lower is None and index.upper is not None:
                from_one = ast.Slice(ast.Constant(1), None, None)
                yield "time_shift", child, ast.Subscript(child.value, from_one, child.ctx)


#: Functions of a generated kernel whose computation is mutated (``Class.method`` for a
#: method: the generated torch module's autograd function).
MUTATED_FUNCTIONS = (
    "_forward",
    "backward",
    "step",
    "step_backward",
    "SequenceFunction.forward",
    "SequenceFunction.backward",
)


def _is_validation(statement: ast.stmt) -> bool:
    """``if …: raise …``, or an assignment from a ``_check_*`` helper."""
    if isinstance(statement, ast.If):
        return all(isinstance(s, ast.Raise) for s in statement.body)
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
        function = statement.value.func
        return isinstance(function, ast.Name) and function.id.startswith("_check_")
    return False


def _computation(tree: ast.Module) -> list[ast.stmt]:
    """Statements of the mutated functions after their input validation."""
    statements: list[ast.stmt] = []
    functions = [(node.name, node) for node in tree.body if isinstance(node, ast.FunctionDef)]
    for outer in tree.body:
        if isinstance(outer, ast.ClassDef):
            functions += [
                (f"{outer.name}.{node.name}", node)
                for node in outer.body
                if isinstance(node, ast.FunctionDef)
            ]
    for name, node in functions:
        if name not in MUTATED_FUNCTIONS:
            continue
        body = node.body
        last = max((i for i, s in enumerate(body) if _is_validation(s)), default=-1)
        statements += [s for s in body[last + 1 :] if not _is_validation(s)]
    return statements


def mutants(
    source: str,
    cell: str,
    indices: Collection[int] | None = None,
    backend: str | None = None,
) -> Iterator[Mutant]:
    """Yield the mutants of the computation in ``_forward``, ``backward``, ``step`` and
    ``step_backward`` of generated kernel ``source`` (Python), in site order.

    ``indices`` selects mutants by position in that order (all when omitted); use
    :func:`mutation_operators` to choose them without building every mutant. ``backend``
    names the registered backend that rendered ``source`` (the default one when omitted).
    """
    tree = ast.parse(source)
    parents: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for position, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        parents[id(child)] = (parent, field, position)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (parent, field, None)
    sites = [site for statement in _computation(tree) for site in _sites(statement)]
    for index, (operator, node, replacement) in enumerate(sites):
        if indices is not None and index not in indices:
            continue
        before = ast.unparse(node)
        ast.copy_location(replacement, node)
        ast.fix_missing_locations(replacement)
        holder, slot, place = parents[id(node)]
        _put(holder, slot, place, replacement)
        try:
            mutated = ast.unparse(tree)
        finally:
            _put(holder, slot, place, node)
        yield Mutant(
            cell=cell,
            operator=operator,
            line=getattr(node, "lineno", 0),
            before=before,
            after=ast.unparse(replacement),
            source=mutated,
            backend=backend,
        )


def mutation_operators(source: str) -> list[str]:
    """The operator of every mutant :func:`mutants` yields, in the same order."""
    tree = ast.parse(source)
    return [operator for statement in _computation(tree) for operator, _, _ in _sites(statement)]


def _put(parent: ast.AST, field: str, position: int | None, node: ast.AST) -> None:
    if position is None:
        setattr(parent, field, node)
    else:
        getattr(parent, field)[position] = node


@functools.cache
def _spec(cell: str) -> CellSpec:
    return load_builtin(cell)


def _backend(mutant: Mutant) -> Backend:
    return default_backend() if mutant.backend is None else backend(mutant.backend)


def evaluate_mutant(mutant: Mutant) -> MutantResult:
    """Run exactly the checks of ``lstm-sym gradcheck`` on one mutant.

    A mutant is killed by the first check that fails, or by a crash (an exception). A
    mutant of another backend's file is also compared with the cell's NumPy kernel, as
    ``lstm-sym gradcheck`` does.
    """
    target, numpy = _backend(mutant), default_backend()
    try:
        report = check_kernel(
            mutant.source,
            mutant.cell,
            spec=_spec(mutant.cell),
            backend=target,
            reference=None if target is numpy else kernel_source(mutant.cell, numpy),
            stop_early=True,
        )
    except Exception as error:  # a crash is a detected mutant
        return MutantResult(mutant, "crash", f"{type(error).__name__}: {error}"[:120])
    failure = report.first_failure()
    if failure is not None:
        tensor = failure.failing()[0]
        return MutantResult(mutant, failure.name, f"{tensor}: {failure.errors[tensor]:.1e}")
    worst = max(result.worst for result in report.results)
    return MutantResult(mutant, None, f"worst error of the checks {worst:.1e}")


#: Extra shapes (T, B, D, H) on which a survivor must agree with the original to count as
#: equivalent, besides those of the checks: a longer sequence, a wider batch, one column.
EQUIVALENCE_SHAPES = ((40, 5, 3, 4), (9, 1, 2, 3), (3, 17, 2, 2))
#: Agreement (relative, per output and gradient) that makes a survivor equivalent.
EQUIVALENCE_TOLERANCE = 1e-12


def equivalent(mutant: Mutant, original: str, *, seeds: int = 2) -> bool:
    """Whether a surviving mutant computes what the original computes, to rounding.

    Compared on every block setting of the checks, at their shapes and at
    :data:`EQUIVALENCE_SHAPES`, with ``seeds`` random problems each. Such a mutant changes
    nothing a caller can see, e.g. a slice stop past the end of the array (``[3 * H:5 * H]``)
    or a block size (``max(2, …)`` steps per block).
    """
    shapes = FD_SHAPES + EQUIVALENCE_SHAPES
    target = _backend(mutant)
    load = target.load
    if load is None:
        raise ValueError(f"backend {target.name!r} cannot run what it renders")
    try:
        for constants in target.block_settings.values():
            kernels = [load(s, mutant.cell, constants) for s in (original, mutant.source)]
            for shape in shapes:
                for seed in range(seeds):
                    runs = [
                        outputs_and_gradients(shaped_problem(kernel, shape, seed))
                        for kernel in kernels
                    ]
                    result = compare_runs("", runs[0], runs[1], EQUIVALENCE_TOLERANCE)
                    if not result.ok:
                        return False
    except Exception:
        return False
    return True
