"""mlp_grad: the gradient of a 4-layer tanh MLP's mean squared error with
respect to all weights and biases (the MLP is shared with :mod:`.hvp`)."""

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
from .jaxpeer import add_jax, to_jax

MLP_BATCH = 64
MLP_LAYERS = 4


def mlp_params(D: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    params = {}
    for i in range(1, MLP_LAYERS + 1):
        params[f"W{i}"] = rng.standard_normal((D, D)) / np.sqrt(D)
        params[f"b{i}"] = 0.1 * rng.standard_normal(D)
    return params


def mlp_loss(params: dict, x: Any, y: Any, np_: Any = dnp) -> Any:
    """Three tanh layers and a linear output, all D×D; mean squared error.
    Written once and run with ``np_`` = numpy, dualrev.numpy or autograd.numpy."""
    h = x
    for i in range(1, MLP_LAYERS):
        h = np_.tanh(h @ params[f"W{i}"] + params[f"b{i}"])
    out = h @ params[f"W{MLP_LAYERS}"] + params[f"b{MLP_LAYERS}"]
    return np_.mean((out - y) ** 2)


def mlp_hand_grad(params: dict, x: np.ndarray, y: np.ndarray) -> dict:
    """Backprop by hand: keep the activations, then dL/dW = hᵀ δ, dL/db = Σ δ,
    δ ← (δ Wᵀ) ⊙ (1 − h²)."""
    activations = [x]
    h = x
    for i in range(1, MLP_LAYERS):
        h = np.tanh(h @ params[f"W{i}"] + params[f"b{i}"])
        activations.append(h)
    out = h @ params[f"W{MLP_LAYERS}"] + params[f"b{MLP_LAYERS}"]
    delta = (2.0 / out.size) * (out - y)
    grads = {}
    for i in range(MLP_LAYERS, 0, -1):
        h_prev = activations[i - 1]
        grads[f"W{i}"] = h_prev.T @ delta
        grads[f"b{i}"] = delta.sum(axis=0)
        if i > 1:
            delta = (delta @ params[f"W{i}"].T) * (1.0 - h_prev * h_prev)
    return grads


def _torch_mlp(torch, params, x, y):
    tparams = {k: torch.tensor(v) for k, v in params.items()}
    tx, ty = torch.tensor(x), torch.tensor(y)

    def loss(p):
        return mlp_loss(p, tx, ty, np_=torch)

    def grad():
        leaves = {k: v.detach().requires_grad_(True) for k, v in tparams.items()}
        value = loss(leaves)
        return torch.autograd.grad(value, list(leaves.values()))

    return tparams, tx, ty, loss, grad


def bench_mlp_grad(protocol: Protocol, libs: dict) -> list[dict]:
    return [_mlp_grad_case(D, protocol, libs) for D in (16, 256, 1024)]


def _mlp_grad_case(D: int, protocol: Protocol, libs: dict) -> dict:
    rng = np.random.default_rng(0)
    params = mlp_params(D, rng)
    x = rng.standard_normal((MLP_BATCH, D))
    y = rng.standard_normal((MLP_BATCH, D))
    dr_grad = dr.grad(mlp_loss, mode="reverse")
    impls: dict[str, Callable] = {
        "numpy f": lambda: mlp_loss(params, x, y, np_=np),
        "dualrev.numpy f": lambda: mlp_loss(params, x, y),
        "hand grad": lambda: mlp_hand_grad(params, x, y),
        "dualrev grad": lambda: dr_grad(params, x, y),
    }
    expected = mlp_hand_grad(params, x, y)
    check_close(dr_grad(params, x, y), expected, f"mlp_grad D={D}")
    notes: dict[str, str] = {}
    if replay.available("grad"):
        other = ({k: 1.01 * v for k, v in params.items()}, x, y)
        replay.add_replay(impls, notes, "dualrev grad (replay)", lambda: dr.grad(mlp_loss, mode="reverse", replay=True),
                          dr_grad, (params, x, y), other, f"mlp_grad D={D} (replay)")
    if "autograd" in libs:
        import autograd.numpy as anp

        ag_grad = libs["autograd"].grad(functools.partial(mlp_loss, np_=anp))
        impls["autograd grad"] = lambda: ag_grad(params, x, y)
    if "torch" in libs:
        tparams, tx, ty, tloss, tgrad = _torch_mlp(libs["torch"], params, x, y)
        impls["torch f"] = lambda: tloss(tparams)
        impls["torch grad"] = tgrad
    if "jax" in libs:
        jax = libs["jax"]
        jargs = to_jax(jax, (params, x, y))
        loss = functools.partial(mlp_loss, np_=jax.numpy)
        add_jax(impls, jax, "f", loss, jargs, mlp_loss(params, x, y, np_=np), f"mlp f D={D}", eager=False)
        add_jax(impls, jax, "grad", jax.grad(loss), jargs, expected, f"mlp_grad D={D}")
    times = time_interleaved(impls, protocol)
    unit = times["numpy f"]
    return {
        "workload": "mlp_grad",
        "case": {"D": D, "batch": MLP_BATCH},
        "times_s": times,
        "ratio_to_numpy_f": {k: t / unit for k, t in times.items()},
        "notes": notes,
    }
