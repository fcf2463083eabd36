"""``dualrev.scipy``: differentiable versions of a few SciPy functions.

Only ``dualrev.scipy.special`` for now; the SciPy ufuncs it covers (``expit``,
``erf``, …) also dispatch from plain ``scipy.special`` calls on traced values
through ``__array_ufunc__``.
"""

from . import special  # noqa: F401
