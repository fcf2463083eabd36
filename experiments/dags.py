"""Random small programs (DAGs) from a fixed seed, for cross_country.

A program starts from an input x ∈ R^k (k = 2…8) and appends 5–10 ops, each
reading one or two earlier values: an elementwise op (tanh, sin, cos), an
elementwise product or sum of two values of equal size (fan-in; a size-1
value broadcasts), a small matmul W·a with a random output width (1…12), a
sum (to size 1), a concatenation of two values, or a slice. Later values are
likelier operands, earlier ones are reused too (fan-out). The output is the
last value, concatenated with every value nothing else read (so no op is
dead code and the output gathers several paths: fan-in at the end).

``random_program(seed)`` returns the function, its input point and a
readable description; the same seed always gives the same program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import dualrev.numpy as dnp

KINDS = ("unary", "binary", "matmul", "sum", "concat", "slice")
WEIGHTS = (0.30, 0.20, 0.24, 0.08, 0.10, 0.08)
UNARY = {"tanh": dnp.tanh, "sin": dnp.sin, "cos": dnp.cos}


class RandomProgram(NamedTuple):
    function: Callable[[Any], Any]
    x: np.ndarray
    text: str
    ops: list[tuple]


def _operand(rng: np.random.Generator, count: int) -> int:
    """An earlier value, later ones likelier (weight 1 + index)."""
    weights = np.arange(1, count + 1, dtype=float)
    return int(rng.choice(count, p=weights / weights.sum()))


def random_program(seed: int, steps: tuple[int, int] = (5, 10), inputs: tuple[int, int] = (2, 8)) -> RandomProgram:
    """The program of ``seed``: ops as (kind, operands, parameter) tuples."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(inputs[0], inputs[1] + 1))]
    ops: list[tuple] = []
    for _ in range(int(rng.integers(steps[0], steps[1] + 1))):
        kind = str(rng.choice(KINDS, p=WEIGHTS))
        a = _operand(rng, len(sizes))
        if kind == "binary":
            partners = [b for b in range(len(sizes)) if b != a and (sizes[b] in (sizes[a], 1) or sizes[a] == 1)]
            if not partners:
                kind = "unary"
            else:
                b = int(rng.choice(partners))
                ops.append(("binary", (a, b), str(rng.choice(["mul", "add"]))))
                sizes.append(max(sizes[a], sizes[b]))
                continue
        if kind == "slice" and sizes[a] < 2:
            kind = "unary"
        if kind == "unary":
            ops.append(("unary", (a,), str(rng.choice(list(UNARY)))))
            sizes.append(sizes[a])
        elif kind == "matmul":
            width = int(rng.integers(1, 13))
            ops.append(("matmul", (a,), rng.standard_normal((width, sizes[a])) / np.sqrt(sizes[a])))
            sizes.append(width)
        elif kind == "sum":
            ops.append(("sum", (a,), None))
            sizes.append(1)
        elif kind == "concat":
            b = _operand(rng, len(sizes))
            ops.append(("concat", (a, b), None))
            sizes.append(sizes[a] + sizes[b])
        elif kind == "slice":
            lo = int(rng.integers(0, sizes[a] - 1))
            hi = int(rng.integers(lo + 1, sizes[a] + 1))
            ops.append(("slice", (a,), (lo, hi)))
            sizes.append(hi - lo)
    read = {i for _, operands, _ in ops for i in operands}
    last = len(sizes) - 1
    unread = [i for i in range(1, last) if i not in read]
    ops.append(("output", (last, *unread), None))
    x = rng.standard_normal(sizes[0])
    return RandomProgram(_interpreter(ops), x, describe(ops, sizes), ops)


def _apply(kind: str, args: list, parameter: Any) -> Any:
    if kind == "unary":
        return UNARY[parameter](args[0])
    if kind == "binary":
        return args[0] * args[1] if parameter == "mul" else args[0] + args[1]
    if kind == "matmul":
        return dnp.matmul(parameter, args[0])
    if kind == "sum":
        return dnp.sum(args[0], keepdims=True)
    if kind == "slice":
        return args[0][parameter[0]:parameter[1]]
    return dnp.concatenate(args) if len(args) > 1 else args[0]  # concat, output


def _interpreter(ops: list[tuple]) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        values = [x]
        for kind, operands, parameter in ops:
            values.append(_apply(kind, [values[i] for i in operands], parameter))
        return values[-1]

    return f


def describe(ops: list[tuple], sizes: list[int]) -> str:
    """One line: ``v0[4]; v1 = tanh(v0); v2 = W[3x4]·v1; ...``."""
    parts = [f"v0[{sizes[0]}]"]
    for i, (kind, operands, parameter) in enumerate(ops, 1):
        names = [f"v{j}" for j in operands]
        if kind == "unary":
            text = f"{parameter}({names[0]})"
        elif kind == "binary":
            text = f" {'*' if parameter == 'mul' else '+'} ".join(names)
        elif kind == "matmul":
            text = f"W[{parameter.shape[0]}x{parameter.shape[1]}]·{names[0]}"
        elif kind == "sum":
            text = f"sum({names[0]})"
        elif kind == "slice":
            text = f"{names[0]}[{parameter[0]}:{parameter[1]}]"
        else:
            text = f"concat({', '.join(names)})" if len(names) > 1 else names[0]
        parts.append(f"{'out' if kind == 'output' else f'v{i}'} = {text}")
    return "; ".join(parts)
