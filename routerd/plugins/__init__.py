"""Plugin child processes: how routerd starts, feeds, bounds and kills a plugin executable.

What a run means (request, result, the part it proposes, its record) is decided in
``routerd.core.plugins``; this package only runs the child and reports what it did.
"""
