"""What a plugin run gets back from its child process, and the limits that child runs under.

The runner (``routerd.core.plugins.runner``) decides what a run means from a
``ProcessResult``; how the child is started, fed, watched and killed is the process
module's business (``routerd.plugins.process``), which reports in these terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.errors import RouterdError

STDERR_CAP = 8192
STDOUT_CAP = 4 * 1024 * 1024


class LaunchError(RouterdError):
    """The executable cannot be started (missing, not a regular file, not executable)."""


@dataclass(frozen=True)
class ProcessResult:
    """What one child run produced.

    Attributes:
        returncode: the exit status; negative for a signal; None when routerd killed the
            child (deadline or stdout cap).
        stdout: everything written to stdout (at most the cap).
        stderr: the first ``stderr_cap`` bytes of stderr.
        stderr_truncated: stderr was longer than the cap.
        timed_out: the deadline fired and the process group was killed.
        stdout_overflow: stdout exceeded its cap and the process group was killed.
        duration: seconds from start until the leader exited or was killed.
    """

    returncode: int | None
    stdout: bytes
    stderr: bytes
    stderr_truncated: bool
    timed_out: bool
    stdout_overflow: bool
    duration: float
