"""keepalived as a detached daemon supervised by routerd: start, adopt, reload, stop, by PID.

Like wireguard-go, keepalived must outlive a routerd restart (a restart must not move
mastership), so it is never routerd's child: a one-line ``sh`` starts it in the background
of a new session and prints its PID. It runs in the foreground (``-n``) with its log on
stdout, VRRP only (``-P``), and without respawning its VRRP process (``-R``): if that
process dies the whole daemon exits and routerd, which watches both PIDs, restarts it.

Everything lives in one run directory: the rendered ``keepalived.conf``, the notify FIFO,
the two pidfiles, ``addresses.json`` (the virtual addresses last rendered, so a routerd
starting after a crash knows what a dead keepalived may have left behind) and the JSON
state dumps (keepalived writes them to ``$TMPDIR``, set to the run directory).

A keepalived killed with SIGKILL leaves its virtual addresses on the interface; another
router is master by then, so the segment would see the address twice. ``flush_addresses``
removes them, and routerd calls it before every start and as soon as a daemon dies.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from routerd.backends.linux.addresses import AddressEntry, encode_delete
from routerd.backends.linux.netlink_socket import NetlinkSocket
from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.core.errors import DataplaneError
from routerd.core.redundancy import VirtualAddress

LOG = logging.getLogger(__name__)

_LAUNCH = '"$@" </dev/null >>"$KA_LOG" 2>&1 & echo $!'
SIGJSON = 36  # keepalived --signum=JSON
STATE_CODES = {0: "INIT", 1: "BACKUP", 2: "MASTER", 3: "FAULT"}
_GONE = (errno.EADDRNOTAVAIL, errno.ENODEV, errno.ENOENT, errno.ESRCH)


def flush_addresses(addresses: Iterable[VirtualAddress]) -> list[str]:
    """Remove virtual addresses from their devices (in this network namespace).

    Absent addresses and devices are not errors: the point is that they are gone.

    Returns:
        The addresses (``cidr dev``) that were present and are now removed.
    """
    wanted = []
    for a in addresses:
        try:
            index = socket.if_nametoindex(a.dev)
        except OSError:
            continue
        ip, _, plen = a.cidr.partition("/")
        wanted.append((a, AddressEntry(index, ip, int(plen or 32))))
    if not wanted:
        return []
    sock = NetlinkSocket()
    try:
        with sock.lock:
            replies = sock.transact([encode_delete(e, exact=True) for _, e in wanted])
    finally:
        sock.close()
    removed = []
    for (a, _), reply in zip(wanted, replies, strict=True):
        if reply.ok:
            removed.append(f"{a.cidr} dev {a.dev}")
        elif reply.errno not in _GONE:
            LOG.error("removing %s from %s failed: %s", a.cidr, a.dev, reply.text or reply.errno)
    return removed


class Keepalived:
    """One keepalived (VRRP only) per router, living in ``run_dir``."""

    def __init__(self, run_dir: Path, *, binary: str = "keepalived", log: Path | None = None):
        if any(c.isspace() for c in str(run_dir)):
            raise ValueError(f"run directory {run_dir!r} must not contain whitespace")
        self.run_dir = run_dir
        self.binary = binary
        self.conf = run_dir / "keepalived.conf"
        self.fifo = run_dir / "notify.fifo"
        self.pidfile = run_dir / "keepalived.pid"
        self.vrrp_pidfile = run_dir / "vrrp.pid"
        self.addresses_file = run_dir / "addresses.json"
        self.log = log or run_dir / "keepalived.log"

    def prepare(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- processes ---------------------------------------------------------------------

    def _pid_from(self, path: Path) -> int | None:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        if str(self.conf).encode() not in argv or process_start_time(pid) is None:
            return None  # a reused PID, or a keepalived that is not ours
        return pid

    def pids(self) -> tuple[int | None, int | None]:
        """(daemon, VRRP process) PIDs of our running keepalived, None where absent."""
        return self._pid_from(self.pidfile), self._pid_from(self.vrrp_pidfile)

    def running(self) -> bool:
        return self.pids()[0] is not None

    def check_config(self, text: str) -> None:
        """Write ``text`` as the configuration after keepalived's own check accepts it.

        Raises:
            DataplaneError: keepalived refuses the configuration (its words included).
        """
        self.prepare()
        candidate = self.conf.with_suffix(".new")
        candidate.write_text(text)
        proc = subprocess.run(
            [self.binary, "--config-test", "-f", str(candidate)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if proc.returncode != 0:
            candidate.unlink(missing_ok=True)
            raise DataplaneError(
                "keepalived --config-test", (proc.stderr or proc.stdout).strip(), retryable=True
            )
        candidate.replace(self.conf)

    def record_addresses(self, addresses: Iterable[VirtualAddress]) -> None:
        doc = [{"cidr": a.cidr, "dev": a.dev, "token": a.token} for a in addresses]
        tmp = self.addresses_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        tmp.replace(self.addresses_file)

    def recorded_addresses(self) -> list[VirtualAddress]:
        """The addresses the last rendered configuration held (empty when unknown)."""
        try:
            doc = json.loads(self.addresses_file.read_text())
            return [VirtualAddress(d["cidr"], d["dev"], bool(d.get("token"))) for d in doc]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def start(self, text: str, *, ready_timeout: float = 5.0) -> tuple[int, int]:
        """Start keepalived with ``text`` as its configuration, once its VRRP process runs.

        The caller removes stale addresses first (see ``flush_addresses``).

        Returns:
            (daemon, VRRP process) PIDs.

        Raises:
            DataplaneError: the configuration is refused or keepalived exits at start.
        """
        self.check_config(text)
        for path in (self.pidfile, self.vrrp_pidfile):
            path.unlink(missing_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "TMPDIR": str(self.run_dir),
            "KA_LOG": str(self.log),
        }
        argv = [self.binary, "-n", "-l", "-D", "-G", "-P", "-R", "-f", str(self.conf)]
        argv += ["-p", str(self.pidfile), "-r", str(self.vrrp_pidfile)]
        try:
            out = subprocess.run(
                ["/bin/sh", "-c", _LAUNCH, "sh", *argv],
                env=env,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
                start_new_session=True,
            )
            pid = int(out.stdout.strip())
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise DataplaneError("start keepalived", str(exc)) from exc
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            daemon, vrrp = self.pids()
            if daemon is not None and vrrp is not None:
                LOG.info("keepalived started (pid %d, vrrp %d, log %s)", daemon, vrrp, self.log)
                return daemon, vrrp
            if process_start_time(pid) is None:
                raise DataplaneError("start keepalived", f"exited at start: {self.log_tail()}")
            time.sleep(0.005)
        self.stop()
        raise DataplaneError("start keepalived", f"not ready in {ready_timeout}s; see {self.log}")

    def reload(self, text: str) -> None:
        """Apply a new configuration (SIGHUP); keepalived keeps each instance's state.

        Raises:
            DataplaneError: the configuration is refused or keepalived is not running.
        """
        daemon = self.pids()[0]
        if daemon is None:
            raise DataplaneError("reload keepalived", "keepalived is not running")
        self.check_config(text)
        os.kill(daemon, signal.SIGHUP)

    def kill(self) -> None:
        """SIGKILL both processes (a hung keepalived cannot be asked to stop)."""
        for pid in self.pids()[::-1]:
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop keepalived gracefully (it sends priority 0 so a partner takes over at once)."""
        daemon, vrrp = self.pids()
        if daemon is None and vrrp is None:
            return
        started = {p: process_start_time(p) for p in (daemon, vrrp) if p is not None}
        if daemon is not None:
            os.kill(daemon, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(process_start_time(p) != s for p, s in started.items()):
                LOG.info("keepalived stopped (pid %s)", daemon)
                return
            time.sleep(0.02)
        LOG.warning("keepalived did not stop in %ss; killing it", timeout)
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    # -- state ---------------------------------------------------------------------------

    def query_state(self, instance: str, timeout: float = 2.0) -> tuple[str, int] | None:
        """Ask the running keepalived for one instance's state and the master's priority.

        Used once when adopting a keepalived started by an earlier routerd (its FIFO lines
        from that time are stale); transitions afterwards come through the FIFO.

        Returns:
            (state, master priority), or None when keepalived does not answer.
        """
        daemon = self.pids()[0]
        if daemon is None:
            return None
        dump = self.run_dir / "keepalived.json"
        dump.unlink(missing_ok=True)
        os.kill(daemon, SIGJSON)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                doc = json.loads(dump.read_text())
            except (OSError, ValueError):
                time.sleep(0.01)
                continue
            for entry in doc:
                data = entry.get("data", {})
                if data.get("iname") == instance:
                    state = STATE_CODES.get(data.get("state"), "UNKNOWN")
                    return state, int(data.get("master_priority", 0))
            return None
        return None

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return f"no log at {self.log}"
        return " | ".join(text[-lines:])

    def remove_files(self) -> None:
        for path in (self.conf, self.fifo, self.addresses_file, self.run_dir / "keepalived.json"):
            path.unlink(missing_ok=True)
