"""Shared pieces for writing rules: broadcasting of tangents and cotangents,
axis normalisation, and the test metadata the registry-wide tests read.

Every rule in ``dualrev.numpy`` is written so that tangents and cotangents may
carry leading batch axes (``batch + value.shape``). The helpers here are the
only places that reason about those axes for broadcasting ops.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Primitive, Tracer, concrete, dtype_of, primitive, shape_of

# Every primitive dualrev.numpy defines, in definition order. The registry-wide
# tests iterate over this list.
PRIMITIVES: list[Primitive] = []


def register(impl: Callable, name: str, *, multiple_results: bool = False) -> Primitive:
    """Make a primitive that belongs to dualrev.numpy (and is therefore tested)."""
    prim = primitive(impl, name=name, multiple_results=multiple_results)
    PRIMITIVES.append(prim)
    return prim


def ndim_of(value: Any) -> int:
    return len(shape_of(value))


def batch_ndim(ct: Any, ref: Any) -> int:
    """Number of leading batch axes of tangent/cotangent ``ct`` of value ``ref``."""
    return ndim_of(ct) - ndim_of(ref)


def normalize_axes(axis: Any, ndim: int) -> tuple:
    """``axis`` (None, int or tuple) as a sorted tuple of *negative* axes.

    Negative axes count from the end, so the same reduction applied to a
    tangent with leading batch axes reduces the same data axes.
    """
    if axis is None:
        return tuple(range(-ndim, 0))
    if isinstance(axis, (tuple, list)):
        axes = axis
    else:
        axes = (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a - ndim if a >= 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


# The two broadcasting helpers below are themselves built from linear
# primitives (defined in shape.py), so rules that use them stay differentiable.
_ops: dict[str, Primitive] = {}


def expand_rank(tangent: Any, x: Any, ans: Any) -> Any:
    """Insert unit axes after the batch axes so that ``tangent`` (a tangent of
    ``x``) has the rank of a tangent of ``ans``; NumPy broadcasting then lines
    it up with ``ans``-shaped operands."""
    x_ndim, ans_ndim = ndim_of(x), ndim_of(ans)
    if x_ndim == ans_ndim:
        return tangent
    tshape = shape_of(tangent)
    bd = len(tshape) - x_ndim
    new_core = (1,) * (ans_ndim - x_ndim) + tuple(tshape[bd:])
    return _ops["reshape"](tangent, shape=new_core, in_ndim=x_ndim)


def expand_tangent(tangent: Any, x: Any, ans: Any) -> Any:
    """Broadcast a tangent of ``x`` to a full tangent of ``ans``
    (``batch + x.shape`` -> ``batch + ans.shape``)."""
    ans_shape = shape_of(ans)
    x_shape = shape_of(x)
    if x_shape == ans_shape:
        return tangent
    ans_shape, x_shape = tuple(ans_shape), tuple(x_shape)
    return _ops["broadcast_to"](tangent, shape=ans_shape, in_ndim=len(x_shape))


def unbroadcast(cotangent: Any, x: Any, ans: Any) -> Any:
    """Sum a cotangent of ``ans`` back to the shape of ``x``.

    When NumPy broadcast ``x`` to make ``ans``, each element of ``x`` fed every
    output along the broadcast axes, so by the multivariate chain rule its
    cotangent is the *sum* over those axes (``dL/db = Σ_rows dL/dY`` for a
    bias added to a batch).
    """
    ct_shape = shape_of(cotangent)
    if ct_shape == shape_of(x):  # nothing was broadcast (and no batch axes): the hot path
        return cotangent
    x_shape = tuple(shape_of(x))
    bd = len(ct_shape) - ndim_of(ans)
    if tuple(ct_shape[bd:]) == x_shape:
        return cotangent
    return _ops["sum_to"](cotangent, shape=x_shape, in_ndim=ndim_of(ans))


def zeros_like_tangent(tangent: Any, ans: Any) -> np.ndarray:
    """A zero tangent of ``ans`` with the batch axes of ``tangent``."""
    tshape = shape_of(tangent)
    batch = tuple(tshape[: len(tshape) - ndim_of(ans)])
    return np.zeros(batch + tuple(shape_of(ans)), dtype=dtype_of(ans))


def float_dtype(*values: Any) -> np.dtype:
    dt = np.result_type(*[dtype_of(v) for v in values])
    return dt if np.issubdtype(dt, np.inexact) else np.dtype(np.float64)


# --------------------------------------------------------------------------
# Test metadata: where a primitive's sample inputs come from.
# --------------------------------------------------------------------------

DOMAINS: dict[str, Callable[[np.random.Generator, tuple], np.ndarray]] = {
    "real": lambda rng, s: rng.standard_normal(s),
    "positive": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "unit": lambda rng, s: rng.uniform(-0.9, 0.9, s),  # open interval (-1, 1)
    "above_minus_one": lambda rng, s: rng.uniform(-0.5, 2.0, s),
    "nonzero": lambda rng, s: rng.choice([-1.0, 1.0], s) * rng.uniform(0.5, 2.0, s),
    "small": lambda rng, s: rng.uniform(-1.2, 1.2, s),  # tan, exp of big powers
    "above_one": lambda rng, s: rng.uniform(1.2, 3.0, s),  # arccosh
    "probability": lambda rng, s: rng.uniform(0.1, 0.9, s),  # logit
    "distinct": lambda rng, s: rng.permutation(np.arange(int(np.prod(s)), dtype=float)).reshape(s) * 0.37
    + rng.uniform(-0.05, 0.05, s),  # no ties (max/min/sort)
}


class Sample:
    """One set of sample inputs: positional ``args`` (arrays the tests perturb
    are those at ``diff`` positions) and static ``kwargs``."""

    __slots__ = ("args", "kwargs", "diff")

    def __init__(self, args: tuple, kwargs: dict | None = None, diff: tuple | None = None) -> None:
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        if diff is None:
            diff = tuple(i for i, a in enumerate(self.args) if isinstance(a, np.ndarray) and a.dtype.kind == "f")
        self.diff = tuple(diff)

    def __repr__(self) -> str:
        shapes = [np.shape(a) for a in self.args]
        return f"Sample(shapes={shapes}, kwargs={self.kwargs}, diff={self.diff})"


def samples(prim: Primitive, make: Callable[[np.random.Generator], list], *, order: int = 2) -> Primitive:
    """Attach test metadata: ``make(rng)`` returns a list of :class:`Sample`.

    ``order`` is how many times the primitive is differentiable on those
    samples through its rules (2: the rules are themselves written with
    differentiable ops, so the registry tests also check second derivatives).
    """
    prim.test_inputs = make
    prim.test_order = order
    return prim


def sample_arrays(rng: np.random.Generator, domain: str, *shapes: tuple) -> list[np.ndarray]:
    return [np.asarray(DOMAINS[domain](rng, s), dtype=np.float64) for s in shapes]


__all__ = [
    "PRIMITIVES",
    "register",
    "ndim_of",
    "batch_ndim",
    "normalize_axes",
    "expand_rank",
    "expand_tangent",
    "unbroadcast",
    "zeros_like_tangent",
    "float_dtype",
    "Sample",
    "samples",
    "sample_arrays",
    "concrete",
    "Tracer",
]
