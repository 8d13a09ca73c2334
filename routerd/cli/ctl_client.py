"""How routerctl talks to routerd: one channel per run, errors turned into exit codes.

Exit codes (the same for every command):

* 0 — done;
* 1 — routerd is unreachable (with a hint naming the socket and how to start it), or the
  operation failed on the daemon's side;
* 2 — usage or invalid input (bad flags, unknown names, a config or part that is rejected);
* 3 — doctor found a failing check.

Reachability is checked with a plain connect before any RPC, so "not running" and "no
permission on the socket" get their own clear messages instead of a generic UNAVAILABLE.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc

from routerd.api.metadata_keys import RESUME_SEQ_KEY
from routerd.cli.common import EXIT_FAIL, EXIT_USAGE
from routerd.core.input_limits import InputLimitError, NotUtf8Error, check_size, decode_utf8

T = TypeVar("T")

MAX_MESSAGE = 64 * 1024 * 1024
USAGE_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)


class CtlError(Exception):
    """A routerctl failure: what to print and the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def read_document(path: str) -> str:
    """A config or part file (``-`` is stdin) to send: UTF-8 and within the size limit.

    Checked here so a file that is not UTF-8 is named with the offending byte offset instead
    of failing somewhere in transit.

    Raises:
        CtlError: naming the file, with exit code 2.
    """
    from routerd.configfile import read_text_file  # imports the config loader: only here

    try:
        if path != "-":
            return read_text_file(Path(path))
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # already text (a test, an embedding program)
            text: str = sys.stdin.read()
            check_size(len(text))
            return text
        data = stdin.read()
        check_size(len(data))
        return decode_utf8(data)
    except OSError as e:
        raise CtlError(f"cannot read {path}: {e.strerror}", EXIT_USAGE) from None
    except (InputLimitError, NotUtf8Error) as e:
        raise CtlError(f"{path}: {e}", EXIT_USAGE) from None


def not_running(path: str) -> CtlError:
    return CtlError(
        f"routerd is not running at {path} (start it: sudo systemctl start routerd, "
        "or routerd serve -c FILE)"
    )


def check_reachable(path: str) -> None:
    """Raise a ``CtlError`` with a hint unless something accepts connections at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            raise not_running(path) from None
        except PermissionError:
            raise CtlError(
                f"permission denied on {path}: run as root or as a member of the socket's "
                "group (routerd serve --socket-group GROUP)"
            ) from None
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTSOCK):
                raise not_running(path) from None
            raise CtlError(f"cannot connect to routerd at {path}: {e.strerror}") from None


def resume_point(e: grpc.RpcError) -> int | None:
    """The sequence a watch that routerd ended may resume after (None: not resumable)."""
    if not isinstance(e, grpc.Call):
        return None
    for key, value in e.trailing_metadata() or ():
        if key == RESUME_SEQ_KEY:
            return int(value)
    return None


def rpc_failure(e: grpc.RpcError, path: str) -> CtlError:
    """The message and exit code for a failed call."""
    code = e.code() if isinstance(e, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (e.details() if isinstance(e, grpc.Call) else "") or str(code)
    if code is grpc.StatusCode.UNAVAILABLE and ("connect" in details or "No such file" in details):
        return not_running(path)
    if code in USAGE_CODES:
        return CtlError(details, EXIT_USAGE)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return CtlError(f"routerd did not answer in time ({details}); retry or raise --timeout")
    return CtlError(details)


class Client:
    """A connection to one routerd socket.

    Args:
        socket_path: the Unix socket.
        timeout: deadline for each unary call, in seconds.
    """

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.path = socket_path
        self.timeout = timeout
        self._channel: grpc.Channel | None = None

    @property
    def channel(self) -> grpc.Channel:
        if self._channel is None:
            check_reachable(self.path)
            self._channel = grpc.insecure_channel(
                f"unix:{self.path}",
                options=[("grpc.max_receive_message_length", MAX_MESSAGE)],
            )
        return self._channel

    def stub(self, factory: Callable[[grpc.Channel], T]) -> T:
        return factory(self.channel)

    def call(self, method: Callable[..., T], request: Any) -> T:
        """A unary call with the deadline; failures become ``CtlError``."""
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise rpc_failure(e, self.path) from None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
