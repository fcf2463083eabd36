"""Benchmarks: dualrev against plain NumPy, hand-written NumPy derivatives and,
when installed (``pip install -e ".[bench]"``), HIPS autograd, PyTorch eager
and JAX (eager and ``jax.jit``, CPU, float64). Every dualrev workload also runs
with ``replay=True`` once dualrev has that keyword (issue 14).

Run ``python -m benchmarks`` (``--quick`` for a fast run, ``--threads 1`` for
single-threaded BLAS). Results go to ``benchmarks/results.json`` and a Markdown
table in ``benchmarks/results.md``, which ``docs/performance.md`` includes; the
targets it checks are in :mod:`benchmarks.targets`.

These are measurements, not tests: nothing here asserts a time.
"""
