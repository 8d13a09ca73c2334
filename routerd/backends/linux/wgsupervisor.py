"""wireguard-go as a detached daemon that outlives routerd, supervised while it is wanted.

Without the kernel module a WireGuard interface exists only while its wireguard-go process
runs, so the process must survive a routerd restart for traffic to keep flowing (D23,
docs/decisions.md). routerd starts ``wireguard-go -f IFNAME`` through a one-line ``sh`` that
backgrounds it in a new session and prints its PID: the daemon is never routerd's child (no
zombie, no signal from routerd's process group, nothing to reap), and its output goes to
``<state-dir>/wireguard-go/IFNAME.log``.

The PID and the process start time (to tell a reused PID apart) are recorded in the state
store (kind ``wireguard-go``). A restarted routerd finds the daemon through that record, or
through the UAPI socket's peer credentials, and adopts it. ``check`` restarts a wanted
daemon that died; ``stop`` ends one by PID, never by name.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

from routerd.backends.linux.wguapi import RUN_DIR, UapiClient, socket_path
from routerd.core.errors import DataplaneError
from routerd.state.store import Store

LOG = logging.getLogger(__name__)

STORE_KIND = "wireguard-go"
ENV_FLAG = "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"
_LAUNCH = '"$1" -f "$2" </dev/null >>"$3" 2>&1 & echo $!'


def process_start_time(pid: int) -> int | None:
    """The start time of a live (non-zombie) process, None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


class WireGuardGo:
    """Start, adopt, supervise and stop wireguard-go daemons."""

    def __init__(
        self,
        store: Store,
        *,
        binary: str,
        log_dir: Path,
        run_dir: Path = RUN_DIR,
        ready_timeout: float = 5.0,
    ) -> None:
        self.store = store
        self.binary = binary
        self.log_dir = log_dir
        self.run_dir = run_dir
        self.ready_timeout = ready_timeout

    def records(self) -> dict[str, dict[str, int]]:
        return {k: json.loads(v) for k, v in self.store.owned(STORE_KIND).items()}

    def pid(self, ifname: str) -> int | None:
        rec = self.records().get(ifname)
        if rec is None:
            return None
        return rec["pid"] if process_start_time(rec["pid"]) == rec["start"] else None

    def alive(self, ifname: str) -> bool:
        return self.pid(ifname) is not None

    def start(self, ifname: str) -> int:
        """Launch the daemon and wait until its UAPI socket answers.

        Raises:
            DataplaneError: wireguard-go could not be started or never became ready.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), ENV_FLAG: "1"}
        log = self.log_dir / f"{ifname}.log"
        try:
            out = subprocess.run(
                ["/bin/sh", "-c", _LAUNCH, "sh", self.binary, ifname, str(log)],
                env=env,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
                start_new_session=True,
            )
            pid = int(out.stdout.strip())
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise DataplaneError(f"wireguard-go -f {ifname}", str(exc)) from exc
        self._wait_ready(ifname, pid, log)
        start = process_start_time(pid) or 0
        self.store.set_owned(STORE_KIND, ifname, json.dumps({"pid": pid, "start": start}))
        LOG.info("wireguard-go started for %s (pid %d, log %s)", ifname, pid, log)
        return pid

    def _wait_ready(self, ifname: str, pid: int, log: Path) -> None:
        client = UapiClient(ifname, run_dir=self.run_dir, timeout=1.0)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if client.available():
                return
            if process_start_time(pid) is None:
                raise DataplaneError(f"wireguard-go -f {ifname}", f"exited at start; see {log}")
            time.sleep(0.02)
        self._terminate(pid)
        raise DataplaneError(f"wireguard-go -f {ifname}", f"UAPI socket not ready; see {log}")

    def adopt(self, ifname: str) -> bool:
        """Take over a running daemon for ``ifname`` (after a routerd restart).

        The socket's peer PID wins over a stale record, so a daemon restarted behind
        routerd's back is still recognised as the one serving the interface.
        """
        pid = UapiClient(ifname, run_dir=self.run_dir, timeout=1.0).daemon_pid()
        if pid is None:
            return False
        rec = self.records().get(ifname)
        start = process_start_time(pid) or 0
        if rec != {"pid": pid, "start": start}:
            self.store.set_owned(STORE_KIND, ifname, json.dumps({"pid": pid, "start": start}))
        return True

    def stop(self, ifname: str) -> None:
        """Terminate the daemon serving ``ifname`` (by PID) and forget it."""
        pid = self.pid(ifname)
        if pid is None and self.adopt(ifname):  # started, but the PID was never recorded
            pid = self.pid(ifname)
        if pid is not None:
            self._terminate(pid)
            LOG.info("wireguard-go for %s stopped (pid %d)", ifname, pid)
        sock = socket_path(ifname, self.run_dir)
        if sock.exists() and not UapiClient(ifname, run_dir=self.run_dir, timeout=1.0).available():
            sock.unlink(missing_ok=True)  # left behind by a daemon that was killed
        self.store.drop_owned(STORE_KIND, ifname)

    @staticmethod
    def _terminate(pid: int, timeout: float = 3.0) -> None:
        start = process_start_time(pid)
        if start is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process_start_time(pid) != start:
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)

    def check(self, wanted: set[str]) -> list[str]:
        """Restart every wanted daemon that died; returns the interfaces restarted.

        Args:
            wanted: interfaces whose daemon routerd started and still needs.
        """
        restarted = []
        for ifname in sorted(wanted):
            if self.alive(ifname) or self.adopt(ifname):
                continue
            LOG.warning("wireguard-go for %s is not running; restarting it", ifname)
            try:
                self.start(ifname)
            except DataplaneError as exc:
                LOG.error("restarting wireguard-go for %s failed: %s", ifname, exc)
                continue
            restarted.append(ifname)
        return restarted
