"""Unmodified NumPy programs, differentiated in every mode.

Each loss below is ordinary NumPy code (``np.*`` calls, operators, methods,
slicing); dualrev reaches it only through ``__array_ufunc__`` /
``__array_function__``. Every available mode must agree with the others and
with finite differences (``check_grads``), and with a hand-derived gradient
where one is short enough to write.
"""

import numpy as np
import pytest
import scipy.special

import dualrev as dr
from dualrev.testing import available_modes

MODES = available_modes()
rng = np.random.default_rng(2024)


def logistic_regression_loss(w, b, X, y):
    """Mean binary cross-entropy of a logistic model, written the stable way."""
    logits = X @ w + b
    return np.mean(np.logaddexp(0.0, logits) - y * logits)


def conv2d_loss(kernel, image):
    """A 'valid' 2-D cross-correlation written with slicing, then a ReLU-ish
    squash and a squared-norm loss."""
    kh, kw = kernel.shape
    h, w = image.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(kh):
        for j in range(kw):
            out = out + kernel[i, j] * image[i : i + h - kh + 1, j : j + w - kw + 1]
    return np.sum(np.tanh(out) ** 2) / out.size


def gaussian_log_likelihood(mu, L, data):
    """log N(data | mu, Σ = L Lᵀ + I/2) summed over rows, with slogdet and solve."""
    d = mu.shape[0]
    cov = L @ L.T + 0.5 * np.eye(d)
    sign, logdet = np.linalg.slogdet(cov)
    centred = data - mu
    mahalanobis = np.sum(centred * np.linalg.solve(cov, centred.T).T, axis=1)
    return -0.5 * np.sum(mahalanobis + logdet + d * np.log(2 * np.pi))


def softmax_classifier_loss(W, b, X, labels):
    """Cross-entropy of a linear softmax classifier with L2 weight decay."""
    scores = np.dot(X, W) + b  # (ndarray.dot(tracer) cannot be intercepted: NumPy converts the argument)
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    nll = -log_probs[np.arange(X.shape[0]), labels].mean()
    return nll + 1e-2 * np.sum(W * W)


X_lr = rng.standard_normal((8, 3))
y_lr = (rng.uniform(size=8) > 0.5).astype(float)
IMAGE = rng.standard_normal((6, 7))
DATA = rng.standard_normal((5, 3))
X_sm = rng.standard_normal((6, 4))
LABELS = np.array([0, 2, 1, 2, 0, 1])

PROGRAMS = {
    "logistic_regression": (logistic_regression_loss, (rng.standard_normal(3), 0.3), (X_lr, y_lr)),
    "conv2d": (conv2d_loss, (rng.standard_normal((3, 2)),), (IMAGE,)),
    "gaussian_loglik": (
        gaussian_log_likelihood,
        (rng.standard_normal(3), np.tril(rng.standard_normal((3, 3)))),
        (DATA,),
    ),
    "softmax_classifier": (
        softmax_classifier_loss,
        (rng.standard_normal((4, 3)), rng.standard_normal(3)),
        (X_sm, LABELS),
    ),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_in_every_mode(name):
    loss, params, data = PROGRAMS[name]

    def f(*p):
        return loss(*p, *data)

    dr.testing.check_grads(f, *params, modes=MODES)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_value_and_grad_across_modes(name):
    loss, params, data = PROGRAMS[name]
    argnums = tuple(range(len(params)))
    value = loss(*params, *data)
    results = [dr.value_and_grad(loss, argnums=argnums, mode=m)(*params, *data) for m in MODES]
    for v, grads in results:
        assert np.isclose(v, value)
        for g, g0 in zip(grads, results[0][1]):
            np.testing.assert_allclose(g, g0, rtol=1e-9, atol=1e-12)


def test_logistic_regression_gradient_by_hand():
    w, b = PROGRAMS["logistic_regression"][1]
    residual = scipy.special.expit(X_lr @ w + b) - y_lr
    gw, gb = dr.grad(logistic_regression_loss, argnums=(0, 1))(w, b, X_lr, y_lr)
    np.testing.assert_allclose(gw, X_lr.T @ residual / len(y_lr), rtol=1e-12)
    np.testing.assert_allclose(gb, residual.mean(), rtol=1e-12)


def test_gaussian_mean_gradient_by_hand():
    mu, L = PROGRAMS["gaussian_loglik"][1]
    cov = L @ L.T + 0.5 * np.eye(3)
    want = np.linalg.solve(cov, (DATA - mu).sum(axis=0))
    for mode in MODES:
        np.testing.assert_allclose(dr.grad(gaussian_log_likelihood, mode=mode)(mu, L, DATA), want, rtol=1e-10)


def test_softmax_classifier_hessian_modes_agree():
    W, b = PROGRAMS["softmax_classifier"][1]
    f = lambda b_: softmax_classifier_loss(W, b_, X_sm, LABELS)  # noqa: E731
    dr.testing.check_grads(f, b, modes=("forward", "reverse"), order=2)
