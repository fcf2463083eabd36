"""The experiments: one script per cost fact of DESIGN.md.

``python -m experiments`` runs them all (``--quick`` by default); each also
runs alone as ``python -m experiments.<name> [--smoke | --quick | --full]
[--out DIR]``. Shared code (command line, timing, environment, fits, plot
style) is in :mod:`experiments.common`.
"""

EXPERIMENTS = ("chain_cost", "io_shape", "local_jacobian", "memory", "paths", "bracketing")
