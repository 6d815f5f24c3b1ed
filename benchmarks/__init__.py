"""Benchmark suite for fini-async: ``python -m benchmarks --help``.

Kept import-free on purpose: child processes import ``benchmarks._workloads`` and must
not pay for (or have their peak RSS inflated by) the runner/report modules.
"""
