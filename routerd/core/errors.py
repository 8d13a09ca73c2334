"""The routerd error hierarchy.

Errors carry structured fields (not only a message) so that the API layer can map them to
status codes and the CLI can print them with the resource, path and remedy a person needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class RouterdError(Exception):
    """Base class of every error routerd raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One validation finding, error or warning.

    Attributes:
        resource: ``Kind/name`` of the resource, or ``Router`` for the envelope.
        path: dotted field path inside the resource (``spec.capture.type``).
        message: what is wrong and what to do about it.
        line: 1-based line in the source file when known.
        file: the source file when known.
    """

    resource: str
    path: str
    message: str
    line: int | None = None
    file: str | None = None

    def render(self) -> str:
        where = f"{self.file or '<config>'}"
        if self.line is not None:
            where += f":{self.line}"
        path = f" {self.path}" if self.path else ""
        return f"{where}: {self.resource}{path}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "resource": self.resource,
            "path": self.path,
            "line": self.line,
            "message": self.message,
        }


@dataclass
class ConfigError(RouterdError):
    """A configuration that must not be applied; carries every error found at once."""

    issues: list[ConfigIssue]
    warnings: list[ConfigIssue] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [i.render() for i in self.issues]
        return "invalid configuration:\n  " + "\n  ".join(lines)


class TemporaryError(RouterdError):
    """A failure that is expected to clear by itself; retry after ``delay`` seconds."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(RouterdError):
    """A failure that retrying will not fix."""


class DataplaneError(RouterdError):
    """A dataplane operation failed.

    Attributes:
        op: what was attempted (``route add 10.0.0.9/32 dev wg0``).
        errno: the kernel errno when there is one.
        retryable: whether the engine should retry with backoff.
    """

    def __init__(
        self, op: str, message: str, *, errno: int | None = None, retryable: bool = True
    ) -> None:
        super().__init__(f"{op}: {message}")
        self.op = op
        self.errno = errno
        self.retryable = retryable


class ProviderError(RouterdError):
    """A cloud provider metadata read or check failed."""

    def __init__(
        self,
        reason: str,
        *,
        supporting_data: dict[str, object] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.supporting_data = supporting_data or {}
        self.retryable = retryable


class NotFoundError(RouterdError):
    """A named object (claim, peer, source) does not exist."""
