"""Trust at the edges (issue 12): the functions that used to return a silent
zero gradient are differentiated, and every error a user meets there is
dualrev's, says what went wrong and what to do instead."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.testing import check_grads, numerical_jacobian

MODES = dr.MODES
RNG = np.random.default_rng(12)


def cofactors(a):
    """The cofactor matrix from its definition: signed (n−1)-minors."""
    n = a.shape[-1]
    out = np.empty_like(a)
    for i, j in itertools.product(range(n), range(n)):
        minor = np.delete(np.delete(a, i, axis=0), j, axis=1)
        out[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


# ------------------------------------------------------------------- cond


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_is_differentiated(p):
    a = RNG.standard_normal((3, 3)) + 2 * np.eye(3)
    assert np.isclose(dr.grad(lambda m: np.linalg.cond(m, p))(a).sum(), numerical_jacobian(
        lambda m: np.linalg.cond(m, p), a).sum())
    check_grads(lambda m: np.linalg.cond(m, p), a, rtol=1e-4)


def test_cond_of_stacks_and_rectangular_matrices():
    check_grads(np.linalg.cond, RNG.standard_normal((2, 3, 4)), rtol=1e-4)
    np.testing.assert_allclose(dr.jvp(np.linalg.cond, (np.eye(2) * [1.0, 4.0],), (np.eye(2),))[0], 4.0)
    with pytest.raises(np.linalg.LinAlgError, match="at least two-dimensional"):
        dr.grad(np.linalg.cond)(np.ones(3))


# ------------------------------------------------------- bincount, histogram


def test_bincount_with_traced_weights_is_a_segment_sum():
    idx = np.array([0, 1, 1, 3])
    g = dr.grad(lambda w: dnp.sum(np.bincount(idx, weights=w) * np.array([6.0, 8.0, 5.0, 4.0])))(np.ones(4))
    np.testing.assert_array_equal(g, [6.0, 8.0, 8.0, 4.0])
    check_grads(lambda w: np.bincount(idx, weights=w, minlength=6), RNG.standard_normal(4))
    with pytest.raises(TypeError, match="bincount counts integer indices"):
        dr.grad(lambda x: dnp.sum(np.bincount(x)))(np.ones(3))


@pytest.mark.parametrize(
    "kwargs", [{"bins": 4}, {"bins": 3, "range": (-1.0, 1.0)}, {"bins": np.array([-2.0, -0.3, 0.4, 3.0])}]
)
def test_histogram_weights_and_edges(kwargs):
    a, w = RNG.standard_normal(30), RNG.uniform(0.5, 2.0, 30)
    counts, edges = np.histogram(a, weights=w, **kwargs)
    (traced_counts, traced_edges), _ = dr.jvp(lambda a, w: np.histogram(a, weights=w, **kwargs), (a, w), (a, w))
    np.testing.assert_allclose(traced_counts, counts)
    np.testing.assert_allclose(traced_edges, edges)
    check_grads(lambda a, w: np.histogram(a, weights=w, **kwargs), a, w)
    check_grads(lambda a: np.histogram(a, density=True, **kwargs), a)


def test_histogram_edges_follow_min_and_max():
    a = np.array([0.0, 1.0, 3.0, 4.0])
    g = dr.jacobian(lambda a: np.histogram(a, bins=4)[1])(a)
    # edge k = min + k/4 · (max − min): ∂/∂min = 1 − k/4, ∂/∂max = k/4.
    np.testing.assert_allclose(g[:, 0], 1 - np.arange(5) / 4)
    np.testing.assert_allclose(g[:, 3], np.arange(5) / 4)
    check_grads(lambda a: np.histogram_bin_edges(a, bins="auto"), RNG.standard_normal(20))


def test_unique_and_full_like_carry_the_derivative():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    values, tangent = dr.jvp(np.unique, (x,), (np.arange(4.0),))
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tangent, [1.0, 3.0, 0.0])  # first occurrences
    with pytest.raises(NotImplementedError, match="axis=None"):
        dr.grad(lambda x: dnp.sum(np.unique(x, axis=0)))(np.ones((2, 2)))
    check_grads(lambda v: dnp.full_like(np.zeros(3), v), 1.5)
    with pytest.raises(TypeError, match="np.copyto writes a traced value.*full_like"):
        dr.grad(lambda v: dnp.sum(np.full_like(np.zeros(3), v)))(1.5)


# -------------------------------------------------------------- heaviside


def test_heaviside_is_differentiable_in_h_where_x_is_zero():
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(dr.grad(lambda h: dnp.sum(np.heaviside(x, h)))(0.5), 2.0)
    np.testing.assert_array_equal(dr.jacobian(lambda h: np.heaviside(x, h))(np.full(4, 0.5)), np.diag(x == 0.0))
    check_grads(lambda h: np.heaviside(x, h), RNG.uniform(size=4))
    assert np.all(dr.grad(lambda x: dnp.sum(np.heaviside(x, 0.5)))(x + 0.1) == 0.0)


# ------------------------------------------------------------------- det


def _rank(r, n=4):
    return RNG.standard_normal((n, r)) @ RNG.standard_normal((r, n))


@pytest.mark.parametrize("mode", MODES)
def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix(mode):
    a = _rank(3)  # rank n − 1: the cofactor matrix has rank 1
    g = dr.grad(np.linalg.det, mode=mode)(a)
    np.testing.assert_allclose(g, cofactors(a), atol=1e-10)
    assert np.linalg.matrix_rank(g) == 1
    np.testing.assert_allclose(dr.grad(np.linalg.det, mode=mode)(_rank(2)), 0.0, atol=1e-12)  # rank ≤ n − 2
    a = RNG.standard_normal((3, 3))
    np.testing.assert_allclose(dr.grad(np.linalg.det, mode=mode)(a), np.linalg.det(a) * np.linalg.inv(a).T)


def test_det_batched_and_second_order_at_singular_matrices():
    stack = np.stack([_rank(3), _rank(2), _rank(4)])
    g = dr.grad(lambda s: dnp.sum(np.linalg.det(s)))(stack)
    np.testing.assert_allclose(g, np.stack([cofactors(m) for m in stack]), atol=1e-10)
    for a in (_rank(3), _rank(2), _rank(1, 3), np.zeros((3, 3))):
        check_grads(np.linalg.det, a, order=2, modes=("forward", "reverse"))
    with pytest.raises(NotImplementedError, match="third and higher derivatives of np.linalg.det"):
        dr.hessian(lambda a: dnp.sum(dr.grad(np.linalg.det)(a)))(_rank(3, 3))


def test_slogdet_at_a_singular_matrix():
    sign, logabsdet = dnp.linalg.slogdet(np.ones((3, 3)))
    assert sign == 0.0 and logabsdet == -np.inf
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        dr.grad(lambda a: dnp.linalg.slogdet(a)[1])(np.ones((3, 3)))


# ------------------------------------------------------- round and divmod


@pytest.mark.parametrize("mode", MODES)
def test_round_and_divmod_work_in_every_mode(mode):
    x, y = np.array([1.3, -2.6, 0.4]), np.array([0.7, 1.1, -0.3])
    np.testing.assert_array_equal(dr.grad(lambda x: dnp.sum(round(x) * 2.0), mode=mode)(x), 0.0)
    assert dr.grad(lambda s: round(s) + 0.0 * s, mode=mode)(1.3) == 0.0
    assert dr.grad(lambda s: round(s, 1) + s, mode=mode)(1.34) == 1.0
    np.testing.assert_array_equal(dr.grad(lambda x: dnp.sum(np.round(x)), mode=mode)(x), 0.0)
    q, r = dr.jvp(lambda x, y: divmod(x, y), (x, y), (x, y))[0]
    np.testing.assert_array_equal(q, np.floor_divide(x, y))
    np.testing.assert_allclose(r, np.remainder(x, y))
    g = dr.grad(lambda x, y: dnp.sum(divmod(x, y)[1]), argnums=(0, 1), mode=mode)(x, y)
    np.testing.assert_allclose(g[0], 1.0)
    np.testing.assert_allclose(g[1], -np.floor(x / y))
    np.testing.assert_allclose(dr.grad(lambda x: dnp.sum(divmod(2.0, x)[1]), mode=mode)(x), -np.floor(2.0 / x))
    np.testing.assert_array_equal(dr.grad(lambda x: dnp.sum(divmod(x, y)[0] * x), mode=mode)(x), np.floor(x / y))


def test_round_and_divmod_check_grads():
    x, y = np.array([1.3, -2.6, 0.43]), np.array([0.7, 1.1, -0.3])  # no jump within the FD step
    check_grads(lambda x, y: divmod(x, y), x, y)
    check_grads(lambda x, y: np.divmod(x, y), x, y)
    check_grads(lambda x: divmod(2.0, x), x)
    check_grads(lambda x: round(x[0]) * x + round(x[1], 1), x)  # NumPy's round(ndarray) needs 0-d
    check_grads(lambda x: np.round(x, 1) * x, x)
    check_grads(lambda x, y: x // y + y // x, x, y)


# ------------------------------------------------------------ conversions


@pytest.mark.parametrize("mode", MODES)
def test_item_assignment_of_a_traced_scalar_ends_in_our_message(mode):
    def scalar(x):
        a = np.zeros(3)
        a[1] = x[0]
        return dnp.sum(a)

    # NumPy (C code) replaces our TypeError by its ValueError for sequence-like
    # objects; ours is the cause, printed first in the traceback.
    with pytest.raises(ValueError, match="setting an array element with a sequence") as info:
        dr.grad(scalar, mode=mode)(np.ones(2))
    assert isinstance(info.value.__cause__, TypeError)
    assert "dnp.stack/dnp.concatenate/dnp.where" in str(info.value.__cause__)

    def sliced(x):
        a = np.zeros(3)
        a[1:3] = x
        return dnp.sum(a)

    with pytest.raises(TypeError, match="item assignment.*dnp.stack/dnp.concatenate/dnp.where"):
        dr.grad(sliced, mode=mode)(np.ones(2))

    def integer_array(x):
        a = np.zeros(3, dtype=int)
        a[1] = x[0]
        return dnp.sum(x)

    with pytest.raises(TypeError, match="to a Python int.*dnp.stack/dnp.concatenate/dnp.where"):
        dr.grad(integer_array, mode=mode)(np.ones(2))


def test_python_protocols_end_in_our_messages():
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="an index or a size"):
        dr.grad(lambda x: [1.0, 2.0][x[0]] * x[0])(x)
    with pytest.raises(TypeError, match="an index or a size"):
        dr.grad(lambda x: dnp.sum(x) * len(range(x[0])))(x)
    with pytest.raises(TypeError, match="a Python float"):
        dr.grad(lambda x: float(x[0]) * x[0])(x)
    with pytest.raises(TypeError, match="iteration over a 0-d"):
        dr.grad(lambda s: sum(s))(1.0)
    with pytest.raises(AttributeError, match=r"ndarray attribute .flat is not supported on traced values"):
        dr.grad(lambda x: dnp.sum(x.flat))(x)
    with pytest.raises(AttributeError, match="no attribute 'foo'"):
        dr.grad(lambda x: x.foo)(x)
    with pytest.raises(AttributeError, match=r"x = x.reshape\(shape\)"):
        dr.grad(lambda x: setattr(x, "shape", (2, 1)))(x)
    with pytest.raises(TypeError, match="astype.*would drop its derivative"):
        dr.grad(lambda x: dnp.sum(x.astype(int)))(x)
    assert dr.grad(lambda s: s * len(f"{s:.2f}"))(1.0) == 4.0  # formatting reads the value


@pytest.mark.parametrize(
    "write,name",
    [
        (lambda x: np.copyto(np.zeros(2), x), "np.copyto"),
        (lambda x: np.put(x, [0], 1.0), "np.put"),
        (lambda x: np.putmask(x, np.ones(2, bool), 0.0), "np.putmask"),
        (lambda x: np.place(x, np.ones(2, bool), 0.0), "np.place"),
    ],
)
def test_numpy_writes_into_arrays_raise_with_the_functional_spelling(write, name):
    with pytest.raises(TypeError, match=f"{name} writes a traced value into an array in place.*dualrev.numpy"):
        dr.grad(lambda x: write(x) or dnp.sum(x))(np.ones(2))


def test_functions_without_rules_name_themselves():
    with pytest.raises(NotImplementedError, match="np.sort_complex has no derivative rule"):
        dr.grad(lambda x: dnp.sum(np.sort_complex(x)))(np.ones(2))
    with pytest.raises(NotImplementedError, match="np.unwrap has no derivative rule"):
        dr.grad(lambda x: dnp.sum(np.unwrap(x)))(np.ones(2))
