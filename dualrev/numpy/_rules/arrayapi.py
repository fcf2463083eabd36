"""The array-API functions of ``numpy.linalg`` (``matmul``, ``tensordot``,
``matrix_transpose``, ``diagonal``, ``vecdot``, ``outer``, ``cross``): NumPy's
stricter spellings of the products and gathers, exposed as
``dualrev.numpy.linalg``'s. Compositions only."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import ndim_of
from .einsum import tensordot as _tensordot
from .indexing import diagonal as _diagonal
from .overrides import numpy_function
from .products import cross as _cross
from .products import matmul as _matmul
from .products import matrix_transpose as _matrix_transpose
from .products import outer as _outer
from .products import vecdot as _vecdot


@numpy_function(np.linalg.matmul)
def matmul(x1: Any, x2: Any, /) -> Any:
    return _matmul(x1, x2)


@numpy_function(np.linalg.tensordot)
def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    return _tensordot(x1, x2, axes=axes)


@numpy_function(np.linalg.matrix_transpose)
def matrix_transpose(x: Any, /) -> Any:
    return _matrix_transpose(x)


@numpy_function(np.linalg.diagonal)
def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """The diagonals of the last two axes."""
    return _diagonal(x, offset, -2, -1)


@numpy_function(np.linalg.vecdot)
def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    return _vecdot(x1, x2, axis=axis)


@numpy_function(np.linalg.outer)
def outer(x1: Any, x2: Any, /) -> Any:
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError(
            f"Input arrays must be one-dimensional, but they are x1.ndim={ndim_of(x1)} and x2.ndim={ndim_of(x2)}."
        )
    return _outer(x1, x2)


@numpy_function(np.linalg.cross)
def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """3-vectors only, as the array API requires."""
    if np.shape(x1)[axis] != 3 or np.shape(x2)[axis] != 3:  # shapes of tracers are their values'
        raise ValueError(
            "Both input arrays must be (arrays of) 3-dimensional vectors, "
            f"but they are {np.shape(x1)[axis]} and {np.shape(x2)[axis]} dimensional instead."
        )
    return _cross(x1, x2, axis=axis)


__all__ = ["matmul", "tensordot", "matrix_transpose", "diagonal", "vecdot", "outer", "cross"]
