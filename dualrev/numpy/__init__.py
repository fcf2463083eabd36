"""``dualrev.numpy``: a NumPy namespace whose functions are differentiable.

Use it like NumPy (``import dualrev.numpy as dnp``). On plain arrays every
function goes straight to NumPy; on traced values it goes through the
registry. Every NumPy name without a derivative (constants, dtypes,
constructors such as ``zeros`` and ``arange``, predicates, ``random``,
``allclose`` …) passes through unchanged.

The differentiable functions live in files named after their family:
``elementwise``, ``reductions``, ``shape_ops`` (shape manipulation and
indexing), ``products``, ``linalg_ops`` (exposed as ``dualrev.numpy.linalg``)
and ``nn`` (the layers of the lecture notes).
"""

import importlib as _importlib

import numpy as _np
from numpy import *  # noqa: F401,F403 - pass-through of every non-differentiable name
from numpy import random  # noqa: F401

from . import array_interface as _array_interface
from ._helpers import PRIMITIVES, unbroadcast  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .elementwise import __all__ as _elementwise_all
from .nn import *  # noqa: F401,F403
from .nn import __all__ as _nn_all
from .products import *  # noqa: F401,F403
from .products import __all__ as _products_all
from .reductions import *  # noqa: F401,F403
from .reductions import __all__ as _reductions_all
from .shape_ops import *  # noqa: F401,F403
from .shape_ops import __all__ as _shape_all
# ``from . import linalg`` would find numpy.linalg (star-imported above) first.
linalg = _importlib.import_module(".linalg", __name__)

DIFFERENTIABLE = tuple(_elementwise_all + _reductions_all + _shape_all + _products_all + _nn_all)


def _entry_point(prim):
    """The public function for a one- or two-argument primitive.

    On plain arrays it calls NumPy directly: a plain Python function costs
    ~0.1 µs to enter where calling the Primitive object (``*args`` packing and
    the tracer loop in ``Primitive.__call__``) costs ~0.5 µs, which is most of
    the price of ``dnp.sin`` over ``np.sin`` on small arrays. Anything traced
    (or with keyword arguments) goes to the primitive, the one dispatch point.
    The primitive itself is ``entry.primitive``.
    """
    impl = prim.impl
    if set(prim.jvp_rules) == {0}:

        def entry(x, /, **kwargs):
            if kwargs or isinstance(x, _Tracer):
                return prim(x, **kwargs)
            return impl(x)

    else:

        def entry(x, y, /, **kwargs):
            if kwargs or isinstance(x, _Tracer) or isinstance(y, _Tracer):
                return prim(x, y, **kwargs)
            return impl(x, y)

    entry.__name__ = entry.__qualname__ = prim.name
    entry.__doc__ = prim.__doc__
    entry.__wrapped__ = impl
    entry.primitive = prim
    return entry


from ..core import Primitive as _Primitive  # noqa: E402
from ..core import Tracer as _Tracer  # noqa: E402

_entries: dict = {}  # one entry point per primitive, shared by aliases (abs/absolute)
for _name in _elementwise_all:
    _obj = globals()[_name]
    if isinstance(_obj, _Primitive) and not _obj.multiple_results and set(_obj.jvp_rules) in ({0}, {0, 1}):
        if id(_obj) not in _entries:
            _entries[id(_obj)] = _entry_point(_obj)
        globals()[_name] = _entries[id(_obj)]
del _obj, _entries

_array_interface.install()
for _name in DIFFERENTIABLE:
    _np_fn = getattr(_np, _name, None)
    if callable(_np_fn) and not isinstance(_np_fn, _np.ufunc):
        _array_interface.FUNCTIONS[_np_fn] = globals()[_name]
for _name in linalg.DIFFERENTIABLE:
    _np_fn = getattr(_np.linalg, _name, None)
    if callable(_np_fn):
        _array_interface.FUNCTIONS[_np_fn] = getattr(linalg, _name)
del _name, _np_fn
