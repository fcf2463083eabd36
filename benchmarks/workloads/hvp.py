"""hvp: a Hessian-vector product of the MLP loss (:mod:`.mlp`, D = 256) with
respect to the first weights, against Pearlmutter's R-operator written by hand
in NumPy — forward-over-reverse by hand, the floor for this algorithm."""

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
from .mlp import MLP_BATCH, MLP_LAYERS, mlp_hand_grad, mlp_loss, mlp_params

D = 256


def mlp_hand_hvp_w1(params: dict, x: np.ndarray, y: np.ndarray, V: np.ndarray) -> np.ndarray:
    """H V for the loss as a function of W1, by the R-operator R{·} = d/dt·|t=0
    at W1 + tV. Forward: R{a1} = x V, R{h} = (1 − h²) R{a}, R{a_next} = R{h} W;
    the output's R{δ} = (2/size) R{out}. Backward: with g = δ Wᵀ,
    δ = g ⊙ (1 − h²) and R{δ} = R{g} ⊙ (1 − h²) − 2 g ⊙ h ⊙ R{h}; finally
    R{∂L/∂W1} = xᵀ R{δ1}. 15 matrix products: two per layer forward, two per
    layer backward but the last, one for the result (the loss needs 4)."""
    L = MLP_LAYERS
    hs, rhs = [], []
    h, r_a = x, x @ V
    for i in range(1, L):
        W, b = params[f"W{i}"], params[f"b{i}"]
        if i > 1:
            r_a = rhs[-1] @ W
        h = np.tanh(h @ W + b)
        rh = (1.0 - h * h) * r_a
        hs.append(h)
        rhs.append(rh)
    out = h @ params[f"W{L}"] + params[f"b{L}"]
    scale = 2.0 / out.size
    delta, r_delta = scale * (out - y), scale * (rh @ params[f"W{L}"])
    for i in range(L - 1, 0, -1):
        W_next = params[f"W{i + 1}"]
        g, r_g = delta @ W_next.T, r_delta @ W_next.T
        h, rh = hs[i - 1], rhs[i - 1]
        d = 1.0 - h * h
        r_delta = r_g * d - 2.0 * g * h * rh
        if i > 1:
            delta = g * d
    return x.T @ r_delta


def bench_hvp(protocol: Protocol, libs: dict) -> list[dict]:
    rng = np.random.default_rng(3)
    params = mlp_params(D, rng)
    x = rng.standard_normal((MLP_BATCH, D))
    y = rng.standard_normal((MLP_BATCH, D))
    V = rng.standard_normal((D, D))
    W1 = params["W1"]

    def loss_w1(W1, np_=dnp):
        return mlp_loss({**params, "W1": W1}, x, y, np_=np_)

    dr_grad = dr.grad(loss_w1, mode="reverse")
    impls: dict[str, Callable] = {
        "numpy f": lambda: loss_w1(W1, np_=np),
        "hand grad": lambda: mlp_hand_grad(params, x, y)["W1"],
        "hand R-operator hvp": lambda: mlp_hand_hvp_w1(params, x, y, V),
        "dualrev grad": lambda: dr_grad(W1),
        "dualrev hvp": lambda: dr.hvp(loss_w1, (W1,), (V,)),
    }
    # reference: central difference of the gradient along V
    eps = 1e-5
    reference = (dr_grad(W1 + eps * V) - dr_grad(W1 - eps * V)) / (2 * eps)
    tol = {"rtol": 1e-4, "atol": 1e-6 * float(np.abs(reference).max())}
    check_close(mlp_hand_hvp_w1(params, x, y, V), reference, "hand R-operator hvp", **tol)
    check_close(dr.hvp(loss_w1, (W1,), (V,))[0], reference, "hvp", **tol)
    notes: dict[str, str] = {}
    if replay.available("hvp"):
        make = lambda: lambda W, V: dr.hvp(loss_w1, (W,), (V,), replay=True)
        ref = lambda W, V: dr.hvp(loss_w1, (W,), (V,))
        replay.add_replay(impls, notes, "dualrev hvp (replay)", make, ref, (W1, V), (1.01 * W1, -V), "hvp (replay)")
    if replay.available("grad"):
        replay.add_replay(impls, notes, "dualrev grad (replay)", lambda: dr.grad(loss_w1, mode="reverse", replay=True),
                          dr_grad, (W1,), (1.01 * W1,), "hvp's grad (replay)")
    _add_peers(impls, libs, loss_w1, params, x, y, W1, V, reference, tol)
    times = time_interleaved(impls, protocol)
    return [
        {
            "workload": "hvp",
            "case": {"D": D, "wrt": "W1"},
            "times_s": times,
            "ratio_to_numpy_f": {k: t / times["numpy f"] for k, t in times.items()},
            "ratio_to_hand_hvp": {k: t / times["hand R-operator hvp"] for k, t in times.items()},
            "hvp_over_dualrev_grad": times["dualrev hvp"] / times["dualrev grad"],
            "notes": notes,
        }
    ]


def _add_peers(impls: dict, libs: dict, loss_w1: Callable, params: dict, x: np.ndarray, y: np.ndarray,
               W1: np.ndarray, V: np.ndarray, reference: np.ndarray, tol: dict[str, float]) -> None:
    if "autograd" in libs:
        import autograd.numpy as anp

        ag_hvp = libs["autograd"].hessian_tensor_product(functools.partial(loss_w1, np_=anp))
        impls["autograd hvp"] = lambda: ag_hvp(W1, V)
    if "torch" in libs:
        impls["torch hvp"] = _torch_hvp(libs["torch"], params, x, y, W1, V)
    if "jax" in libs:
        jax = libs["jax"]
        jparams, jx, jy, jW1, jV = to_jax(jax, (params, x, y, W1, V))

        def jloss(W):
            return mlp_loss({**jparams, "W1": W}, jx, jy, np_=jax.numpy)

        # forward-over-reverse, as dualrev's default and the hand R-operator
        jhvp = lambda W, V: jax.jvp(jax.grad(jloss), (W,), (V,))[1]
        add_jax(impls, jax, "hvp", jhvp, (jW1, jV), reference, "hvp", **tol)


def _torch_hvp(torch: Any, params: dict, x: np.ndarray, y: np.ndarray, W1: np.ndarray, V: np.ndarray) -> Callable:
    tW1, tV = torch.tensor(W1), torch.tensor(V)
    tparams = {k: torch.tensor(v) for k, v in params.items()}
    tx, ty = torch.tensor(x), torch.tensor(y)

    def torch_hvp():
        leaf = tW1.detach().requires_grad_(True)
        value = mlp_loss({**tparams, "W1": leaf}, tx, ty, np_=torch)
        (g,) = torch.autograd.grad(value, leaf, create_graph=True)
        return torch.autograd.grad(g, leaf, tV)[0]

    return torch_hvp
