"""The workloads. Each one builds its inputs, times every implementation in one
interleaved run, and returns rows for the report.

Implementations are named ``library task``: ``numpy f`` is the plain function
(the unit every ratio is measured in), ``hand grad``/``hand jvp`` are
hand-written NumPy derivatives (the floor for any NumPy-based library),
``dualrev …``, ``autograd …`` and ``torch …`` the libraries.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp

from .harness import Settings, peak_memory, time_interleaved

# ==========================================================================
# mlp_grad: gradient of a 4-layer tanh MLP's mean squared error
# ==========================================================================

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


def bench_mlp_grad(settings: Settings, libs: dict) -> list[dict]:
    rows = []
    for D in (16, 256, 1024):
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
        if "autograd" in libs:
            import autograd.numpy as anp

            ag_grad = libs["autograd"].grad(functools.partial(mlp_loss, np_=anp))
            impls["autograd grad"] = lambda: ag_grad(params, x, y)
        if "torch" in libs:
            tparams, tx, ty, tloss, tgrad = _torch_mlp(libs["torch"], params, x, y)
            impls["torch f"] = lambda: tloss(tparams)
            impls["torch grad"] = tgrad
        _check_close(dr_grad(params, x, y), mlp_hand_grad(params, x, y), f"mlp_grad D={D}")
        times = time_interleaved(impls, settings)
        unit = times["numpy f"]
        rows.append(
            {
                "workload": "mlp_grad",
                "case": {"D": D, "batch": MLP_BATCH},
                "times_s": times,
                "ratio_to_numpy_f": {k: t / unit for k, t in times.items()},
            }
        )
    return rows


# ==========================================================================
# op_overhead: 300 cheap elementwise ops on a length-8 vector
# ==========================================================================

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


def bench_op_overhead(settings: Settings, libs: dict) -> list[dict]:
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
    _check_close(dr_grad(x), chain_hand_grad(x), "op_overhead grad")
    _check_close(dr.jvp(chain, (x,), (v,))[1], chain_hand_jvp(x, v)[1], "op_overhead jvp")
    times = time_interleaved(impls, settings)
    rows = [
        {
            "workload": "op_overhead",
            "case": {"ops": N_OPS, "length": 8},
            "times_s": times,
            "us_per_op": {k: 1e6 * t / N_OPS for k, t in times.items()},
            "ratio_to_numpy_f": {k: t / times["numpy f"] for k, t in times.items()},
        }
    ]
    rows.append(bench_dispatch(settings, x))
    return rows


def bench_dispatch(settings: Settings, x: np.ndarray) -> dict:
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
    times = time_interleaved(impls, settings)
    overhead = {name: 1e9 * (times[f"dualrev {name}"] - times[f"numpy {name}"]) for name in pairs}
    return {
        "workload": "dispatch",
        "case": {"length": 8},
        "times_s": times,
        "overhead_ns": overhead,
    }


# ==========================================================================
# jacobian_shapes: tanh(W2 tanh(W1 x)), hidden 256
# ==========================================================================

HIDDEN = 256


def bench_jacobian_shapes(settings: Settings, libs: dict) -> list[dict]:
    rows = []
    for n, m in ((4, 512), (512, 4), (256, 256)):
        rng = np.random.default_rng(2)
        W1 = rng.standard_normal((HIDDEN, n)) / np.sqrt(n)
        W2 = rng.standard_normal((m, HIDDEN)) / np.sqrt(HIDDEN)
        x = rng.standard_normal(n)

        def f(x, W1=W1, W2=W2):
            return dnp.tanh(W2 @ dnp.tanh(W1 @ x))

        def closed_form(x, W1=W1, W2=W2):
            h = np.tanh(W1 @ x)
            y = np.tanh(W2 @ h)
            return (1.0 - y * y)[:, None] * ((W2 * (1.0 - h * h)) @ W1)

        impls = {"closed form": lambda: closed_form(x)}
        for mode in ("forward", "reverse", "auto"):
            jac = dr.jacobian(f, mode=mode)
            _check_close(jac(x), closed_form(x), f"jacobian {mode} n={n} m={m}")
            impls[f"dualrev {mode}"] = functools.partial(jac, x)
        times = time_interleaved(impls, settings)
        well = "forward" if n < m else ("reverse" if m < n else None)
        rows.append(
            {
                "workload": "jacobian_shapes",
                "case": {"n": n, "m": m, "hidden": HIDDEN},
                "times_s": times,
                "ratio_to_closed_form": {k: t / times["closed form"] for k, t in times.items()},
                "well_shaped_mode": well,
                "auto_picks": dr.api.choose_mode(n, m),
            }
        )
    return rows


# ==========================================================================
# hvp: Hessian-vector product of the MLP loss w.r.t. W1, D = 256
# ==========================================================================


def bench_hvp(settings: Settings, libs: dict) -> list[dict]:
    D = 256
    rng = np.random.default_rng(3)
    params = mlp_params(D, rng)
    x = rng.standard_normal((MLP_BATCH, D))
    y = rng.standard_normal((MLP_BATCH, D))
    V = rng.standard_normal((D, D))

    def loss_w1(W1, np_=dnp):
        return mlp_loss({**params, "W1": W1}, x, y, np_=np_)

    W1 = params["W1"]
    dr_grad = dr.grad(loss_w1, mode="reverse")
    impls: dict[str, Callable] = {
        "numpy f": lambda: loss_w1(W1, np_=np),
        "dualrev grad": lambda: dr_grad(W1),
        "dualrev hvp": lambda: dr.hvp(loss_w1, (W1,), (V,)),
    }
    if "autograd" in libs:
        import autograd.numpy as anp

        ag_hvp = libs["autograd"].hessian_tensor_product(functools.partial(loss_w1, np_=anp))
        impls["autograd hvp"] = lambda: ag_hvp(W1, V)
    if "torch" in libs:
        torch = libs["torch"]
        tW1, tV = torch.tensor(W1), torch.tensor(V)
        tparams = {k: torch.tensor(v) for k, v in params.items()}
        tx, ty = torch.tensor(x), torch.tensor(y)

        def torch_hvp():
            leaf = tW1.detach().requires_grad_(True)
            value = mlp_loss({**tparams, "W1": leaf}, tx, ty, np_=torch)
            (g,) = torch.autograd.grad(value, leaf, create_graph=True)
            return torch.autograd.grad(g, leaf, tV)[0]

        impls["torch hvp"] = torch_hvp
    # reference: central difference of the gradient along V
    eps = 1e-5
    reference = (dr_grad(W1 + eps * V) - dr_grad(W1 - eps * V)) / (2 * eps)
    _check_close(dr.hvp(loss_w1, (W1,), (V,))[0], reference, "hvp", rtol=1e-4, atol=1e-6 * np.abs(reference).max())
    times = time_interleaved(impls, settings)
    return [
        {
            "workload": "hvp",
            "case": {"D": D, "wrt": "W1"},
            "times_s": times,
            "ratio_to_numpy_f": {k: t / times["numpy f"] for k, t in times.items()},
            "hvp_over_dualrev_grad": times["dualrev hvp"] / times["dualrev grad"],
        }
    ]


# ==========================================================================
# tape_memory: peak memory over a 2000-layer chain tanh(x @ W)
# ==========================================================================

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


def bench_tape_memory(settings: Settings, libs: dict) -> list[dict]:
    rows = []
    rng = np.random.default_rng(4)
    W = rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)
    for shape in ((WIDTH,), (WIDTH, WIDTH)):
        x = rng.standard_normal(shape)
        v = rng.standard_normal(shape)
        _check_close(
            dr.grad(deep_chain, mode="reverse")(x, W, 50), deep_chain_hand_grad(x, W, 50), "deep chain grad"
        )
        peaks: dict[str, int] = {
            "hand grad": peak_memory(lambda: deep_chain_hand_grad(x, W)),
            "dualrev grad": peak_memory(lambda: dr.grad(deep_chain, mode="reverse")(x, W)),
            "dualrev jvp": peak_memory(lambda: dr.jvp(lambda x: deep_chain(x, W), (x,), (v,))),
            f"dualrev jvp (depth {DEPTH // 4})": peak_memory(
                lambda: dr.jvp(lambda x: deep_chain(x, W, DEPTH // 4), (x,), (v,))
            ),
        }
        if "autograd" in libs:
            import autograd.numpy as anp

            ag_grad = libs["autograd"].grad(functools.partial(deep_chain, np_=anp))
            peaks["autograd grad"] = peak_memory(lambda: ag_grad(x, W))
        rows.append(
            {
                "workload": "tape_memory",
                "case": {"depth": DEPTH, "x_shape": list(shape), "activation_bytes": int(x.nbytes)},
                "peak_bytes": peaks,
                "bytes_per_layer": {k: v / DEPTH for k, v in peaks.items() if "depth" not in k},
                "ratio_to_hand": {k: v / peaks["hand grad"] for k, v in peaks.items()},
            }
        )
    return rows


# ==========================================================================


def _check_close(actual: Any, expected: Any, what: str, rtol: float = 1e-8, atol: float = 1e-10) -> None:
    """Every timed implementation is checked once: a fast wrong answer is no result."""
    a_leaves = dr.tree_flatten(actual)[0]
    e_leaves = dr.tree_flatten(expected)[0]
    if isinstance(expected, dict):
        a_leaves = [actual[k] for k in expected]
    for a, e in zip(a_leaves, e_leaves):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol, err_msg=what)


WORKLOADS: dict[str, Callable[[Settings, dict], list[dict]]] = {
    "mlp_grad": bench_mlp_grad,
    "op_overhead": bench_op_overhead,
    "jacobian_shapes": bench_jacobian_shapes,
    "hvp": bench_hvp,
    "tape_memory": bench_tape_memory,
}
