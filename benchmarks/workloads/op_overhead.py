"""op_overhead: 300 cheap elementwise ops on a length-8 vector (the
interpreter's cost per op, not NumPy's), and dispatch: one ``dualrev.numpy``
call on a plain ndarray against the bare NumPy call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from timing import Protocol

from ..harness import time_interleaved
from . import replay
from .check import check_close
from .jaxpeer import add_jax

N_OPS = 300
OP_CYCLE = ("sin", "scale", "add_x", "exp", "tanh")


def chain(x: Any, np_: Any = dnp) -> Any:
    """sin, ×0.9, +x, exp, tanh, cycling, ``N_OPS`` ops in all; then a sum."""
    h = x
    for k in range(N_OPS):
        op = OP_CYCLE[k % len(OP_CYCLE)]
        if op == "sin":
            h = np_.sin(h)
        elif op == "scale":
            h = h * 0.9
        elif op == "add_x":
            h = h + x
        elif op == "exp":
            h = np_.exp(h)
        else:
            h = np_.tanh(h)
    return np_.sum(h)


def chain_hand_grad(x: np.ndarray) -> np.ndarray:
    """Reverse by hand: keep what each op's derivative needs, then sweep back."""
    saved = []
    h = x
    for k in range(N_OPS):
        op = OP_CYCLE[k % len(OP_CYCLE)]
        if op == "sin":
            saved.append(np.cos(h))
            h = np.sin(h)
        elif op == "scale":
            h = h * 0.9
        elif op == "add_x":
            h = h + x
        elif op == "exp":
            h = np.exp(h)
            saved.append(h)
        else:
            h = np.tanh(h)
            saved.append(1.0 - h * h)
    g = np.ones_like(h)
    g_x = np.zeros_like(x)
    for k in range(N_OPS - 1, -1, -1):
        op = OP_CYCLE[k % len(OP_CYCLE)]
        if op == "scale":
            g = g * 0.9
        elif op == "add_x":
            g_x = g_x + g
        else:
            g = g * saved.pop()
    return g_x + g


def chain_hand_jvp(x: np.ndarray, v: np.ndarray) -> tuple:
    """Forward by hand: push the tangent alongside the value."""
    h, t = x, v
    for k in range(N_OPS):
        op = OP_CYCLE[k % len(OP_CYCLE)]
        if op == "sin":
            t = np.cos(h) * t
            h = np.sin(h)
        elif op == "scale":
            h, t = h * 0.9, t * 0.9
        elif op == "add_x":
            h, t = h + x, t + v
        elif op == "exp":
            h = np.exp(h)
            t = h * t
        else:
            h = np.tanh(h)
            t = (1.0 - h * h) * t
    return np.sum(h), np.sum(t)


def _torch_chain(torch, x, v):
    tx, tv = torch.tensor(x), torch.tensor(v)
    fwd_ad = torch.autograd.forward_ad

    def grad():
        leaf = tx.detach().requires_grad_(True)
        return torch.autograd.grad(chain(leaf, np_=torch), leaf)[0]

    def jvp():
        with fwd_ad.dual_level():
            out = chain(fwd_ad.make_dual(tx, tv), np_=torch)
            return fwd_ad.unpack_dual(out).tangent

    return (lambda: chain(tx, np_=torch)), grad, jvp


def bench_op_overhead(protocol: Protocol, libs: dict) -> list[dict]:
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.5, 0.5, 8)
    v = rng.standard_normal(8)
    dr_grad = dr.grad(chain, mode="reverse")
    impls: dict[str, Callable] = {
        "numpy f": lambda: chain(x, np_=np),
        "dualrev.numpy f": lambda: chain(x),
        "hand grad": lambda: chain_hand_grad(x),
        "hand jvp": lambda: chain_hand_jvp(x, v),
        "dualrev grad": lambda: dr_grad(x),
        "dualrev jvp": lambda: dr.jvp(chain, (x,), (v,)),
    }
    check_close(dr_grad(x), chain_hand_grad(x), "op_overhead grad")
    check_close(dr.jvp(chain, (x,), (v,))[1], chain_hand_jvp(x, v)[1], "op_overhead jvp")
    notes: dict[str, str] = {}
    _add_replay(impls, notes, x, v)
    if "autograd" in libs:
        import autograd.numpy as anp

        ag = libs["autograd"]
        f_ag = functools.partial(chain, np_=anp)
        ag_grad = ag.grad(f_ag)
        ag_jvp = ag.make_jvp(f_ag)
        impls["autograd grad"] = lambda: ag_grad(x)
        impls["autograd jvp"] = lambda: ag_jvp(x)(v)
    if "torch" in libs:
        tf, tgrad, tjvp = _torch_chain(libs["torch"], x, v)
        impls["torch f"] = tf
        impls["torch grad"] = tgrad
        impls["torch jvp"] = tjvp
    if "jax" in libs:
        _add_jax(impls, libs["jax"], x, v)
    times = time_interleaved(impls, protocol)
    rows = [
        {
            "workload": "op_overhead",
            "case": {"ops": N_OPS, "length": 8},
            "times_s": times,
            "us_per_op": {k: 1e6 * t / N_OPS for k, t in times.items()},
            "ratio_to_numpy_f": {k: t / times["numpy f"] for k, t in times.items()},
            "notes": notes,
        }
    ]
    rows.append(bench_dispatch(protocol, x))
    return rows


def _add_jax(impls: dict, jax: Any, x: np.ndarray, v: np.ndarray) -> None:
    """jax.grad and jax.jvp of the same chain on jax.numpy, eager and jitted
    (eager, every op is dispatched on its own: ~1000× slower per op than jit)."""
    f = functools.partial(chain, np_=jax.numpy)
    jx, jv = jax.numpy.asarray(x), jax.numpy.asarray(v)
    add_jax(impls, jax, "f", f, (jx,), chain(x, np_=np), "op_overhead f", eager=False)
    add_jax(impls, jax, "grad", jax.grad(f), (jx,), chain_hand_grad(x), "op_overhead grad")
    jvp = lambda x, v: jax.jvp(f, (x,), (v,))[1]
    add_jax(impls, jax, "jvp", jvp, (jx, jv), chain_hand_jvp(x, v)[1], "op_overhead jvp")


def _add_replay(impls: dict, notes: dict, x: np.ndarray, v: np.ndarray) -> None:
    """``dualrev grad (replay)`` and ``dualrev jvp (replay)`` when dualrev has replay."""
    if not replay.available("grad"):
        return
    other = (0.7 * x,)
    unreplayed = dr.grad(chain, mode="reverse")
    replay.add_replay(impls, notes, "dualrev grad (replay)", lambda: dr.grad(chain, mode="reverse", replay=True),
                      unreplayed, (x,), other, "op_overhead grad (replay)")
    if replay.available("jvp"):
        make = lambda: lambda x, v: dr.jvp(chain, (x,), (v,), replay=True)
        ref = lambda x, v: dr.jvp(chain, (x,), (v,))
        replay.add_replay(impls, notes, "dualrev jvp (replay)", make, ref, (x, v), (0.7 * x, -v),
                          "op_overhead jvp (replay)")


def bench_dispatch(protocol: Protocol, x: np.ndarray) -> dict:
    """One primitive call of dualrev.numpy on a plain ndarray vs the bare NumPy call."""
    p = functools.partial
    pairs = {
        "sin(x)": (p(np.sin, x), p(dnp.sin, x)),
        "add(x, x)": (p(np.add, x, x), p(dnp.add, x, x)),
        "multiply(x, 0.9)": (p(np.multiply, x, 0.9), p(dnp.multiply, x, 0.9)),
        "sum(x)": (p(np.sum, x), p(dnp.sum, x)),
    }
    impls = {}
    for name, (bare, ours) in pairs.items():
        impls[f"numpy {name}"] = bare
        impls[f"dualrev {name}"] = ours
    times = time_interleaved(impls, protocol)
    overhead = {name: 1e9 * (times[f"dualrev {name}"] - times[f"numpy {name}"]) for name in pairs}
    return {
        "workload": "dispatch",
        "case": {"length": 8},
        "times_s": times,
        "overhead_ns": overhead,
    }
