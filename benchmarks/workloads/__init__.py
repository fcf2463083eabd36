"""The workloads, one module per family. Each one builds its inputs, times
every implementation in one interleaved run, and returns rows for the report.

Implementations are named ``library task``: ``numpy f`` is the plain function
(the unit every ratio is measured in), ``hand grad``/``hand jvp``/``hand
R-operator hvp`` are hand-written NumPy derivatives (the floor for any
NumPy-based library), ``dualrev …``, ``autograd …``, ``torch …`` and ``jax …``
/ ``jax jit …`` the libraries; ``dualrev … (replay)`` is the same call with
``replay=True`` (:mod:`.replay`), added when dualrev has the keyword.

* :mod:`.mlp` — ``mlp_grad``, on a tanh MLP's mean squared error;
* :mod:`.hvp` — ``hvp``, a Hessian-vector product of that loss, against the
  R-operator by hand;
* :mod:`.op_overhead` — ``op_overhead`` (and its ``dispatch`` row): many cheap
  elementwise ops on a short vector;
* :mod:`.jacobian_shapes` — full Jacobians of wide, tall and square maps;
* :mod:`.tape_memory` — peak memory over a deep chain.
"""

from __future__ import annotations

from collections.abc import Callable

from timing import Protocol

from .hvp import bench_hvp
from .jacobian_shapes import bench_jacobian_shapes
from .mlp import bench_mlp_grad
from .op_overhead import bench_op_overhead
from .tape_memory import bench_tape_memory

WORKLOADS: dict[str, Callable[[Protocol, dict], list[dict]]] = {
    "mlp_grad": bench_mlp_grad,
    "op_overhead": bench_op_overhead,
    "jacobian_shapes": bench_jacobian_shapes,
    "hvp": bench_hvp,
    "tape_memory": bench_tape_memory,
}
