"""The worked examples of the lecture notes (shared/seeds), with their numbers."""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp

MODES = ("forward", "reverse")


def neuron(w, x):
    # f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), written gate by gate as on the slides
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / (1.0 + dnp.exp(-dot))


@pytest.mark.parametrize("mode", MODES)
def test_sigmoid_neuron_of_the_slides(mode):
    """Seed 004 (CS231n example): w = (2, -3, -3), x = (-1, -2); output 0.73 and
    gradients dw = (-0.20, -0.39, 0.20), dx = (0.39, -0.59)."""
    w = np.array([2.0, -3.0, -3.0])
    x = np.array([-1.0, -2.0])
    value, (dw, dx) = dr.value_and_grad(neuron, argnums=(0, 1), mode=mode)(w, x)
    assert round(float(value), 2) == 0.73
    np.testing.assert_array_equal(np.round(dw, 2), [-0.20, -0.39, 0.20])
    np.testing.assert_array_equal(np.round(dx, 2), [0.39, -0.59])
    # The sigmoid gate collapses the last four gates: σ'(1) = 0.73 (1 - 0.73) = 0.20.
    gate = dr.grad(dnp.sigmoid, mode=mode)(1.0)
    assert round(float(gate), 2) == 0.20
    dw2 = dr.grad(lambda w, x: dnp.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2]), mode=mode)(w, x)
    np.testing.assert_allclose(dw2, dw, rtol=1e-14)


def test_intermediate_gradients_of_the_slides():
    """The backward values shown gate by gate: 1/x gate -0.53, exp gate -0.20."""
    assert round(float(dr.grad(lambda z: 1.0 / z)(1.37)), 2) == -0.53
    upstream = -1.0 / 1.3678794411714423 ** 2
    assert round(float(dr.grad(dnp.exp)(-1.0)) * upstream, 2) == -0.20


@pytest.mark.parametrize("mode", MODES)
def test_batched_linear_layer_formulas(mode, rng):
    """Seed 002: for Ŷ = X W + b, dL/dW = Xᵀ dL/dŶ, dL/db = Σ_i dL/dŶ_i, dL/dX = dL/dŶ Wᵀ."""
    X = rng.standard_normal((5, 3))
    W = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    Y = rng.standard_normal((5, 2))

    def loss(X, W, b):
        return dnp.mean((Y - dnp.linear(X, W, b)) ** 2)

    dX, dW, db = dr.grad(loss, argnums=(0, 1, 2), mode=mode)(X, W, b)
    dL_dYhat = -2.0 * (Y - (X @ W + b)) / Y.size
    np.testing.assert_allclose(dW, X.T @ dL_dYhat, rtol=1e-12)
    np.testing.assert_allclose(db, dL_dYhat.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dX, dL_dYhat @ W.T, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_two_layer_network_with_a_sigmoid(mode, rng):
    """Seed 002, "adding an activation function": ŷ = σ(X W1 + b1) W2 + b2."""
    X = rng.standard_normal((4, 3))
    W1, b1 = rng.standard_normal((3, 5)), rng.standard_normal(5)
    W2, b2 = rng.standard_normal((5, 1)), rng.standard_normal(1)
    y = rng.standard_normal((4, 1))

    def loss(W1, b1, W2, b2):
        S = dnp.sigmoid(X @ W1 + b1)
        return dnp.sum((S @ W2 + b2 - y) ** 2)

    grads = dr.grad(loss, argnums=(0, 1, 2, 3), mode=mode)(W1, b1, W2, b2)
    H = X @ W1 + b1
    S = 1 / (1 + np.exp(-H))
    dY = 2 * (S @ W2 + b2 - y)
    dS = dY @ W2.T
    dH = dS * S * (1 - S)
    expected = (X.T @ dH, dH.sum(0), S.T @ dY, dY.sum(0))
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_relu_network_of_seed_001(mode, rng):
    """Seed 001 eq. 33: linear → relu → linear → relu → linear → sqerr, against the
    hand-written backward pass of eq. 37."""
    D = 4
    x, y = rng.standard_normal(D), rng.standard_normal(D)
    params = {f"W{i}": rng.standard_normal((D, D)) for i in (1, 2, 3)}
    params.update({f"b{i}": rng.standard_normal(D) for i in (1, 2, 3)})

    def loss(p):
        h1 = dnp.relu(dnp.linear(x, p["W1"], p["b1"]))
        h2 = dnp.relu(dnp.linear(h1, p["W2"], p["b2"]))
        return dnp.sqerr(dnp.linear(h2, p["W3"], p["b3"]), y)

    g = dr.grad(loss, mode=mode)(params)
    a1 = x @ params["W1"] + params["b1"]
    h1 = np.maximum(a1, 0)
    a2 = h1 @ params["W2"] + params["b2"]
    h2 = np.maximum(a2, 0)
    f = h2 @ params["W3"] + params["b3"]
    df = f - y  # sqerr.backward
    dW3, db3, dh2 = np.outer(h2, df), df, df @ params["W3"].T
    da2 = dh2 * (a2 > 0)  # relu.backward
    dW2, db2, dh1 = np.outer(h1, da2), da2, da2 @ params["W2"].T
    da1 = dh1 * (a1 > 0)
    dW1, db1 = np.outer(x, da1), da1
    for name, want in dict(W1=dW1, W2=dW2, W3=dW3, b1=db1, b2=db2, b3=db3).items():
        np.testing.assert_allclose(g[name], want, rtol=1e-12, atol=1e-14, err_msg=name)
