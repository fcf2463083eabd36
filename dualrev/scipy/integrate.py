"""``dualrev.scipy.integrate``: ``odeint``, differentiable in ``y0``, ``t`` and ``args``.

``odeint(func, y0, t, *args)`` is one primitive over ``(y0, t, *args)`` whose
value is :func:`scipy.integrate.odeint` on the plain values (``func(y, t,
*args) -> dy/dt``; the result has shape ``(len(t), *y0.shape)``).

* **Reverse mode: the adjoint method.** Backwards between consecutive output
  times it integrates the augmented system of the state ``y`` (re-started at
  each stored output ``y_i``), the adjoint ``a = ∂L/∂y`` (``ȧ = -aᵀ ∂f/∂y``) and
  the parameter cotangents (``-aᵀ ∂f/∂args``, accumulated from 0), adding the
  output's cotangent ``ḡ_i`` to ``a`` at each ``t_i``. The vector-Jacobian
  products of ``func`` come from :func:`dualrev.vjp` on plain arrays inside the
  right-hand side. ``t̄_i = ḡ_i · f(y_i, t_i)`` for ``i ≥ 1`` and
  ``t̄_0 = -a(t_0⁺) · f(y_0, t_0)`` (the adjoint there before ``ḡ_0``); ``ȳ_0 =
  a(t_0)``. Memory: the state of one segment, independent of the number of
  solver steps (nothing per step is stored).
* **Forward mode: forward sensitivities.** ``y`` and the tangent ``S`` are
  integrated together, ``Ṡ = ∂f/∂y S + ∂f/∂args ȧrgs`` (:func:`dualrev.jvp`
  of ``func``, all directions of a batch at once). A tangent of ``t`` moves
  the start, ``S(t_0) = -f(y_0, t_0) ṫ_0``, and each output time,
  ``+ f(y_i, t_i) ṫ_i``.

Both are exact to the solver's tolerance. First derivatives only: a rule
that meets a traced value (a second derivative: ``hessian``, ``hvp``, any
nested transformation reaching ``odeint``'s rules) raises
``NotImplementedError`` naming ``odeint``.

This module sits in the API layer (``tests/test_layout.py``), not with the
other ``dualrev.scipy`` rules, because its rules differentiate the user's
``func`` with ``dr.vjp``/``dr.jvp``; ``dualrev/__init__.py`` imports it after
the API, so ``import dualrev`` makes ``dualrev.scipy.integrate`` available.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.integrate as _integrate
from scipy.integrate import *  # noqa: F403 - pass-through of the rest

from ..api import jvp, vjp
from ..checkpointing.block import VjpCache
from ..core import Primitive, Tracer, is_traced, shape_of
from ..define import defjvp_argnum, defvjp_argnum

__all__ = ["odeint", "odeint_p", "DIFFERENTIABLE"]

DIFFERENTIABLE = ("odeint",)


class _Problem:
    """The static part of one ``odeint`` call: the function, the tolerances,
    which extra arguments are traced, and the VJP cache of that call."""

    __slots__ = ("func", "rtol", "atol", "mxstep", "diff", "cache")

    def __init__(self, func: Callable, rtol: float, atol: float, mxstep: int, diff: tuple[bool, ...]) -> None:
        self.func, self.rtol, self.atol, self.mxstep, self.diff = func, rtol, atol, mxstep, diff
        self.cache = VjpCache()

    def solve(self, rhs: Callable, state0: np.ndarray, times: Any) -> np.ndarray:
        return _integrate.odeint(rhs, state0, times, rtol=self.rtol, atol=self.atol, mxstep=self.mxstep)

    def f(self, y: np.ndarray, s: float, args: tuple) -> np.ndarray:
        return np.asarray(self.func(y, s, *args), dtype=np.float64)


def _plain_float(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _impl(y0: Any, t: Any, *args: Any, problem: _Problem) -> np.ndarray:
    y0 = _plain_float(y0)
    shape = y0.shape

    def rhs(y: np.ndarray, s: float) -> np.ndarray:
        return np.ravel(problem.f(y.reshape(shape), s, args))

    ys = problem.solve(rhs, y0.ravel(), np.asarray(t, dtype=np.float64))
    return ys.reshape((len(ys),) + shape)


def _first_order_only(values: tuple, mode: str) -> None:
    if any(isinstance(v, Tracer) for v in values):
        raise NotImplementedError(
            f"dualrev: odeint is differentiable once ({mode} mode reached its rules with traced values, i.e. a "
            f"second or nested derivative); differentiate the solution of the sensitivity equations instead"
        )


def _batch(direction: Any, like: Any) -> tuple:
    return tuple(shape_of(direction)[: len(shape_of(direction)) - len(shape_of(like))])


# --------------------------------------------------------------------------
# Reverse mode: the adjoint method
# --------------------------------------------------------------------------


def _adjoint(ct: Any, ans: np.ndarray, y0: Any, t: Any, args: tuple, problem: _Problem) -> list:
    """Every cotangent ``[ȳ0, t̄, *ārgs]`` (``None`` for untraced arguments)."""
    batch = _batch(ct, ans)
    k = int(np.prod(batch, dtype=int))
    times = np.asarray(t, dtype=np.float64)
    n_t, shape = len(times), np.shape(y0)
    n = int(np.prod(shape, dtype=int))
    g = _plain_float(ct).reshape(k, n_t, n)
    ys = np.asarray(ans).reshape(n_t, n)
    which = [j for j, d in enumerate(problem.diff) if d]
    sizes = [int(np.size(args[j])) for j in which]
    n_p = sum(sizes)

    def with_params(values: tuple) -> tuple:
        full = list(args)
        for j, v in zip(which, values):
            full[j] = v
        return tuple(full)

    def rhs(state: np.ndarray, s: float) -> np.ndarray:
        y = state[:n].reshape(shape)
        a = state[n : n + k * n].reshape((k,) + shape)
        f_value, pullback = vjp(lambda y, *p: problem.func(y, s, *with_params(p)), y, *(args[j] for j in which))
        grads = pullback(a, batched=True)
        d_a = -_plain_float(grads[0]).reshape(k * n)
        d_p = [-_plain_float(gp).reshape(k, -1) for gp in grads[1:]]
        d_p_flat = np.concatenate(d_p, axis=1).ravel() if d_p else np.zeros(0)
        return np.concatenate([_plain_float(f_value).ravel(), d_a, d_p_flat])

    a = g[:, -1].copy()
    p = np.zeros((k, n_p))
    t_bar = np.zeros((k, n_t))
    for i in range(n_t - 1, 0, -1):
        t_bar[:, i] = g[:, i] @ problem.f(ys[i].reshape(shape), times[i], args).ravel()
        if times[i] != times[i - 1]:
            state = problem.solve(rhs, np.concatenate([ys[i], a.ravel(), p.ravel()]), times[i - 1 : i + 1][::-1])[-1]
            a = state[n : n + k * n].reshape(k, n)
            p = state[n + k * n :].reshape(k, n_p)
        a = a + g[:, i - 1]
    t_bar[:, 0] = -(a - g[:, 0]) @ problem.f(ys[0].reshape(shape), times[0], args).ravel()

    out: list = [a.reshape(batch + shape), t_bar.reshape(batch + np.shape(t))] + [None] * len(args)
    offset = 0
    for j, size in zip(which, sizes):
        out[2 + j] = p[:, offset : offset + size].reshape(batch + np.shape(args[j]))
        offset += size
    return out


def _vjp(argnum: int, ct: Any, ans: Any, y0: Any, t: Any, *args: Any, problem: _Problem) -> Any:
    _first_order_only((ct, ans, y0, t) + args, "reverse")
    return problem.cache.get(ct, lambda: _adjoint(ct, ans, y0, t, args, problem))[argnum]


# --------------------------------------------------------------------------
# Forward mode: forward sensitivities
# --------------------------------------------------------------------------


def _jvp(argnum: int, tangent: Any, ans: Any, y0: Any, t: Any, *args: Any, problem: _Problem) -> np.ndarray:
    _first_order_only((tangent, ans, y0, t) + args, "forward")
    primal = (y0, t, *args)[argnum]
    batch = _batch(tangent, primal)
    k = int(np.prod(batch, dtype=int))
    times = np.asarray(t, dtype=np.float64)
    shape = np.shape(y0)
    n = int(np.prod(shape, dtype=int))
    direction = _plain_float(tangent).reshape((k,) + np.shape(primal))
    ys = np.asarray(ans).reshape(len(times), n)

    if argnum == 0:
        s0 = direction.reshape(k, n)
    elif argnum == 1:
        s0 = -direction[:, :1] * problem.f(ys[0].reshape(shape), times[0], args).reshape(1, n)
    else:
        s0 = np.zeros((k, n))
    j = argnum - 2

    def rhs(state: np.ndarray, s: float) -> np.ndarray:
        y = state[:n].reshape(shape)
        sens = state[n:].reshape((k,) + shape)
        if argnum >= 2:
            f_y = lambda y, p: problem.func(y, s, *args[:j], p, *args[j + 1 :])
            f_value, d_s = jvp(f_y, (y, args[j]), (sens, direction), batched=True)
        else:
            f_value, d_s = jvp(lambda y: problem.func(y, s, *args), (y,), (sens,), batched=True)
        return np.concatenate([_plain_float(f_value).ravel(), _plain_float(d_s).ravel()])

    states = problem.solve(rhs, np.concatenate([ys[0], s0.ravel()]), times)
    sens = states[:, n:].reshape(len(times), k, n)
    if argnum == 1:
        fs = np.stack([problem.f(ys[i].reshape(shape), times[i], args).ravel() for i in range(len(times))])
        sens = sens + direction.T[:, :, None] * fs[:, None, :]
    return np.moveaxis(sens, 1, 0).reshape(batch + (len(times),) + shape)


odeint_p = Primitive(_impl, name="odeint")
defvjp_argnum(odeint_p, _vjp)
defjvp_argnum(odeint_p, _jvp)


def odeint(
    func: Callable, y0: Any, t: Any, *args: Any, rtol: float = 1.4e-8, atol: float = 1.5e-8, mxstep: int = 0
) -> Any:
    """The solution of ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``, at the times ``t``.

    SciPy's calling convention and result (``scipy.integrate.odeint``, shape
    ``(len(t), *y0.shape)``; ``t`` monotonic; ``mxstep`` is SciPy's, 0 for its
    default). Differentiable in ``y0``, ``t`` and the array arguments ``args``
    in forward mode (forward sensitivities) and reverse mode (the adjoint
    method, memory independent of the number of solver steps), once:
    second derivatives raise ``NotImplementedError``. ``func`` must be written
    with ``dualrev.numpy`` (its derivatives are taken with ``dr.vjp`` and
    ``dr.jvp``); it is called on plain arrays ``y`` of ``y0``'s shape.
    """
    problem = _Problem(func, rtol, atol, mxstep, tuple(is_traced(a) for a in args))
    return odeint_p(y0, t, *args, problem=problem)
