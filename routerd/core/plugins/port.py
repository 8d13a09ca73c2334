"""The plugin process port: how a run launches its child, what it gets back, the limits.

The runner (``routerd.core.plugins.runner``) decides what a run means from a
``ProcessResult``; how the child is started, fed, watched and killed is the process
module's business (``routerd.plugins.process.launch_plugin`` is the ``PluginLauncher``),
which reports in these terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

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


class PluginLauncher(Protocol):
    """Runs a plugin executable once: ``stdin`` in, a ``ProcessResult`` out, under a deadline."""

    def __call__(
        self, executable: str, *, stdin: bytes, env: Mapping[str, str], timeout: float
    ) -> ProcessResult:
        """Run ``executable`` with ``env`` (the plugin's ``spec.env``) added to a clean PATH.

        Raises:
            LaunchError: the executable cannot be started.
        """
        ...
