"""jacobian_shapes: the full Jacobian of tanh(W2 tanh(W1 x)), hidden 256, for a
wide, a tall and a square map — and a map through a narrow waist (hidden 4) —
in forward, reverse, auto and explicit (optimal order, structured) mode, each
also with ``replay=True`` when dualrev has it, and JAX's jacfwd and jacrev
(eager and jitted), against the closed form."""

from __future__ import annotations

import functools

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from timing import Protocol

from ..harness import time_interleaved
from . import replay
from .check import check_close
from .jaxpeer import add_jax

HIDDEN = 256


#: (n, m, hidden): wide, tall, square, and the waist where neither fold is optimal.
CASES = ((4, 512, HIDDEN), (512, 4, HIDDEN), (256, 256, HIDDEN), (512, 512, 4))


def bench_jacobian_shapes(protocol: Protocol, libs: dict) -> list[dict]:
    return [_jacobian_case(n, m, hidden, protocol, libs) for n, m, hidden in CASES]


MODES = ("forward", "reverse", "auto", "explicit")


def _jacobian_case(n: int, m: int, hidden: int, protocol: Protocol, libs: dict) -> dict:
    rng = np.random.default_rng(2)
    W1 = rng.standard_normal((hidden, n)) / np.sqrt(n)
    W2 = rng.standard_normal((m, hidden)) / np.sqrt(hidden)
    x = rng.standard_normal(n)

    def f(x, W1=W1, W2=W2, np_=dnp):
        return np_.tanh(W2 @ np_.tanh(W1 @ x))

    def closed_form(x, W1=W1, W2=W2):
        h = np.tanh(W1 @ x)
        y = np.tanh(W2 @ h)
        return (1.0 - y * y)[:, None] * ((W2 * (1.0 - h * h)) @ W1)

    impls = {"closed form": lambda: closed_form(x)}
    for mode in MODES:
        jac = dr.jacobian(f, mode=mode)
        check_close(jac(x), closed_form(x), f"jacobian {mode} n={n} m={m}")
        impls[f"dualrev {mode}"] = functools.partial(jac, x)
    notes: dict[str, str] = {}
    if replay.available("jacobian"):
        for mode in MODES:
            make = functools.partial(dr.jacobian, f, mode=mode, replay=True)
            replay.add_replay(impls, notes, f"dualrev {mode} (replay)", make, closed_form, (x,), (x + 0.1,),
                              f"jacobian {mode} n={n} m={m} (replay)")
    if "jax" in libs:
        jax = libs["jax"]
        jf = functools.partial(f, W1=jax.numpy.asarray(W1), W2=jax.numpy.asarray(W2), np_=jax.numpy)
        for name, jac in (("jacfwd", jax.jacfwd(jf)), ("jacrev", jax.jacrev(jf))):
            add_jax(impls, jax, name, jac, (jax.numpy.asarray(x),), closed_form(x), f"jacobian {name} n={n} m={m}")
    times = time_interleaved(impls, protocol)
    well = "forward" if n < m else ("reverse" if m < n else None)
    best_fold = min(times["dualrev forward"], times["dualrev reverse"])
    return {
        "workload": "jacobian_shapes",
        "case": {"n": n, "m": m, "hidden": hidden},
        "times_s": times,
        "ratio_to_closed_form": {k: t / times["closed form"] for k, t in times.items()},
        "explicit_over_best_fold": times["dualrev explicit"] / best_fold,
        "well_shaped_mode": well,
        "auto_picks": dr.api.choose_mode(n, m),
        "notes": notes,
    }
