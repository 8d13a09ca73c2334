"""gobgpd as a detached daemon that outlives routerd, adopted across restarts, stopped by PID.

The BGP sessions must survive a routerd restart: if gobgpd died with routerd, every other
site would withdraw this site's homes and reconverge twice. So routerd starts ``gobgpd``
through a one-line ``sh`` that backgrounds it in a new session and prints its PID (never
routerd's child: no zombie, no signal from routerd's process group), with no config file: the
speaker is configured over its gRPC API, served on a Unix socket in the run directory.

Files in the run directory (mode 0700):

* ``gobgpd.sock``: the gRPC API (gobgpd makes it 0755, so only root can connect);
* ``gobgpd.pid``: ``{"pid", "start"}`` as JSON; the process start time tells a reused PID
  apart;
* ``gobgpd.log``: gobgpd's own log (session state changes at ``info``).

A restarted routerd adopts the daemon when the recorded process is alive and the socket
answers ``GetBgp``; a daemon found through the socket only (record lost) is recognised by
the socket's peer credentials. A socket left by a killed daemon is removed before a start.
``stop`` sends SIGTERM (gobgpd then closes its sessions with a NOTIFICATION, so peers
withdraw at once), then SIGKILL after a grace period; never by name.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.bgp.gobgpapi import gobgp_pb2_grpc as rpc

LOG = logging.getLogger(__name__)

SOCKET_NAME = "gobgpd.sock"
PIDFILE_NAME = "gobgpd.pid"
LOG_NAME = "gobgpd.log"
_LAUNCH = '"$1" -l "$2" -p --pprof-disable --api-hosts="unix://$3" </dev/null >>"$4" 2>&1 & echo $!'
_UCRED = struct.Struct("3i")
_SUN_PATH_MAX = 107


class SpeakerError(RuntimeError):
    """gobgpd could not be started, adopted or reached; the message says what to do."""


@dataclass(frozen=True)
class Daemon:
    """The gobgpd instance in use: its PID, start time and whether it was adopted."""

    pid: int
    start: int
    adopted: bool


class GobgpdSupervisor:
    """Start, adopt and stop the gobgpd serving one run directory."""

    def __init__(
        self,
        run_dir: Path,
        *,
        binary: str = "gobgpd",
        log_level: str = "info",
        ready_timeout: float = 10.0,
        hung_timeout: float = 5.0,
    ) -> None:
        self.run_dir = run_dir
        self.binary = binary
        self.log_level = log_level
        self.ready_timeout = ready_timeout
        self.hung_timeout = hung_timeout
        self.socket = run_dir / SOCKET_NAME
        self.pidfile = run_dir / PIDFILE_NAME
        self.log = run_dir / LOG_NAME
        if len(str(self.socket)) > _SUN_PATH_MAX:
            raise SpeakerError(
                f"gobgpd socket path {self.socket} is longer than {_SUN_PATH_MAX} bytes "
                "(the Unix socket limit): use a shorter state directory"
            )

    @property
    def target(self) -> str:
        """The gRPC target of the API socket."""
        return f"unix://{self.socket}"

    def record(self) -> tuple[int, int] | None:
        """The recorded (pid, start time), None without a readable record."""
        try:
            rec = json.loads(self.pidfile.read_text())
            return int(rec["pid"]), int(rec["start"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def pid(self) -> int | None:
        """The recorded daemon's PID while that very process is alive, else None."""
        rec = self.record()
        if rec is None:
            return None
        return rec[0] if process_start_time(rec[0]) == rec[1] else None

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether something answers ``GetBgp`` on the socket."""
        if not self.socket.exists():
            return False
        with grpc.insecure_channel(self.target) as channel:
            try:
                rpc.GobgpApiStub(channel).GetBgp(api.GetBgpRequest(), timeout=timeout)
            except grpc.RpcError:
                return False
        return True

    def socket_pid(self) -> int | None:
        """PID of the process listening on the socket (SO_PEERCRED), None if nobody is."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(str(self.socket))
                raw = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
        except OSError:
            return None
        return _UCRED.unpack(raw)[0] or None

    def ensure(self) -> Daemon:
        """Adopt the running daemon, or start one.

        Returns:
            The daemon now serving the socket.

        Raises:
            SpeakerError: gobgpd could not be started or never answered.
        """
        daemon = self.adopt()
        return daemon if daemon is not None else self.start()

    def adopt(self) -> Daemon | None:
        """Take over a running daemon (after a routerd restart); None when there is none.

        A recorded daemon that is alive but does not answer within ``hung_timeout`` is
        hung: it is stopped, and None returned so that ``ensure`` starts a fresh one.
        """
        pid = self.pid()
        if pid is not None:
            if self._wait_answer(pid, self.hung_timeout):
                return Daemon(pid, process_start_time(pid) or 0, adopted=True)
            LOG.warning("gobgpd (pid %d) does not answer on %s; restarting it", pid, self.socket)
            self._terminate(pid)
            return None
        pid = self.socket_pid()
        if pid is None:
            return None
        if not self.answers(timeout=self.hung_timeout):
            LOG.warning(
                "gobgpd (pid %d) holds %s but does not answer; stopping it", pid, self.socket
            )
            self._terminate(pid)
            return None
        start = process_start_time(pid) or 0
        self._write_record(pid, start)
        LOG.info("adopted gobgpd (pid %d) serving %s", pid, self.socket)
        return Daemon(pid, start, adopted=True)

    def start(self) -> Daemon:
        """Launch gobgpd detached and wait until its API answers.

        Raises:
            SpeakerError: it could not be launched, exited, or never answered.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.socket.exists():
            if self.answers():
                raise SpeakerError(f"another gobgpd already serves {self.socket}; stop it first")
            self.socket.unlink()  # left by a daemon that was killed
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        argv = ["/bin/sh", "-c", _LAUNCH, "sh", self.binary, self.log_level]
        try:
            out = subprocess.run(
                [*argv, str(self.socket), str(self.log)],
                env=env,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
                start_new_session=True,
            )
            pid = int(out.stdout.strip())
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise SpeakerError(f"cannot launch {self.binary}: {exc}") from exc
        start = process_start_time(pid) or 0
        if not self._wait_answer(pid, self.ready_timeout):
            self._terminate(pid)
            raise SpeakerError(
                f"{self.binary} (pid {pid}) did not answer on {self.socket} within "
                f"{self.ready_timeout:.0f}s; see {self.log}"
            )
        self._write_record(pid, start)
        LOG.info("gobgpd started (pid %d, socket %s, log %s)", pid, self.socket, self.log)
        return Daemon(pid, start, adopted=False)

    def stop(self) -> None:
        """Terminate the daemon (by PID) and remove its socket and record."""
        pid = self.pid()
        if pid is None:
            found = self.socket_pid()
            pid = found if found is not None and self.answers() else None
        if pid is not None:
            self._terminate(pid)
            LOG.info("gobgpd stopped (pid %d)", pid)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()

    def _write_record(self, pid: int, start: int) -> None:
        tmp = self.pidfile.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": pid, "start": start}))
        tmp.replace(self.pidfile)

    def _wait_answer(self, pid: int, timeout: float) -> bool:
        start = process_start_time(pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers(timeout=0.5):
                return True
            if process_start_time(pid) != start or start is None:
                return False
            time.sleep(0.02)
        return False

    @staticmethod
    def _terminate(pid: int, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; returns once every thread is gone (a
        Go daemon's main thread turns zombie before the others exit, and until they have,
        its sockets stay open and a successor cannot bind them)."""
        start = process_start_time(pid)
        if start is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if process_start_time(pid) != start and _threads(pid) <= 1:
                    return
                time.sleep(0.02)
        LOG.error("gobgpd (pid %d) survived SIGKILL for %.0fs", pid, timeout)


def _threads(pid: int) -> int:
    """Threads /proc still lists for a process (0 once it is reaped)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0
