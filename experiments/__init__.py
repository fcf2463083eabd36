"""The experiments: one script per cost fact of DESIGN.md.

``python -m experiments`` runs them all (``--quick`` by default); each also
runs alone as ``python -m experiments.<name> [--smoke | --quick | --full]
[--out DIR]``. Shared code: the command line, timing, environment and fits
in :mod:`experiments.common`, the figures and output files in
:mod:`experiments.plotting`; the timing protocol itself, BLAS thread pinning
and memory measurement in the top-level :mod:`timing` package, which the
benchmarks use too.
"""

EXPERIMENTS = (
    "chain_cost", "io_shape", "local_jacobian", "memory", "paths", "bracketing", "structure", "cross_country",
    "checkpointing",
    "sparsity",
    "tutorial_figures",
)
