"""Issue 13's leftovers: what the generated surface page (docs/api-surface.md)
found, and the options that are either supported or refused by name."""

import numpy as np
import pytest
import scipy.linalg

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.scipy import linalg

RNG = np.random.default_rng(13)
X = RNG.standard_normal((2, 6))
AW = RNG.uniform(0.5, 2.0, 6)
FW = np.array([1, 2, 1, 3, 1, 2])


@pytest.mark.parametrize("kwargs", [{}, {"ddof": 0}, {"bias": True}, {"fweights": FW}])
def test_cov_is_differentiable_in_aweights(kwargs):
    # It used to read the plain value of aweights: a silent zero derivative.
    assert np.allclose(dnp.cov(X, aweights=AW, **kwargs), np.cov(X, aweights=AW, **kwargs))
    dr.testing.check_grads(lambda w: dnp.cov(X, aweights=w, **kwargs), AW)
    dr.testing.check_grads(lambda x: dnp.cov(x, aweights=AW, **kwargs), X)


def test_cov_refuses_traced_fweights():
    with pytest.raises(TypeError, match="fweights"):
        dr.grad(lambda w: dnp.sum(dnp.cov(X, fweights=w)))(FW.astype(float))


def test_scipy_eigh_of_a_traced_matrix_has_scipys_eigenvector_signs():
    a = RNG.standard_normal((4, 4))
    a = a + a.T
    for lower in (True, False):
        w, v = dr.jvp(lambda m: linalg.eigh(m, lower=lower), (a,), (np.eye(4),))[0]
        want_w, want_v = scipy.linalg.eigh(a, lower=lower)
        assert np.allclose(w, want_w) and np.allclose(v, want_v)
    dr.testing.check_grads(lambda m: linalg.eigh(m + m.T)[1] ** 2, a)  # signs are arbitrary: squares
