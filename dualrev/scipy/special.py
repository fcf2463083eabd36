"""``dualrev.scipy.special``: the special functions users differentiate most.

The rules live with the other elementwise primitives in
``dualrev/numpy/elementwise.py`` (expit is ``sigmoid``; gammaln′ = digamma,
digamma′ = polygamma(1, ·), and every polygamma derivative stays inside the
one ``polygamma`` primitive). ``logsumexp`` is the reduction in
``dualrev/numpy/reductions.py``; ``softmax``/``log_softmax`` are compositions.
Every other ``scipy.special`` name passes through unchanged.
"""

from scipy.special import *  # noqa: F401,F403 - pass-through of the rest

from ..numpy.elementwise import digamma, erf, erfc, expit, gammaln, logit, polygamma, psi  # noqa: F401
from ..numpy.nn import log_softmax as _log_softmax
from ..numpy.nn import softmax as _softmax
from ..numpy.reductions import logsumexp as _logsumexp


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log Σ exp(a) (``b`` weights and ``return_sign`` are not supported on traced values)."""
    import scipy.special as _sp

    from ..core import Tracer

    if not isinstance(a, Tracer):
        return _sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    if b is not None or return_sign:
        raise NotImplementedError("dualrev: logsumexp of a traced value supports neither b= nor return_sign=")
    return _logsumexp(a, axis=axis, keepdims=keepdims)


def softmax(x, axis=None):
    """exp(x) / Σ exp(x) over ``axis`` (all axes when None, as in SciPy)."""
    from ..core import Tracer

    if not isinstance(x, Tracer):
        import scipy.special as _sp

        return _sp.softmax(x, axis=axis)
    return _softmax(x, axis=tuple(range(x.ndim)) if axis is None else axis)


def log_softmax(x, axis=None):
    from ..core import Tracer

    if not isinstance(x, Tracer):
        import scipy.special as _sp

        return _sp.log_softmax(x, axis=axis)
    return _log_softmax(x, axis=tuple(range(x.ndim)) if axis is None else axis)
