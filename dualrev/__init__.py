"""dualrev: automatic differentiation on NumPy, forward and reverse side by side.

>>> import numpy as np, dualrev as dr, dualrev.numpy as dnp
>>> f = lambda x: dnp.sum(dnp.tanh(x) ** 2)
>>> x = np.array([0.5, -1.0])
>>> np.allclose(dr.grad(f, mode="forward")(x), dr.grad(f, mode="reverse")(x))
True

Public API: :func:`grad`, :func:`value_and_grad`, :func:`jacobian`,
:func:`jvp`, :func:`vjp`, :func:`hessian`, :func:`hvp`, the mode names
:data:`MODES`, and the extension surface :func:`primitive`, :func:`defjvp`,
:func:`defvjp`, :func:`deflinear`; checkpointing: :func:`checkpoint`,
:func:`checkpoint_loop`, :class:`CheckpointStats`, :func:`min_step_evaluations`.
"""

from . import numpy, testing
from . import scipy as scipy  # registers the differentiable SciPy functions and their overrides
from .api import MODES, grad, jacobian, jvp, value_and_grad, vjp
from .checkpointing import CheckpointStats, checkpoint, checkpoint_loop, min_step_evaluations
from .core import Primitive, concrete, is_traced
from .define import defjvp, defjvp_argnum, deflinear, defvjp, defvjp_argnum, primitive
from .draw import draw
from .explicit import ExplicitCost, ExplicitMemoryError
from .ledger import Cost
from .scipy import integrate as _scipy_integrate  # noqa: F401 - after the API, which it uses (odeint's rules)
from .second_order import hessian, hvp
from .sparse import Colouring, SparseCost, colouring, hessian_sparsity, jacobian_sparsity
from .tree import tree_flatten, tree_map, tree_unflatten

__version__ = "0.1.0"

__all__ = [
    "MODES",
    "Cost",
    "ExplicitCost",
    "ExplicitMemoryError",
    "grad",
    "value_and_grad",
    "jacobian",
    "jvp",
    "vjp",
    "hessian",
    "hvp",
    "checkpoint",
    "checkpoint_loop",
    "CheckpointStats",
    "min_step_evaluations",
    "jacobian_sparsity",
    "hessian_sparsity",
    "colouring",
    "Colouring",
    "SparseCost",
    "Primitive",
    "primitive",
    "defjvp",
    "defvjp",
    "deflinear",
    "defjvp_argnum",
    "defvjp_argnum",
    "is_traced",
    "concrete",
    "tree_flatten",
    "tree_unflatten",
    "tree_map",
    "testing",
    "numpy",
    "draw",
]
