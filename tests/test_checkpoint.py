"""Checkpointing (issue 16): dr.checkpoint, dr.checkpoint_loop and the
binomial schedule's counts, which are deterministic and asserted exactly."""

from __future__ import annotations

import functools
import types

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.checkpointing import beta, min_advances

RNG = np.random.default_rng(16)
D = 6
W = RNG.standard_normal((D, D)) / 2
X = RNG.standard_normal(D)
HESSIAN_MODES = [("forward", "reverse"), ("reverse", "reverse"), ("reverse", "forward"), ("explicit", "reverse"),
                 ("reverse", "explicit")]  # fmt: skip


def close(a, b, tol=1e-12):
    for u, v in zip(dr.tree_flatten(a)[0], dr.tree_flatten(b)[0]):
        scale = max(np.abs(v).max(), 1e-300)
        assert np.abs(np.asarray(u) - v).max() <= tol * scale


def layer(x, W):
    return dnp.tanh(W @ x)


def two_layers(wrap, x, W):
    f = wrap(layer)
    return dnp.sum(f(f(x, W), W) ** 2)


ident = lambda f: f  # noqa: E731


# --- checkpoint --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward", "explicit"])
def test_checkpoint_gradients_in_every_mode(mode):
    g = dr.grad(functools.partial(two_layers, dr.checkpoint), argnums=(0, 1), mode=mode)(X, W)
    close(g, dr.grad(functools.partial(two_layers, ident), argnums=(0, 1), mode="reverse")(X, W))


@pytest.mark.parametrize("mode", HESSIAN_MODES)
def test_checkpoint_hessian_and_hvp(mode):
    f = lambda x: two_layers(dr.checkpoint, x, W)  # noqa: E731
    ref = dr.hessian(lambda x: two_layers(ident, x, W))(X)
    close(dr.hessian(f, mode=mode)(X), ref, 1e-10)
    v = RNG.standard_normal(D)
    close(dr.hvp(f, (X,), (v,), mode=mode)[0], ref @ v, 1e-10)


def test_checkpoint_containers_aux_and_jacobian():
    def block(p, scale=1.0):
        h = dnp.tanh(p["W"] @ p["x"][0]) * scale
        return {"h": h, "pair": (h * p["x"][1], dnp.sum(h))}, {"norm": dnp.sum(h**2), "tag": "block"}

    def f(wrap, x, y):
        out, aux = wrap(block)({"W": W, "x": (x, y)}, scale=2.0)
        return dnp.sum(out["h"]) + dnp.sum(out["pair"][0]) * out["pair"][1], aux

    ck = lambda fn: dr.checkpoint(fn, has_aux=True)  # noqa: E731
    y = RNG.standard_normal(D)
    (v1, aux1), g1 = dr.value_and_grad(lambda x, y: f(ck, x, y), argnums=(0, 1), has_aux=True)(X, y)
    (v0, aux0), g0 = dr.value_and_grad(lambda x, y: f(ident, x, y), argnums=(0, 1), has_aux=True)(X, y)
    close(v1, v0)
    close(g1, g0)
    assert aux1["tag"] == "block" and np.isclose(aux1["norm"], aux0["norm"])
    jac = lambda wrap: dr.jacobian(lambda x: wrap(block)({"W": W, "x": (x, y)})[0]["h"], mode="reverse")(X)  # noqa: E731
    close(jac(ck), jac(ident))


def test_checkpoint_closure_over_traced_parameters():
    def f(x, W):
        @dr.checkpoint
        def block(y):
            return dnp.tanh(W @ y)

        return dnp.sum(block(block(x)) ** 2)

    ref = functools.partial(two_layers, ident)
    close(dr.grad(f, argnums=(0, 1))(X, W), dr.grad(ref, argnums=(0, 1))(X, W))
    close(dr.hessian(lambda W: f(X, W))(W), dr.hessian(lambda W: ref(X, W))(W), 1e-10)
    # the closure cell is restored after the recomputation
    assert np.isfinite(dr.grad(lambda W: f(X, W))(W)).all()


def test_checkpoint_keeps_only_its_inputs_on_the_tape():
    from dualrev.reverse import reverse_pass

    def chain(wrap, x):
        f = wrap(lambda x: dnp.tanh(dnp.sin(dnp.cos(x)) * 2.0))
        return dnp.sum(f(x))

    sizes = [len(reverse_pass(lambda v: chain(w, v[0]), [X], False, "t")[2].tape) for w in (ident, dr.checkpoint)]
    assert sizes[1] < sizes[0] and sizes[1] == 2  # the block and the sum


def test_checkpoint_errors():
    hidden = types.SimpleNamespace()

    def leaky(x):
        return x * hidden.w  # a traced value reached through an attribute, not held in a closure cell

    def f(x, w):
        hidden.w = w
        return dnp.sum(dr.checkpoint(leaky)(x))

    with pytest.raises(ValueError, match="pass that value as an argument"):
        dr.grad(f, argnums=(0, 1))(X, np.ones(D))
    close(dr.grad(f, argnums=1)(X, np.ones(D)), X)  # no traced input: the block just runs
    with pytest.raises(TypeError, match="keyword argument 'w' is traced"):
        dr.grad(lambda w: dnp.sum(dr.checkpoint(lambda x, w: x * w)(X, w=w)))(np.ones(D))


# --- the schedule's counts ---------------------------------------------------


@functools.cache
def brute_force(n, s):
    """Least plain advances reversing n steps from a stored state with s snapshots (that one included)."""
    if n <= 1:
        return 0
    if s == 1:
        return n * (n - 1) // 2
    return min(m + brute_force(n - m, s - 1) + brute_force(m, s) for m in range(1, n))


def test_min_advances_matches_the_dynamic_programme():
    for n in range(1, 60):
        for s in range(1, 9):
            assert min_advances(n, s) == brute_force(n, s), (n, s)
            assert dr.min_step_evaluations(n, s) == n + brute_force(n, s)


def test_beta_is_the_reach_of_r_repetitions():
    for s in range(1, 6):
        for r in range(0, 5):
            n = beta(s, r)  # the most steps s snapshots reverse with r repetitions ...
            assert min_advances(n, s) == r * n - beta(s + 1, r - 1) <= r * n
            assert min_advances(n + 1, s) == (r + 1) * (n + 1) - beta(s + 1, r)  # ... one more needs r + 1
    assert dr.min_step_evaluations(1000, 10) == 1000 + 4 * 1000 - beta(11, 3)
    assert dr.min_step_evaluations(1000, None) == dr.min_step_evaluations(1000, 1000) == 1999
    assert dr.min_step_evaluations(0, 3) == 0


# --- checkpoint_loop ---------------------------------------------------------


def plain_loop(x, W, n):
    for _ in range(n):
        x = layer(x, W)
    return x


@pytest.mark.parametrize("n", [1, 2, 7, 40])
@pytest.mark.parametrize("s", [1, 2, 3, 5, None, 100])
def test_loop_gradients_and_counts(n, s):
    stats = dr.CheckpointStats()
    loss = lambda x, W: dnp.sum(dr.checkpoint_loop(layer, x, n, W, snapshots=s, stats=stats) ** 2)  # noqa: E731
    g = dr.grad(loss, argnums=(0, 1))(X, W)
    close(g, dr.grad(lambda x, W: dnp.sum(plain_loop(x, W, n) ** 2), argnums=(0, 1))(X, W))
    s_eff = n if s is None else min(s, n)
    assert stats.total_steps == dr.min_step_evaluations(n, s)
    assert stats.forward_steps == n and stats.recorded_steps == n - 1
    assert stats.recomputed_steps == min_advances(n, s_eff) - (n - 1)
    assert stats.snapshots_used <= s_eff
    assert stats.peak_tape_bytes > 0


def test_loop_with_every_state_stored_recomputes_nothing():
    stats = dr.CheckpointStats()
    dr.grad(lambda x: dnp.sum(dr.checkpoint_loop(layer, x, 30, W, snapshots=30, stats=stats)))(X)
    assert (stats.forward_steps, stats.recomputed_steps, stats.recorded_steps) == (30, 0, 29)


def test_loop_targets_n1000_s10():
    stats = dr.CheckpointStats()
    small = W / 4
    g = dr.grad(lambda x: dnp.sum(dr.checkpoint_loop(layer, x, 1000, small, snapshots=10, stats=stats)))(X)
    close(g, dr.grad(lambda x: dnp.sum(plain_loop(x, small, 1000)))(X))
    assert stats.total_steps == dr.min_step_evaluations(1000, 10) == 4636
    assert stats.snapshots_used == 10


def test_loop_container_state_closure_and_nesting():
    def step(state, scale):
        x, v = state["x"], state["v"]
        return {"x": x + 0.1 * v, "v": v - 0.1 * dnp.tanh(W2 @ x) * scale}

    def loss(wrap_n, x, v, scale, W2_):
        nonlocal W2
        W2 = W2_
        out = dr.checkpoint_loop(step, {"x": x, "v": v}, 12, scale, snapshots=wrap_n)
        return dnp.sum(out["x"] ** 2) + dnp.sum(out["v"])

    W2 = W
    args = (X, X[::-1].copy(), 1.5, W)
    ref = dr.grad(lambda *a: loss(None, *a), argnums=(0, 1, 2, 3), mode="forward")(*args)
    close(dr.grad(lambda *a: loss(3, *a), argnums=(0, 1, 2, 3))(*args), ref, 1e-11)
    h = lambda m: dr.hessian(lambda x: loss(2, x, *args[1:]), mode=m)(X)  # noqa: E731
    for mode in HESSIAN_MODES:
        close(h(mode), h(("forward", "forward")), 1e-10)


def test_loop_closure_gradient():
    def f(x, W):
        return dnp.sum(dr.checkpoint_loop(lambda y: dnp.tanh(W @ y), x, 9, snapshots=2))

    ref = lambda x, W: dnp.sum(plain_loop(x, W, 9))  # noqa: E731
    close(dr.grad(f, argnums=(0, 1))(X, W), dr.grad(ref, argnums=(0, 1))(X, W))
    close(dr.jacobian(lambda x: dr.checkpoint_loop(layer, x, 5, W, snapshots=2), mode="reverse")(X),
          dr.jacobian(lambda x: plain_loop(x, W, 5))(X))  # fmt: skip


def test_loop_plain_and_zero_steps():
    stats = dr.CheckpointStats()
    close(dr.checkpoint_loop(layer, X, 4, W, snapshots=2, stats=stats), plain_loop(X, W, 4))
    assert stats.total_steps == 4
    assert dr.checkpoint_loop(layer, X, 0, W) is X


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_steps": -1}, ValueError, "n_steps must be a non-negative integer, got -1"),
        ({"n_steps": 2.5}, TypeError, "got 2.5"),
        ({"n_steps": True}, TypeError, "got True"),
        ({"snapshots": 0}, ValueError, "snapshots must be at least 1.*got 0"),
        ({"snapshots": 1.5}, TypeError, "snapshots must be an integer"),
    ],
)
def test_loop_bad_arguments(kwargs, error, match):
    args = {"n_steps": 3, "snapshots": 2} | kwargs
    with pytest.raises(error, match=match):
        dr.checkpoint_loop(layer, X, args["n_steps"], W, snapshots=args["snapshots"])


def test_loop_step_that_changes_the_state():
    with pytest.raises(ValueError, match=r"step 0 returned leaf 0 of the state with shape \(3,\)"):
        dr.grad(lambda x: dnp.sum(dr.checkpoint_loop(lambda y: y[:3], x, 4, snapshots=2)))(X)
    with pytest.raises(ValueError, match="returned a state of structure"):
        dr.checkpoint_loop(lambda y: (y, y), X, 2)
