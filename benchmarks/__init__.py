"""Benchmark of ``access-key-unused`` against the built-in filters: ``make bench``.

``python -m benchmarks.run`` (from the repository root, in the project venv) prints one table
and writes it to ``benchmarks/latest.md``. Nothing contacts AWS: credential reports are
synthetic and every IAM call is answered in memory.
"""
