"""tape_memory: peak memory (tracemalloc) of the reverse gradient and the
forward JVP over a 2000-layer chain tanh(x @ W), against hand-written backprop.

With replay (when dualrev has it) the figure is the peak of a *replayed* call:
the recording, made by the warm-up call, already exists and is not counted —
what is counted is what one more gradient allocates. (JAX is not measured
here: tracemalloc does not see XLA's buffers.)"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from timing import Protocol, peak_memory

from . import replay
from .check import check_close

DEPTH = 2000
WIDTH = 64


def deep_chain(x: Any, W: np.ndarray, depth: int = DEPTH, np_: Any = dnp) -> Any:
    h = x
    for _ in range(depth):
        h = np_.tanh(h @ W)
    return np_.sum(h)


def deep_chain_hand_grad(x: np.ndarray, W: np.ndarray, depth: int = DEPTH) -> np.ndarray:
    """Hand-written backprop keeps one activation per layer (tanh' = 1 − h²)."""
    activations = []
    h = x
    for _ in range(depth):
        h = np.tanh(h @ W)
        activations.append(h)
    g = np.ones_like(h)
    for h in reversed(activations):
        g = (g * (1.0 - h * h)) @ W.T
    return g


def bench_tape_memory(protocol: Protocol, libs: dict) -> list[dict]:
    rows = []
    rng = np.random.default_rng(4)
    W = rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)
    for shape in ((WIDTH,), (WIDTH, WIDTH)):
        x = rng.standard_normal(shape)
        v = rng.standard_normal(shape)
        rows.append(_tape_memory_case(x, v, W, libs))
    return rows


def _tape_memory_case(x: np.ndarray, v: np.ndarray, W: np.ndarray, libs: dict) -> dict:
    check_close(dr.grad(deep_chain, mode="reverse")(x, W, 50), deep_chain_hand_grad(x, W, 50), "deep chain grad")
    peaks: dict[str, int] = {
        "hand grad": peak_memory(lambda: deep_chain_hand_grad(x, W)),
        "dualrev grad": peak_memory(lambda: dr.grad(deep_chain, mode="reverse")(x, W)),
        "dualrev jvp": peak_memory(lambda: dr.jvp(lambda x: deep_chain(x, W), (x,), (v,))),
        f"dualrev jvp (depth {DEPTH // 4})": peak_memory(
            lambda: dr.jvp(lambda x: deep_chain(x, W, DEPTH // 4), (x,), (v,))
        ),
    }
    notes: dict[str, str] = {}
    if replay.available("grad"):
        f = lambda x: deep_chain(x, W)
        timed: dict = {}
        replay.add_replay(timed, notes, "dualrev grad (replay)", lambda: dr.grad(f, mode="reverse", replay=True),
                          dr.grad(f, mode="reverse"), (x,), (0.9 * x,), "deep chain grad (replay)")
        if timed:
            peaks["dualrev grad (replay)"] = peak_memory(timed["dualrev grad (replay)"])
    if "autograd" in libs:
        import autograd.numpy as anp

        ag_grad = libs["autograd"].grad(functools.partial(deep_chain, np_=anp))
        peaks["autograd grad"] = peak_memory(lambda: ag_grad(x, W))
    return {
        "workload": "tape_memory",
        "case": {"depth": DEPTH, "x_shape": list(x.shape), "activation_bytes": int(x.nbytes)},
        "peak_bytes": peaks,
        "bytes_per_layer": {k: v / DEPTH for k, v in peaks.items() if "depth" not in k},
        "ratio_to_hand": {k: v / peaks["hand grad"] for k, v in peaks.items()},
        "notes": notes,
    }
