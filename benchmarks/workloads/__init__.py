"""The workloads, one module per family. Each one builds its inputs, times
every implementation in one interleaved run, and returns rows for the report.

Implementations are named ``library task``: ``numpy f`` is the plain function
(the unit every ratio is measured in), ``hand grad``/``hand jvp`` are
hand-written NumPy derivatives (the floor for any NumPy-based library),
``dualrev …``, ``autograd …`` and ``torch …`` the libraries.

* :mod:`.mlp` — ``mlp_grad`` and ``hvp``, on a tanh MLP's mean squared error;
* :mod:`.op_overhead` — ``op_overhead`` (and its ``dispatch`` row): many cheap
  elementwise ops on a short vector;
* :mod:`.jacobian_shapes` — full Jacobians of wide, tall and square maps;
* :mod:`.tape_memory` — peak memory over a deep chain.
"""

from __future__ import annotations

from collections.abc import Callable

from timing import Protocol

from .jacobian_shapes import bench_jacobian_shapes
from .mlp import bench_hvp, bench_mlp_grad
from .op_overhead import bench_op_overhead
from .tape_memory import bench_tape_memory

WORKLOADS: dict[str, Callable[[Protocol, dict], list[dict]]] = {
    "mlp_grad": bench_mlp_grad,
    "op_overhead": bench_op_overhead,
    "jacobian_shapes": bench_jacobian_shapes,
    "hvp": bench_hvp,
    "tape_memory": bench_tape_memory,
}
