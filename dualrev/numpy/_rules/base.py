"""The registry of ``dualrev.numpy``: primitives declared with their rules and
test metadata in one call, and the axis normalisation every family uses.

Every rule in ``dualrev.numpy`` is written so that tangents and cotangents may
carry leading batch axes (``batch + value.shape``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...core import Primitive, shape_of
from ...define import defjvp, defjvp_argnum, deflinear, defvjp, defvjp_argnum, primitive

# Every primitive dualrev.numpy defines, in definition order. The registry-wide
# tests iterate over this list.
PRIMITIVES: list[Primitive] = []

Rule = Callable[..., Any]
SampleMaker = Callable[[np.random.Generator], list]


def register(
    impl: Callable,
    name: str,
    *,
    jvp: Sequence[Rule | None] = (),
    vjp: Sequence[Rule | None] = (),
    linear: Sequence[Rule | None] = (),
    jvp_any: Rule | None = None,
    vjp_any: Rule | None = None,
    multiple_results: bool = False,
    vjp_reads: tuple[str, ...] | None = None,
    structure: str = "dense",
    samples: SampleMaker | None = None,
    order: int = 2,
) -> Primitive:
    """A primitive of dualrev.numpy, declared with everything the engine and
    the registry-wide tests read.

    * ``jvp`` / ``vjp``: one rule per positional argument (``None``: not
      differentiable), as for :func:`dualrev.define.defjvp`;
    * ``linear``: the transposes of a linear (or multilinear) map instead
      (:func:`dualrev.define.deflinear`: the JVP is the map itself);
    * ``jvp_any`` / ``vjp_any``: ``rule(argnum, ...)`` for variadic primitives;
    * ``vjp_reads``: which of ``("ans", "args")`` the VJP rules read, so that
      reverse mode keeps only those (``None``: both; ``linear`` sets it);
    * ``structure``: the kind of its local Jacobians for the explicit mode
      (``"dense"``, ``"diagonal"``, ``"gather"``, ``"segment"``, ``"kron"``, ``"batched"``: see
      :class:`dualrev.core.Primitive`);
    * ``samples``: ``rng -> list[Sample]``, the inputs the registry tests
      use; ``order``: how many times the rules can be differentiated there.
    """
    prim = primitive(impl, name=name, multiple_results=multiple_results, structure=structure)
    prim.trusted = True  # built-in: the registry-wide tests check its rules, the interpreters do not
    if linear:
        deflinear(prim, *linear)
    if jvp:
        defjvp(prim, *jvp)
    if vjp:
        defvjp(prim, *vjp)
    if jvp_any is not None:
        defjvp_argnum(prim, jvp_any)
    if vjp_any is not None:
        defvjp_argnum(prim, vjp_any)
    if vjp_reads is not None:
        prim.vjp_reads = vjp_reads
    prim.test_inputs = samples
    prim.test_order = order
    PRIMITIVES.append(prim)
    return prim


def ndim_of(value: Any) -> int:
    """The number of axes of an array, a tracer or a Python number."""
    return len(shape_of(value))


def normalize_axes(axis: Any, ndim: int) -> tuple:
    """``axis`` (None, int or tuple) as a sorted tuple of *negative* axes.

    Negative axes count from the end, so the same reduction applied to a
    tangent with leading batch axes reduces the same data axes.
    """
    if axis is None:
        return tuple(range(-ndim, 0))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a - ndim if a >= 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


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

    def __init__(self, args: Sequence[Any], kwargs: dict | None = None, diff: Sequence[int] | None = None) -> None:
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        if diff is None:
            diff = tuple(i for i, a in enumerate(self.args) if isinstance(a, np.ndarray) and a.dtype.kind == "f")
        self.diff = tuple(diff)

    def __repr__(self) -> str:
        shapes = [np.shape(a) for a in self.args]
        return f"Sample(shapes={shapes}, kwargs={self.kwargs}, diff={self.diff})"


def samples(prim: Primitive, make: SampleMaker, *, order: int = 2) -> Primitive:
    """Attach test metadata to a primitive made outside :func:`register`
    (e.g. with ``dr.primitive``): ``make(rng)`` returns a list of
    :class:`Sample`; ``order`` is how many times its rules can be
    differentiated on them."""
    prim = getattr(prim, "primitive", prim)
    prim.test_inputs = make
    prim.test_order = order
    return prim


def sample_arrays(rng: np.random.Generator, domain: str, *shapes: tuple) -> list[np.ndarray]:
    """One float64 array per shape, drawn from ``DOMAINS[domain]``."""
    return [np.asarray(DOMAINS[domain](rng, s), dtype=np.float64) for s in shapes]


def shape_samples(*cases: tuple[tuple, dict]) -> SampleMaker:
    """Samples of a one-argument primitive: ``(shape, kwargs)`` pairs of real inputs."""

    def make(rng: np.random.Generator) -> list:
        return [Sample(sample_arrays(rng, "real", shape), kwargs) for shape, kwargs in cases]

    return make


__all__ = [
    "PRIMITIVES",
    "register",
    "ndim_of",
    "normalize_axes",
    "DOMAINS",
    "Sample",
    "samples",
    "sample_arrays",
    "shape_samples",
]
