"""dualrev.scipy: special, stats, linalg and signal in realistic programs, in
every mode and at second order (the primitives' own rules are checked by
tests/test_registry.py); plain calls are SciPy's exactly; arguments without a
derivative raise naming themselves; out-of-domain arguments give SciPy's NaN
(or its error), never a finite derivative."""

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.scipy import linalg, signal, special, stats

RNG = np.random.default_rng(0)
X = RNG.uniform(0.3, 1.7, 4)
P = RNG.uniform(0.1, 0.9, 4)
A = RNG.standard_normal((3, 3))
SPD = A @ A.T + 3 * np.eye(3)


def check(f, *args, order=2):
    dr.testing.check_grads(f, *args, order=order)


# ------------------------------------------------------------------ special

UNARY = """gamma rgamma loggamma gammaln digamma erf erfc erfinv erfcinv erfcx dawsn expit logit log_expit
    ndtr log_ndtr ndtri entr exp1 expi exp10 sindg cosdg j0 j1 y0 y1 i0 i1 k0 k1 i0e i1e k0e k1e""".split()


@pytest.mark.parametrize("name", UNARY)
def test_unary_special_functions_in_a_program(name):
    f = getattr(special, name)
    x = P if name in ("erfinv", "logit", "ndtri", "erfcinv") else X
    assert np.array_equal(f(x), getattr(scipy.special, name)(x))  # plain: SciPy's result
    check(lambda v: dnp.sum(f(v) * dnp.sin(v)), x)
    # the SciPy ufunc itself dispatches on traced values
    check(lambda v: getattr(scipy.special, name)(v) * v, x, order=1)


@pytest.mark.parametrize(
    "name, order",
    [("jv", 1.5), ("jn", 2), ("yv", 0.5), ("yn", 3), ("iv", 2.0), ("ive", 1.0), ("kv", 1.5), ("kve", 0.5),
     ("kn", 2), ("polygamma", 2)],
)  # fmt: skip
def test_functions_of_an_order(name, order):
    f = getattr(special, name)
    assert np.array_equal(f(order, X), getattr(scipy.special, name)(order, X))
    check(lambda v: f(order, v) * v, X)
    with pytest.raises(ValueError, match=r"dualrev: scipy.special.\w+ is not differentiable in its argument '[vn]'"):
        dr.grad(lambda n: dnp.sum(f(n, X)))(float(order))


def test_bessel_orders_broadcast_against_x():
    orders = np.array([[0.0], [1.0], [2.5]])
    np.testing.assert_allclose(dr.jvp(lambda v: special.jv(orders, v), (X,), (X,))[0], scipy.special.jv(orders, X))
    check(lambda v: special.iv(orders, v), X)


@pytest.mark.parametrize(
    "name, params, x",
    [("betainc", (2.0, 3.5), P), ("betaincc", (0.7, 1.5), P), ("betaincinv", (2.0, 3.0), P),
     ("gammainc", (2.5,), X), ("gammaincc", (0.8,), X), ("gammaincinv", (3.0,), P), ("stdtr", (4.0,), X - 1),
     ("stdtrit", (5.0,), P), ("chdtr", (3.0,), X), ("chdtrc", (2.0,), X), ("pdtr", (3.0,), X),
     ("pdtrc", (2.0,), X)],
)  # fmt: skip
def test_incomplete_functions_in_their_last_argument(name, params, x):
    f = getattr(special, name)
    assert np.array_equal(f(*params, x), getattr(scipy.special, name)(*params, x))
    np.testing.assert_allclose(dr.jvp(lambda v: f(*params, v), (x,), (x,))[0], getattr(scipy.special, name)(*params, x))
    check(lambda v: f(*params, v) ** 2, x)
    with pytest.raises(ValueError, match="not differentiable in its argument"):
        dr.grad(lambda a: dnp.sum(f(a, *params[1:], x)))(params[0])


def test_binary_special_functions_in_both_arguments():
    for name in ("beta", "betaln", "xlogy", "xlog1py", "kl_div", "rel_entr"):
        f = getattr(special, name)
        assert np.array_equal(f(X, P), getattr(scipy.special, name)(X, P))
        check(lambda x, y: f(x, y) * x, X, P)


def test_multigammaln_logsumexp_softmax():
    check(lambda a: special.multigammaln(a, 3), X + 1.5)
    with pytest.raises(ValueError, match="'d'"):
        dr.grad(lambda d: special.multigammaln(3.0, d))(2.0)
    np.testing.assert_array_equal(special.logsumexp(X, b=P), scipy.special.logsumexp(X, b=P))
    check(lambda a, b: special.logsumexp(a, b=b), X, P)
    check(lambda a, b: special.logsumexp(dnp.reshape(a, (2, 2)), axis=1, b=b[:2], keepdims=True), X, P)
    signed = dr.jvp(lambda a: special.logsumexp(a, b=P - 0.5, return_sign=True)[0], (X,), (X,))[0]
    np.testing.assert_allclose(signed, scipy.special.logsumexp(X, b=P - 0.5, return_sign=True)[0])
    check(lambda a: special.logsumexp(a, b=P - 0.5, return_sign=True)[0], X)
    check(lambda a: special.softmax(a) * special.log_softmax(a), X)


def test_a_gamma_family_program():
    """A negative binomial log-likelihood in its two parameters, with lbeta and digamma."""
    counts = np.array([0.0, 3.0, 1.0, 7.0])

    def loglik(params):
        r, p = dnp.exp(params[0]), special.expit(params[1])
        ll = special.gammaln(counts + r) - special.gammaln(r) - special.gammaln(counts + 1)
        return dnp.sum(ll + special.xlogy(r, p) + special.xlog1py(counts, -p)) + special.digamma(r)

    check(loglik, np.array([0.3, -0.2]))


# ------------------------------------------------------------------ stats

CONTINUOUS = [("norm", ()), ("t", (4.0,)), ("gamma", (2.5,)), ("beta", (2.0, 3.0)), ("chi2", (3.0,))]


@pytest.mark.parametrize("name, shapes", CONTINUOUS)
@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"])
def test_continuous_distributions(name, shapes, method):
    f = getattr(getattr(stats, name), method)
    ref = getattr(getattr(scipy.stats, name), method)
    x = P if method in ("ppf", "isf") or name == "beta" else X
    np.testing.assert_array_equal(f(x, *shapes, 0.1, 1.5), ref(x, *shapes, 0.1, 1.5))
    traced = dr.jvp(lambda v: f(v, *shapes, loc=0.1, scale=1.5), (x,), (x,))[0]
    np.testing.assert_allclose(traced, ref(x, *shapes, loc=0.1, scale=1.5), rtol=1e-12)
    x = x * 0.5 if name == "beta" and method not in ("ppf", "isf") else x
    check(lambda v, s: f(v, *shapes, loc=0.05 * s, scale=s), x, np.array(1.3), order=2 if name == "norm" else 1)


@pytest.mark.parametrize("name, shapes", CONTINUOUS[1:])
def test_shape_parameters_of_the_densities(name, shapes):
    dist = getattr(stats, name)
    check(lambda s: dist.logpdf(P, *[s[i] for i in range(len(shapes))], scale=1.2), np.array(shapes) + 0.3)
    with pytest.raises(ValueError, match="not differentiable in its argument"):
        dr.grad(lambda s: dnp.sum(dist.cdf(P, s, *shapes[1:])))(shapes[0])


def test_out_of_domain_is_nan_or_scipys_constant():
    for mode in ("forward", "reverse"):
        g = dr.grad(lambda s: dnp.sum(stats.norm.logpdf(X, 0.0, s)), mode=mode)(-1.0)
        assert np.isnan(g), mode
        g = dr.grad(lambda v: dnp.sum(stats.gamma.logpdf(v, 2.0)), mode=mode)(np.array([-1.0, 1.0]))
        assert g[0] == 0 and g[1] == pytest.approx(1 / 1.0 - 1), mode
    assert stats.gamma.logpdf(-1.0, 2.0) == -np.inf
    with pytest.raises(ValueError):
        dr.grad(lambda c: dnp.sum(stats.multivariate_normal.logpdf(X[:3], np.zeros(3), c)))(-SPD)


def test_poisson_in_the_rate():
    k = np.array([0.0, 1.0, 4.0, -1.0, 2.5])
    for method in ("pmf", "logpmf", "cdf", "sf", "logcdf"):
        f, ref = getattr(stats.poisson, method), getattr(scipy.stats.poisson, method)
        np.testing.assert_allclose(dr.jvp(lambda mu: f(k, mu), (2.0,), (1.0,))[0], ref(k, 2.0))
        check(lambda mu: f(k[:3], mu), np.array(2.0))
    with pytest.raises(ValueError, match="'k'"):
        dr.grad(lambda k: stats.poisson.pmf(k, 2.0))(1.0)


def test_dirichlet_and_multivariate_normal():
    alpha, p = np.array([1.5, 2.0, 3.0]), np.array([0.2, 0.3, 0.5])
    check(lambda a, q: stats.dirichlet.logpdf(q / dnp.sum(q), a) + stats.dirichlet.entropy(a), alpha, p)
    np.testing.assert_allclose(
        dr.jvp(lambda a: stats.dirichlet.pdf(p, a), (alpha,), (alpha,))[0], scipy.stats.dirichlet.pdf(p, alpha)
    )
    pts = RNG.standard_normal((5, 3))
    mean = np.array([0.1, -0.2, 0.3])
    want = scipy.stats.multivariate_normal.logpdf(pts, mean, SPD)
    np.testing.assert_allclose(dr.jvp(lambda m: stats.multivariate_normal.logpdf(pts, m, SPD), (mean,), (mean,))[0],
                               want)  # fmt: skip
    check(lambda m, c: stats.multivariate_normal.logpdf(pts, m, c @ c.T + np.eye(3)), mean, A)
    check(lambda c: stats.multivariate_normal.entropy(mean, c @ c.T + np.eye(3)), A)
    check(lambda x, d: stats.multivariate_normal.pdf(x, np.zeros(3), d * d), pts[0], X[:3])


def test_fitting_a_normal_by_maximum_likelihood():
    data = RNG.normal(1.5, 0.7, 50)
    nll = lambda th: -dnp.sum(stats.norm.logpdf(data, th[0], dnp.exp(th[1])))  # noqa: E731
    theta = np.array([0.0, 0.0])
    for _ in range(200):
        theta = theta - 0.01 * dr.grad(nll)(theta)
    np.testing.assert_allclose(theta, [data.mean(), np.log(data.std())], atol=1e-3)
    check(nll, theta)


# ------------------------------------------------------------------ linalg


def test_triangular_cholesky_lu_and_banded_solves():
    b = RNG.standard_normal((3, 2))
    t = A + 3 * np.eye(3)
    for lower in (True, False):
        for trans in (0, 1):
            assert np.array_equal(
                linalg.solve_triangular(t, b, trans, lower), scipy.linalg.solve_triangular(t, b, trans, lower)
            )
            check(lambda a, b: linalg.solve_triangular(a, b, trans=trans, lower=lower), t, b)
        check(lambda s, b: linalg.cho_solve(linalg.cho_factor(s, lower=lower), b), SPD, b)
    np.testing.assert_allclose(
        dr.jvp(lambda s: linalg.cho_factor(s)[0], (SPD,), (SPD,))[0], scipy.linalg.cho_factor(SPD)[0]
    )
    lu, piv = linalg.lu_factor(A)
    assert np.array_equal(lu, scipy.linalg.lu_factor(A)[0])
    np.testing.assert_allclose(dr.jvp(lambda a: linalg.lu_factor(a)[0], (A,), (A,))[0], lu, atol=1e-15)
    for trans in (0, 1):
        check(lambda a, b: linalg.lu_solve(linalg.lu_factor(a), b, trans=trans), A, b)
    ab = RNG.standard_normal((3, 4)) + np.array([[0.0], [3.0], [0.0]])
    rhs = RNG.standard_normal(4)
    np.testing.assert_allclose(
        dr.jvp(lambda ab: linalg.solve_banded((1, 1), ab, rhs), (ab,), (ab,))[0],
        scipy.linalg.solve_banded((1, 1), ab, rhs),
    )
    check(lambda ab, c: linalg.solve_banded((1, 1), ab, c), ab, np.ones(4))


def test_matrix_functions_and_decompositions():
    for f in (linalg.expm, linalg.sqrtm):
        x = SPD if f is linalg.sqrtm else A
        assert np.array_equal(f(x), getattr(scipy.linalg, f.__name__)(x))
        np.testing.assert_allclose(dr.jvp(f, (x,), (x,))[0], getattr(scipy.linalg, f.__name__)(x), rtol=1e-12)
        check(lambda a: dnp.sum(f(a) * x), x)
    check(lambda a: linalg.expm(4 * a), A)  # with squarings
    check(lambda a, b, q: linalg.solve_sylvester(a, b, q), SPD, SPD[:2, :2], RNG.standard_normal((3, 2)))
    check(lambda s: linalg.eigh(s)[0] + linalg.eigh(s, eigvals_only=True, lower=False), SPD)
    check(lambda a: linalg.det(a) * linalg.inv(a), A)
    check(lambda a, b: linalg.solve(a, b, transposed=True), A, X[:3])


# ------------------------------------------------------------------ signal


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", [((7,), (3,)), ((3,), (5,)), ((4, 5), (2, 3)), ((3, 4, 2), (2, 2, 2))])
def test_convolve_and_correlate(mode, shapes):
    a, v = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    for f, ref in ((signal.convolve, scipy.signal.convolve), (signal.correlate, scipy.signal.correlate)):
        assert np.array_equal(f(a, v, mode=mode), ref(a, v, mode=mode))
        np.testing.assert_allclose(dr.jvp(lambda a: f(a, v, mode=mode), (a,), (a,))[0], ref(a, v, mode=mode))
        check(lambda a, v: dnp.tanh(f(a, v, mode=mode)), a, v, order=2 if len(shapes[0]) == 1 else 1)


def test_a_deconvolution_program():
    """Recover a signal blurred by a known kernel: gradient descent on ‖k * x − y‖²."""
    kernel = np.array([0.25, 0.5, 0.25])
    truth = np.sin(np.linspace(0, 3, 12))
    blurred = scipy.signal.convolve(truth, kernel, mode="same")
    loss = lambda x: dnp.sum((signal.convolve(x, kernel, mode="same") - blurred) ** 2)  # noqa: E731
    x = np.zeros(12)
    for _ in range(300):
        x = x - 0.5 * dr.grad(loss)(x)
    assert loss(x) < 1e-6
    check(loss, x)
