"""``dualrev.scipy.signal``: N-d ``convolve`` and ``correlate`` (``full``,
``valid``, ``same``), differentiable in both arguments.

One bilinear primitive, the ``full`` or ``valid`` convolution over the last
``nd`` axes (leading axes are a batch, broadcast and looped): its JVP in each
argument is the map itself, its transposes are again
convolutions with a flipped argument —

* ``full``: ā = valid(ḡ, flip v), v̄ = valid(ḡ, flip a);
* ``valid`` (a at least as large as v): ā = full(ḡ, flip v), v̄ = flip(valid(a, flip ḡ));

``same`` is the centred slice of ``full`` (a gather), and
``correlate(a, v) = convolve(a, flip v)``. Plain calls are SciPy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal as _signal
from scipy.signal import *  # noqa: F403 - pass-through of the rest

from .. import numpy as dnp
from ..core import Primitive, shape_of
from ..numpy._rules.base import Sample, register
from ..numpy._rules.overrides import fallback
from ..numpy._rules.shape import expand_rank, unbroadcast


def _convolve_impl(a, v, *, nd, mode):
    lead = np.broadcast_shapes(np.shape(a)[: np.ndim(a) - nd], np.shape(v)[: np.ndim(v) - nd])
    if not lead:
        return _signal.convolve(a, v, mode=mode)
    a = np.broadcast_to(a, lead + np.shape(a)[np.ndim(a) - nd :])
    v = np.broadcast_to(v, lead + np.shape(v)[np.ndim(v) - nd :])
    return np.stack([_signal.convolve(a[i], v[i], mode=mode) for i in np.ndindex(lead)]).reshape(
        lead + _signal.convolve(a[(0,) * len(lead)], v[(0,) * len(lead)], mode=mode).shape
    )


def _flip(x: Any, nd: int) -> Any:
    return dnp.flip(x, axis=tuple(range(-nd, 0)))


def _transpose_a(g, ans, a, v, *, nd, mode):
    if mode == "full":
        out = convolve_p(g, _flip(v, nd), nd=nd, mode="valid")
    else:
        out = convolve_p(g, _flip(v, nd), nd=nd, mode="full")
    return unbroadcast(out, a, ans)


def _transpose_v(g, ans, a, v, *, nd, mode):
    if mode == "full":
        out = convolve_p(g, _flip(a, nd), nd=nd, mode="valid")
    else:
        out = _flip(convolve_p(a, _flip(g, nd), nd=nd, mode="valid"), nd)
    return unbroadcast(out, v, ans)


def _samples(rng: np.random.Generator) -> list:
    n = rng.standard_normal
    return [
        Sample((n(5), n(3)), {"nd": 1, "mode": "full"}),
        Sample((n(6), n(4)), {"nd": 1, "mode": "valid"}),
        Sample((n((4, 3)), n((2, 2))), {"nd": 2, "mode": "full"}),
        Sample((n((4, 5)), n((2, 3))), {"nd": 2, "mode": "valid"}),
    ]


convolve_p: Primitive = register(
    _convolve_impl,
    "convolve",
    jvp=(
        lambda t, ans, a, v, **kw: convolve_p(expand_rank(t, a, ans), v, **kw),
        lambda t, ans, a, v, **kw: convolve_p(a, expand_rank(t, v, ans), **kw),
    ),
    vjp=(_transpose_a, _transpose_v),
    vjp_reads=("args",),
    samples=_samples,
)


def _larger(a: Any, v: Any) -> bool:
    return all(x >= y for x, y in zip(shape_of(a), shape_of(v)))


@fallback(_signal.convolve)
def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """N-d convolution of ``in1`` and ``in2`` (same rank), differentiable in both."""
    nd = len(shape_of(in1))
    if len(shape_of(in2)) != nd:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode == "valid":
        if not _larger(in1, in2):
            if not _larger(in2, in1):
                raise ValueError("For 'valid' mode, one must be at least as large as the other in every dimension")
            in1, in2 = in2, in1
        return convolve_p(in1, in2, nd=nd, mode="valid")
    full = convolve_p(in1, in2, nd=nd, mode="full")
    if mode == "full":
        return full
    if mode != "same":
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    starts = [(f - s) // 2 for f, s in zip(shape_of(full), shape_of(in1))]
    return full[tuple(slice(b, b + s) for b, s in zip(starts, shape_of(in1)))]


@fallback(_signal.correlate)
def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """N-d cross-correlation, ``convolve(in1, flip(in2))``, differentiable in both."""
    nd = len(shape_of(in1))
    if mode == "valid" and not _larger(in1, in2) and _larger(in2, in1):
        return _flip(convolve(in2, _flip(in1, nd), mode="valid"), nd)
    return convolve(in1, _flip(in2, nd), mode=mode)


DIFFERENTIABLE = ("convolve", "correlate")
