"""``dualrev.numpy``: a NumPy namespace whose functions are differentiable.

Use it like NumPy (``import dualrev.numpy as dnp``). On plain arrays every
function goes straight to NumPy; on traced values it goes through the
registry. Every NumPy name without a derivative (constants, dtypes,
constructors such as ``zeros`` and ``arange``, predicates, ``random``,
``allclose`` …) passes through unchanged.

The differentiable functions live in ``dualrev/numpy/_rules/``, one module
per family (``shape``, ``indexing``, ``joining``, ``unary``, ``binary``,
``einsum``, ``products``, ``reductions``, ``cumulative``, ``statistics``,
``binning``, ``construction``, ``quantiles``, ``signal``; the
linear algebra in ``inverse``, ``decompositions`` and ``norms``, exposed as
``dualrev.numpy.linalg``), and ``nn`` holds the layers of the lecture notes.
"""

import importlib as _importlib

from numpy import *  # noqa: F403 - pass-through of every non-differentiable name
from numpy import random  # noqa: F401

from . import array_interface as array_interface  # the tracers' ndarray interface
from ._rules.base import PRIMITIVES as PRIMITIVES
from ._rules.binary import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.binning import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.construction import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.cumulative import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.einsum import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.indexing import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.joining import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.products import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.quantiles import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.reductions import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.shape import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.shape import unbroadcast as unbroadcast
from ._rules.signal import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.statistics import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.unary import *  # type: ignore[assignment, no-redef]  # noqa: F403
from .nn import *  # noqa: F403
from .nn import __all__ as _nn_all

# ``from . import linalg`` would find numpy.linalg (star-imported above) first.
linalg = _importlib.import_module(".linalg", __name__)

_FAMILIES = (
    "unary", "binary", "reductions", "statistics", "cumulative", "shape", "indexing", "joining", "einsum", "products",
    "binning", "construction", "signal", "quantiles",
)  # fmt: skip
DIFFERENTIABLE = tuple(
    dict.fromkeys(
        name for family in _FAMILIES for name in _importlib.import_module(f"._rules.{family}", __name__).__all__
    )
) + tuple(name for name in _nn_all if name not in ("sigmoid", "relu"))
