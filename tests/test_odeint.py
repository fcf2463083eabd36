"""dualrev.scipy.integrate.odeint: values are SciPy's; the adjoint (reverse) and
forward-sensitivity derivatives in y0, t and args match closed forms and
central finite differences; a parameter fit; the adjoint's memory."""

import tracemalloc

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.scipy.integrate import odeint

# FD of a solve at tolerance tol with step eps has noise ~ tol / eps: solve the
# FD references tightly, so that their error (~1e-7 relative) is far below the
# derivatives' own (~ the solver's default rtol, 1.4e-8, times the problem's
# conditioning).
TIGHT = dict(rtol=1e-12, atol=1e-12)
EPS = 1e-4
RTOL = 1e-5


def decay(y, t, k):
    return -k * y


def lotka_volterra(y, t, theta):
    prey, pred = y[0], y[1]
    return dnp.stack([theta[0] * prey - theta[1] * prey * pred, theta[2] * prey * pred - theta[3] * pred])


Y0 = np.array([2.0, 1.0])
THETA = np.array([1.0, 0.5, 0.3, 0.8])
T_LV = np.linspace(0.0, 5.0, 7)
T_DECAY = np.array([0.0, 0.3, 1.0, 2.0])
K = 0.7


def central_fd(f, x, eps=EPS):
    x = np.asarray(x, dtype=float)
    out = np.zeros(np.shape(f(x)) + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        out[(...,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return out


def lv_loss(y0, t, theta, **tol):
    return dnp.sum(dnp.sin(odeint(lotka_volterra, y0, t, theta, **tol)))


def decay_loss(y0, t, k, **tol):
    w = np.arange(1.0, 1.0 + len(T_DECAY) * 2).reshape(len(T_DECAY), 2)
    return dnp.sum(w * odeint(decay, y0, t, k, **tol) ** 2)


def test_plain_values_are_scipys():
    ys = odeint(lotka_volterra, Y0, T_LV, THETA)
    expected = scipy.integrate.odeint(lambda y, t: lotka_volterra(y, t, THETA), Y0, T_LV, rtol=1.4e-8, atol=1.5e-8)
    assert ys.shape == (len(T_LV), 2)
    np.testing.assert_array_equal(ys, expected)
    y2 = odeint(decay, np.ones((2, 3)), T_DECAY, K)
    assert y2.shape == (len(T_DECAY), 2, 3)
    np.testing.assert_allclose(y2, np.exp(-K * T_DECAY)[:, None, None] * np.ones((2, 3)), rtol=1e-7)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_exponential_decay_against_the_closed_form_and_fd(mode):
    # L = Σ_i Σ_j w_ij y0_j² exp(-2k(t_i - t_0))
    w = np.arange(1.0, 1.0 + len(T_DECAY) * 2).reshape(len(T_DECAY), 2)
    e = np.exp(-2 * K * (T_DECAY - T_DECAY[0]))
    dy0 = 2 * Y0 * (w * e[:, None]).sum(0)
    dk = -2 * np.sum((T_DECAY - T_DECAY[0])[:, None] * w * e[:, None] * Y0**2)
    per_t = -2 * K * e * (w * Y0**2).sum(1)
    dt = per_t.copy()
    dt[0] = -per_t[1:].sum()
    g_y0, g_t, g_k = dr.grad(decay_loss, argnums=(0, 1, 2), mode=mode)(Y0, T_DECAY, K)
    np.testing.assert_allclose(g_y0, dy0, rtol=RTOL)
    np.testing.assert_allclose(g_t, dt, rtol=RTOL)
    np.testing.assert_allclose(g_k, dk, rtol=RTOL)
    np.testing.assert_allclose(g_k, central_fd(lambda k: decay_loss(Y0, T_DECAY, k, **TIGHT), K), rtol=RTOL)
    np.testing.assert_allclose(g_t, central_fd(lambda t: decay_loss(Y0, t, K, **TIGHT), T_DECAY), rtol=RTOL)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_lotka_volterra_gradients_against_fd(mode):
    grads = dr.grad(lv_loss, argnums=(0, 1, 2), mode=mode)(Y0, T_LV, THETA)
    fds = [
        central_fd(lambda y0: lv_loss(y0, T_LV, THETA, **TIGHT), Y0),
        central_fd(lambda t: lv_loss(Y0, t, THETA, **TIGHT), T_LV),
        central_fd(lambda th: lv_loss(Y0, T_LV, th, **TIGHT), THETA),
    ]
    for g, fd in zip(grads, fds):
        np.testing.assert_allclose(g, fd, rtol=RTOL, atol=RTOL * np.abs(fd).max())


def test_jacobians_forward_and_reverse_agree_with_fd():
    solve = lambda y0, theta: odeint(lotka_volterra, y0, T_LV, theta)
    j_rev = dr.jacobian(solve, argnums=(0, 1), mode="reverse")(Y0, THETA)
    j_fwd = dr.jacobian(solve, argnums=(0, 1), mode="forward")(Y0, THETA)
    fd = [
        central_fd(lambda y0: odeint(lotka_volterra, y0, T_LV, THETA, **TIGHT), Y0),
        central_fd(lambda th: odeint(lotka_volterra, Y0, T_LV, th, **TIGHT), THETA),
    ]
    for jr, jf, f in zip(j_rev, j_fwd, fd):
        assert jr.shape == jf.shape == (len(T_LV), 2) + jr.shape[2:]
        np.testing.assert_allclose(jr, f, rtol=RTOL, atol=RTOL * np.abs(f).max())
        np.testing.assert_allclose(jf, f, rtol=RTOL, atol=RTOL * np.abs(f).max())


def test_jacobian_in_t_and_a_single_output_time():
    j = dr.jacobian(lambda t: odeint(decay, Y0, t, K), mode="reverse")(T_DECAY)
    jf = dr.jacobian(lambda t: odeint(decay, Y0, t, K), mode="forward")(T_DECAY)
    np.testing.assert_allclose(j, jf, rtol=RTOL, atol=1e-9)
    assert np.allclose(j[0], 0.0)  # y(t_0) = y0 whatever t_0
    one = np.array([0.5])
    g = dr.grad(lambda y0, t: dnp.sum(odeint(decay, y0, t, K)), argnums=(0, 1))(Y0, one)
    np.testing.assert_allclose(g[0], np.ones(2))
    np.testing.assert_allclose(g[1], np.zeros(1))


def test_parameter_fit_with_bfgs_recovers_the_parameters():
    t = np.linspace(0.0, 4.0, 9)
    data = odeint(lotka_volterra, Y0, t, THETA)

    def loss(log_theta):
        return dnp.sum((odeint(lotka_volterra, Y0, t, dnp.exp(log_theta)) - data) ** 2)

    start = np.log(THETA * np.array([1.2, 0.85, 1.15, 0.9]))
    fit = scipy.optimize.minimize(dr.value_and_grad(loss), start, jac=True, method="BFGS", options={"gtol": 1e-6})
    np.testing.assert_allclose(np.exp(fit.x), THETA, rtol=1e-4)
    assert fit.fun < 1e-10


def oscillator(y, t, a):
    return a @ y


ROTATION = np.array([[0.0, 1.0], [-1.0, 0.0]])


def _pullback_peak(n_times, t_end):
    """tracemalloc's peak (bytes) while one adjoint solve runs."""
    t = np.linspace(0.0, t_end, n_times)
    ys, pullback = dr.vjp(lambda a: odeint(oscillator, Y0, t, a, mxstep=100_000), ROTATION)
    pullback(np.ones_like(ys))  # warm-up
    ct = np.ones_like(ys)  # a new cotangent: the rule caches its last result by identity
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        pullback(ct)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_adjoint_memory_does_not_grow_with_output_times_or_solver_steps():
    _pullback_peak(10, 2.0)  # the first traced call also allocates one-off caches
    peak_10 = _pullback_peak(10, 2.0)
    # 10x the output times: only the O(len(t)) arrays themselves (cotangent, t̄) grow.
    peak_100 = _pullback_peak(100, 2.0)
    assert peak_100 < 1.5 * peak_10, (peak_10, peak_100)
    # 25x the interval (~6x the solver steps): the same memory.
    peak_long = _pullback_peak(10, 50.0)
    assert peak_long < 1.2 * peak_10, (peak_10, peak_long)


def test_second_derivatives_raise_naming_odeint():
    f = lambda theta: lv_loss(Y0, T_LV, theta)
    for mode in [("forward", "reverse"), ("reverse", "reverse"), ("reverse", "forward")]:
        with pytest.raises(NotImplementedError, match="odeint"):
            dr.hessian(f, mode=mode)(THETA)
