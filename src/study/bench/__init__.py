"""``study bench``: the performance suite, separate from the tests.

Each measurement runs in its own process (:mod:`study.bench.phases`) so that its peak memory and
CPU time (user vs system) are its own; :mod:`study.bench.suite` runs them side by side and writes
``reports/bench/bench.json`` and ``bench.md``.
"""
