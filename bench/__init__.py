"""routerd's performance bench: ``python -m bench [--quick] [-o table|json]``.

A runner, not a test suite: every figure is printed with a baseline measured in the same
run, their ratio, and whether the figure meets its target (see ``bench.result``). The
latest full run, with the machine it ran on, is kept in ``docs/performance.md``.
"""
