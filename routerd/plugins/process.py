"""How a plugin child process runs: no shell, a clean environment, bounded output, a deadline.

The runner decides what a run *means* (request, result, storage); this module only guarantees
*how* the child runs. Those guarantees are what keep a broken or hostile plugin from hurting
the daemon, so they live in one small place:

* the executable is exec'd directly (no shell, no arguments) and must be an absolute path to
  a regular file with an execute bit;
* the environment is not inherited: only ``PATH`` plus the plugin's ``spec.env``;
* the child starts in its own session, and its whole process group is killed when the run
  ends — on timeout, on an oversized stdout, and also after a normal exit, so a helper the
  plugin forked (``sleep 300 &``) never outlives the run;
* stdout and stderr are read as streams with caps, never buffered without bound.

The leader's exit is observed through a pidfd *without reaping it*: while the zombie leader
exists its process-group id cannot be reused, so killing the group afterwards can never hit
an unrelated process. That makes this module Linux-only (pidfd_open: Linux 5.3), like the
daemon itself.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import stat
import subprocess
import time
from collections.abc import Mapping

from routerd.core.plugins.port import STDERR_CAP, STDOUT_CAP, LaunchError, ProcessResult

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_CHUNK = 65536


def check_executable(path: str) -> None:
    """Refuse anything but an absolute path to a regular file with an execute bit.

    Raises:
        LaunchError: saying what is wrong and what to do.
    """
    if not os.path.isabs(path):
        raise LaunchError(f"executable {path!r} must be an absolute path (no PATH lookup)")
    try:
        st = os.stat(path)
    except OSError as e:
        raise LaunchError(f"executable {path}: {e.strerror}; install the plugin there") from None
    if not stat.S_ISREG(st.st_mode):
        raise LaunchError(f"executable {path} is not a regular file")
    if not st.st_mode & 0o111:
        raise LaunchError(f"executable {path} has no execute bit; chmod +x it")


def child_env(extra: Mapping[str, str], *, parent_path: str | None) -> dict[str, str]:
    """The child's whole environment: PATH plus ``spec.env`` (which may override PATH).

    Keys are trimmed; blank keys and keys containing ``=`` are dropped, as the Go implementation
    routerd succeeds does, so plugins written for it see the same environment.
    """
    env = {"PATH": parent_path or DEFAULT_PATH}
    for key, value in sorted(extra.items()):
        k = key.strip()
        if k and "=" not in k:
            env[k] = value
    return env


def run_process(
    executable: str,
    *,
    stdin: bytes,
    env: Mapping[str, str],
    timeout: float,
    stdout_cap: int = STDOUT_CAP,
    stderr_cap: int = STDERR_CAP,
) -> ProcessResult:
    """Run ``executable`` once with no arguments, feeding ``stdin``, under a deadline.

    Raises:
        LaunchError: the executable fails :func:`check_executable` or cannot be exec'd.
    """
    check_executable(executable)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            [executable],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd="/",
            start_new_session=True,
        )
    except (OSError, ValueError) as e:
        raise LaunchError(f"cannot start {executable}: {e}") from None
    try:
        pump = _Pump(proc, stdin, stdout_cap, stderr_cap)
    except OSError as e:
        _kill_group(proc.pid)
        proc.communicate()
        raise LaunchError(f"cannot supervise {executable}: {e}") from None
    try:
        pump.run(deadline=start + timeout)
        duration = time.monotonic() - start
    finally:
        _kill_group(proc.pid)
        pump.finish()
        proc.wait()
    killed = pump.timed_out or pump.overflow
    return ProcessResult(
        returncode=None if killed else proc.returncode,
        stdout=bytes(pump.stdout),
        stderr=bytes(pump.stderr),
        stderr_truncated=pump.stderr_truncated,
        timed_out=pump.timed_out,
        stdout_overflow=pump.overflow,
        duration=duration,
    )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _Pump:
    """Moves bytes between routerd and the child until the leader exits or a limit hits."""

    def __init__(
        self, proc: subprocess.Popen[bytes], data: bytes, out_cap: int, err_cap: int
    ) -> None:
        assert proc.stdin and proc.stdout and proc.stderr
        self.stdin, self.out, self.err = proc.stdin, proc.stdout, proc.stderr
        self.pending = memoryview(data)
        self.out_cap, self.err_cap = out_cap, err_cap
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stderr_truncated = self.timed_out = self.overflow = False
        self.pidfd = os.pidfd_open(proc.pid)
        self.sel = selectors.DefaultSelector()
        for f in (self.stdin, self.out, self.err):
            os.set_blocking(f.fileno(), False)
        self.sel.register(self.pidfd, selectors.EVENT_READ)
        self.sel.register(self.out, selectors.EVENT_READ)
        self.sel.register(self.err, selectors.EVENT_READ)
        if self.pending:
            self.sel.register(self.stdin, selectors.EVENT_WRITE)
        else:
            self.stdin.close()

    def run(self, *, deadline: float) -> None:
        """Pump until the leader exits (pidfd readable), the deadline or the stdout cap."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return
            for key, _ in self.sel.select(left):
                if key.fileobj == self.pidfd:
                    return
                if key.fileobj is self.stdin:
                    self._write()
                else:
                    self._read(key.fileobj is self.out)
                if self.overflow:
                    return

    def finish(self) -> None:
        """After the group is killed: take what is already buffered, then close everything.

        Only data already in the pipes is read (non-blocking): the leader has exited or was
        killed, and a process that escaped the group must not keep routerd waiting.
        """
        for is_out, f in ((True, self.out), (False, self.err)):
            while not f.closed and not self.overflow and self._read(is_out):
                pass
        self.sel.close()
        os.close(self.pidfd)
        for f in (self.stdin, self.out, self.err):
            if not f.closed:
                f.close()

    def _write(self) -> None:
        try:
            n = os.write(self.stdin.fileno(), self.pending[:_CHUNK])
        except BlockingIOError:
            return
        except BrokenPipeError:
            n = len(self.pending)  # the plugin need not read its request
        self.pending = self.pending[n:]
        if not self.pending:
            self.sel.unregister(self.stdin)
            self.stdin.close()

    def _read(self, is_out: bool) -> bool:
        """Read one chunk; False when nothing more is available right now (or EOF)."""
        f = self.out if is_out else self.err
        try:
            chunk = os.read(f.fileno(), _CHUNK)
        except BlockingIOError:
            return False
        if not chunk:
            self.sel.unregister(f)
            f.close()
            return False
        if is_out:
            self.stdout += chunk
            self.overflow = len(self.stdout) > self.out_cap
        else:
            room = max(self.err_cap - len(self.stderr), 0)
            self.stderr += chunk[:room]
            self.stderr_truncated = self.stderr_truncated or len(chunk) > room
        return True


def launch_plugin(
    executable: str, *, stdin: bytes, env: Mapping[str, str], timeout: float
) -> ProcessResult:
    """The ``PluginLauncher`` the daemon and CLI use: the daemon's PATH plus ``spec.env``.

    Raises:
        LaunchError: the executable fails :func:`check_executable` or cannot be exec'd.
    """
    child = child_env(env, parent_path=os.environ.get("PATH"))
    return run_process(executable, stdin=stdin, env=child, timeout=timeout)
