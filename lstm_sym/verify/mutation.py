"""Mutation testing of generated backward passes: do the checks catch real mistakes?

Each mutant is the generated kernel with one systematic change inside ``backward`` (after
input validation): ``+`` and ``−`` swapped (``+=``/``-=``, ``np.add``/``np.subtract``), one
term or factor dropped (an operand of ``+``/``−``, or a whole in-place ``+=``, ``-=``,
``*=`` or ``/=`` statement), a numeric constant changed, an operand of a matrix product
transposed, or a time index shifted. A mutant is
*killed* when the finite-difference check or the torch oracle rejects it (an exception
counts as rejection). Survivors are either equivalent mutants or holes in the checks.
"""

from __future__ import annotations

import ast
import copy
import math
import types
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .finite_differences import (
    FD_TOLERANCE,
    GradientProblem,
    finite_difference_errors,
    make_problem,
)

__all__ = ["Mutant", "MutantResult", "evaluate_mutant", "identical_gradients", "mutants"]


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
    """

    cell: str
    operator: str
    line: int
    before: str
    after: str
    source: str


@dataclass(frozen=True)
class MutantResult:
    """Which check killed a mutant (``None`` when it survived) and why."""

    mutant: Mutant
    killed_by: str | None
    detail: str


def _time_index(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "_t"


def _sites(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.AST]]:
    """Yield (operator, node, replacement) for every mutation site under ``node``."""
    for child in ast.walk(node):
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


def _backward_body(tree: ast.Module) -> list[ast.stmt]:
    """Statements of ``backward`` after input validation (from the first carry on)."""
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "backward")
    start = next(
        index
        for index, statement in enumerate(function.body)
        if isinstance(statement, ast.Assign)
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id.endswith("_carry")
    )
    return function.body[start:]


def mutants(source: str, cell: str) -> Iterator[Mutant]:
    """Yield every mutant of the ``backward`` function in generated kernel ``source``."""
    tree = ast.parse(source)
    count = sum(1 for statement in _backward_body(tree) for _ in _sites(statement))
    for index in range(count):
        mutated = copy.deepcopy(tree)
        sites = [site for statement in _backward_body(mutated) for site in _sites(statement)]
        operator, node, replacement = sites[index]
        before = ast.unparse(node)
        ast.copy_location(replacement, node)
        _substitute(mutated, node, replacement)
        ast.fix_missing_locations(mutated)
        yield Mutant(
            cell=cell,
            operator=operator,
            line=getattr(node, "lineno", 0),
            before=before,
            after=ast.unparse(replacement),
            source=ast.unparse(mutated),
        )


def _substitute(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for position, item in enumerate(value):
                    if item is old:
                        value[position] = new
                        return
    raise AssertionError("mutation site not found")  # pragma: no cover


#: Rows per block in mutants: with the problems below (batch 2, 5 steps) the sequence spans
#: three blocks, so mistakes in the block bookkeeping change the gradients too.
CHUNK_ROWS = 4


class _PoisonedNumPy:
    """NumPy, except that ``empty`` and ``empty_like`` return arrays full of NaN.

    A mutant that reads a buffer it never wrote (a block of adjoint factors skipped, say)
    then yields NaN. With the real ``np.empty`` it may instead read exactly the right values,
    left in recycled memory by an earlier call with the same shapes, and hide the mistake.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def empty(shape: Any, dtype: Any = float) -> np.ndarray:
        """Like :func:`numpy.empty`, filled with NaN."""
        return np.full(shape, np.nan, dtype)

    @staticmethod
    def empty_like(prototype: np.ndarray, dtype: Any = None) -> np.ndarray:
        """Like :func:`numpy.empty_like`, filled with NaN."""
        return np.full_like(prototype, np.nan, dtype=dtype)


def _load(source: str, cell: str) -> ModuleType:
    module = types.ModuleType(f"lstm_sym_mutant_{cell}")
    exec(compile(source, f"<mutant of {cell}>", "exec"), module.__dict__)  # generated code only
    if hasattr(module, "_CHUNK_ROWS"):
        setattr(module, "_CHUNK_ROWS", CHUNK_ROWS)  # noqa: B010 - a module, not a class
    module.np = _PoisonedNumPy()  # type: ignore[attr-defined]
    return module


def _nan_last(error: float) -> float:
    """Sort key of an error: NaN ranks above every number (it is the worst error)."""
    return math.inf if math.isnan(error) else error


def _problem(kernel: ModuleType, seed: int = 0) -> GradientProblem:
    return make_problem(kernel, steps=5, batch=2, seed=seed)


def evaluate_mutant(mutant: Mutant, *, use_torch: bool = True) -> MutantResult:
    """Run the finite-difference check, then the torch oracle, on one mutant."""
    try:
        kernel = _load(mutant.source, mutant.cell)
        errors = finite_difference_errors(_problem(kernel))
    except Exception as error:  # a crash is a detected mutant
        return MutantResult(mutant, "crash", f"{type(error).__name__}: {error}"[:120])
    worst = max(errors, key=lambda k: _nan_last(errors[k]))
    if not errors[worst] < FD_TOLERANCE:
        return MutantResult(mutant, "finite differences", f"{worst}: {errors[worst]:.1e}")
    if use_torch:
        from .torch_oracle import ORACLES, TORCH_TOLERANCE, torch_errors

        if mutant.cell in ORACLES:
            try:
                oracle = torch_errors(kernel)
            except Exception as error:
                return MutantResult(mutant, "crash", f"{type(error).__name__}: {error}"[:120])
            worst = max(oracle, key=lambda k: _nan_last(oracle[k]))
            if not oracle[worst] < TORCH_TOLERANCE:
                return MutantResult(mutant, "torch", f"{worst}: {oracle[worst]:.1e}")
    return MutantResult(mutant, None, f"worst finite-difference error {max(errors.values()):.1e}")


def identical_gradients(mutant: Mutant, original: str, *, seeds: int = 3) -> bool:
    """Whether a surviving mutant returns bit-for-bit the original's gradients.

    Such a mutant is equivalent on the shapes tried, e.g. the stop of a slice that already
    ends the array (``[3 * H:4 * H]`` → ``[3 * H:5 * H]``: Python clips slices).
    """
    for seed in range(seeds):
        gradients = []
        for source in (original, mutant.source):
            problem = _problem(_load(source, mutant.cell), seed=seed)
            gradients.append(problem.gradients())
        first, second = gradients
        if first.keys() != second.keys():
            return False
        if any(first[k].tobytes() != second[k].tobytes() for k in first):
            return False
    return True
