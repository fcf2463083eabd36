"""einsum, the general multilinear product, and tensordot and kron built on it.

``einsum``'s JVP in operand i is the same contraction with the tangent in
place of operand i, and its VJP is the contraction of the cotangent with all
the *other* operands, producing operand i's subscripts (an index that appears
only in operand i was summed away, so its cotangent is broadcast along it: a
vector of ones joins the contraction). Repeated subscripts within an operand
(``"ii->i"``, a diagonal) are rewritten before the primitive is applied: the
second occurrence gets a fresh letter and a constant identity matrix ties the
two together, so the primitive only ever sees distinct letters per operand.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ...core import dtype_of, shape_of
from .base import Sample, ndim_of, register, sample_arrays
from .indexing import as_operand
from .overrides import numpy_function
from .shape import broadcast_to_p, reshape, reshape_p, sum_to_p

_LETTERS = string.ascii_letters


def _einsum_impl(*operands, specs, out):
    # Leading axes beyond an operand's subscripts are batch axes (of
    # tangents/cotangents): the ellipsis carries them through, broadcasting.
    return np.einsum(",".join("..." + spec for spec in specs) + "->..." + out, *operands)


def _lead(x: Any, spec: str) -> int:
    return ndim_of(x) - len(spec)


def _einsum_jvp(i, t, ans, *operands, specs, out):
    # Give the tangent as many lead axes as the answer's (unit axes after its
    # own batch axes) so the ellipsis lines them up.
    x = operands[i]
    missing = _lead(ans, out) - _lead(x, specs[i])
    if missing:
        t = reshape_p(t, shape=(1,) * missing + tuple(shape_of(x)), in_ndim=ndim_of(x))
    args = list(operands)
    args[i] = t
    return einsum_p(*args, specs=specs, out=out)


def _einsum_vjp(i, g, ans, *operands, specs, out):
    x, spec = operands[i], specs[i]
    others = [(o, sp) for j, (o, sp) in enumerate(zip(operands, specs)) if j != i]
    present = set(out).union(*[set(sp) for _, sp in others])
    core = tuple(shape_of(x))[_lead(x, spec) :]
    ones = [
        (np.ones(core[k], dtype=dtype_of(g)), letter) for k, letter in enumerate(spec) if letter not in present
    ]
    pieces = [(g, out)] + others + ones
    result = einsum_p(*[p for p, _ in pieces], specs=tuple(sp for _, sp in pieces), out=spec)
    want = tuple(shape_of(x))
    rshape = tuple(shape_of(result))
    core = rshape[len(rshape) - len(spec) :]
    if any(r == 1 and w != 1 for r, w in zip(core, want[len(want) - len(spec) :])):
        # A size-1 axis of another operand that NumPy broadcast against x's.
        full = tuple(max(r, w) for r, w in zip(core, want[len(want) - len(spec) :]))
        result = broadcast_to_p(result, shape=full, in_ndim=len(spec))
        rshape = tuple(shape_of(result))
    if rshape[len(rshape) - len(want) :] == want and len(rshape) - len(want) == ndim_of(g) - ndim_of(ans):
        return result
    # Lead axes of the answer that x was broadcast along: sum them away.
    return sum_to_p(result, shape=want, in_ndim=_lead(ans, out) + len(spec))


einsum_p = register(
    _einsum_impl,
    "einsum",
    jvp_any=_einsum_jvp,
    vjp_any=_einsum_vjp,
    samples=lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3), (3, 4)), {"specs": ("ij", "jk"), "out": "ik"}),
        Sample(sample_arrays(rng, "real", (2, 3, 4), (4,)), {"specs": ("bij", "j"), "out": "ib"}),
        Sample(sample_arrays(rng, "real", (3,), (3, 2), (2,)), {"specs": ("i", "ij", "j"), "out": ""}),
        Sample(sample_arrays(rng, "real", (2, 3)), {"specs": ("ij",), "out": "j"}),
        Sample(sample_arrays(rng, "real", (5, 2, 3), (3,)), {"specs": ("ij", "j"), "out": "i"}),
    ],
)


def _parse_einsum(subscripts: str, shapes: list) -> tuple:
    """Subscripts as explicit per-operand letter strings and an output string
    (the ellipsis expanded to fresh letters, implicit output made explicit)."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(shapes)} operands")
    free = [c for c in _LETTERS if c not in subscripts]
    n_ell = max([len(sh) - (len(sp) - 3) for sp, sh in zip(ins, shapes) if "..." in sp], default=0)
    ell, free = "".join(free[:n_ell]), free[n_ell:]
    specs = []
    for sp, sh in zip(ins, shapes):
        if "..." in sp:
            k = len(sh) - (len(sp) - 3)
            sp = sp.replace("...", ell[n_ell - k :] if k else "")
        if len(sp) != len(sh):
            raise ValueError(f"einsum: subscripts {sp!r} do not match an operand with {len(sh)} axes")
        specs.append(sp)
    if arrow:
        out = out.replace("...", ell)
    else:
        counts = {c: "".join(specs).count(c) for c in set("".join(specs))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return specs, out, free


def _sublist(labels: Any) -> str:
    return "".join("..." if label is Ellipsis else _LETTERS[int(label)] for label in labels)


def _from_sublists(args: tuple) -> tuple[str, list]:
    """``einsum(op0, sub0, op1, sub1, ..., [out])`` as string subscripts and operands."""
    k = len(args) // 2
    operands = list(args[0 : 2 * k : 2])
    subscripts = ",".join(_sublist(s) for s in args[1 : 2 * k : 2])
    if len(args) % 2:
        subscripts += "->" + _sublist(args[-1])
    return subscripts, operands


@numpy_function(np.einsum)
def einsum(subscripts: Any, *operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Any:
    """``np.einsum`` on traced operands: string subscripts, or the sublist
    form ``einsum(op0, [0, 1], op1, [1, 2], [0, 2])``."""
    if not isinstance(subscripts, str):
        subscripts, operands_list = _from_sublists((subscripts, *operands))
        operands = tuple(operands_list)
    if out is not None or kwargs:
        raise TypeError("dualrev: einsum of traced values takes no out=/dtype= arguments")
    arrays = [as_operand(o) for o in operands]
    specs, out_spec, free = _parse_einsum(subscripts, [tuple(shape_of(o)) for o in arrays])
    extra, extra_specs = [], []
    for k, spec in enumerate(specs):
        seen = ""
        for pos, letter in enumerate(spec):
            if letter in seen:  # a diagonal: rename, and tie with an identity matrix
                fresh = free.pop(0)
                n = shape_of(arrays[k])[pos]
                extra.append(np.eye(n, dtype=dtype_of(arrays[k])))
                extra_specs.append(letter + fresh)
                letter = fresh
            seen += letter
        specs[k] = seen
    return einsum_p(*arrays, *extra, specs=tuple(specs) + tuple(extra_specs), out=out_spec)


@numpy_function(np.tensordot)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """``np.tensordot`` as an einsum."""
    na, nb = ndim_of(a), ndim_of(b)
    if np.ndim(axes) == 0:
        axes_a, axes_b = list(range(na - int(axes), na)), list(range(int(axes)))
    else:
        given_a, given_b = axes
        axes_a = [int(given_a)] if np.ndim(given_a) == 0 else [int(x) for x in given_a]
        axes_b = [int(given_b)] if np.ndim(given_b) == 0 else [int(x) for x in given_b]
    axes_a = [x % na for x in axes_a]
    axes_b = [x % nb for x in axes_b]
    letters = iter(_LETTERS)
    spec_a = [next(letters) for _ in range(na)]
    spec_b = [next(letters) for _ in range(nb)]
    for x, y in zip(axes_a, axes_b):
        spec_b[y] = spec_a[x]
    out = [c for k, c in enumerate(spec_a) if k not in axes_a] + [c for k, c in enumerate(spec_b) if k not in axes_b]
    return einsum(f"{''.join(spec_a)},{''.join(spec_b)}->{''.join(out)}", a, b)


@numpy_function(np.kron)
def kron(a: Any, b: Any) -> Any:
    """``np.kron``: an outer product with interleaved axes, then merged."""
    n = max(ndim_of(a), ndim_of(b))
    sa = (1,) * (n - ndim_of(a)) + tuple(shape_of(a))
    sb = (1,) * (n - ndim_of(b)) + tuple(shape_of(b))
    a, b = reshape(a, sa), reshape(b, sb)
    la, lb = _LETTERS[:n], _LETTERS[n : 2 * n]
    pairs = einsum(f"{la},{lb}->{''.join(x + y for x, y in zip(la, lb))}", a, b)
    return reshape(pairs, tuple(x * y for x, y in zip(sa, sb)))


__all__ = ["einsum", "tensordot", "kron"]
