"""``dualrev.scipy.special``: the special functions users differentiate most.

The rules live with the other unary primitives in
``dualrev/numpy/_rules/unary.py`` (expit is ``sigmoid``; gammaln′ = digamma,
digamma′ = polygamma(1, ·), and every polygamma derivative stays inside the
one ``polygamma`` primitive). ``logsumexp`` is the reduction in
``dualrev/numpy/_rules/reductions.py``; ``softmax``/``log_softmax`` are
compositions. Every other ``scipy.special`` name passes through unchanged.
"""

from typing import Any as _Any

import scipy.special as _special
from scipy.special import *  # noqa: F403 - pass-through of the rest

from ..numpy import nn as _nn
from ..numpy._rules import reductions as _reductions
from ..numpy._rules.base import ndim_of as _ndim_of
from ..numpy._rules.overrides import fallback as _fallback
from ..numpy._rules.unary import digamma as digamma
from ..numpy._rules.unary import erf as erf
from ..numpy._rules.unary import erfc as erfc
from ..numpy._rules.unary import expit as expit
from ..numpy._rules.unary import gammaln as gammaln
from ..numpy._rules.unary import logit as logit
from ..numpy._rules.unary import polygamma as polygamma
from ..numpy._rules.unary import psi as psi


@_fallback(_special.logsumexp)
def logsumexp(a: _Any, axis: _Any = None, b: _Any = None, keepdims: bool = False, return_sign: bool = False) -> _Any:
    """log Σ exp(a) (``b`` weights and ``return_sign`` are not supported on traced values)."""
    if b is not None or return_sign:
        raise NotImplementedError("dualrev: logsumexp of a traced value supports neither b= nor return_sign=")
    return _reductions.logsumexp(a, axis=axis, keepdims=keepdims)


def _all_axes(x: _Any, axis: _Any) -> _Any:
    """SciPy's ``axis=None``: every axis."""
    return tuple(range(_ndim_of(x))) if axis is None else axis


@_fallback(_special.softmax)
def softmax(x: _Any, axis: _Any = None) -> _Any:
    """exp(x) / Σ exp(x) over ``axis`` (all axes when None, as in SciPy)."""
    return _nn.softmax(x, axis=_all_axes(x, axis))


@_fallback(_special.log_softmax)
def log_softmax(x: _Any, axis: _Any = None) -> _Any:
    """x − logsumexp(x) over ``axis`` (all axes when None, as in SciPy)."""
    return _nn.log_softmax(x, axis=_all_axes(x, axis))
