"""Benchmarks: dualrev against plain NumPy, hand-written NumPy derivatives and,
when installed (``pip install -e ".[bench]"``), HIPS autograd and PyTorch eager.

Run ``python -m benchmarks`` (``--quick`` for a fast run, ``--threads 1`` for
single-threaded BLAS). Results go to ``benchmarks/results.json`` and a Markdown
table in ``benchmarks/results.md``, which ``docs/performance.md`` includes.

These are measurements, not tests: nothing here asserts a time.
"""
