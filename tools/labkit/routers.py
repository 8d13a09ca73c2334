"""One real ``routerd serve --backend linux`` per router namespace, and ``routerctl`` to it.

Each router has its own directory under the run (``<run>/<side>/``): ``router.yaml``, ``state/``
(the SQLite store, wireguard-go's log), ``routerd.sock`` and ``routerd.log``. routerd runs
inside the router's namespace through ``ip netns exec`` (everything it programs, and the
wireguard-go it starts in its own session, lives there). We hold the process: SIGTERM is a
graceful stop (the dataplane stays: docs/concepts.md, "Ownership of kernel objects"), SIGKILL
the crash of the faults step. Every start is recorded in the registry; teardown stops routerd by
PID, and destroying the namespace ends the wireguard-go daemons by PID too.

``routerctl`` talks to the Unix socket from the lab's own process: a socket is a file, so
the client needs no namespace, and what it reports (claims, doctor's host checks) is the
daemon's view from inside.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from routerd.backends.linux.wgsupervisor import process_start_time
from tests.support.netns import Netns
from tests.support.wait import wait_until

from .registry import Registry, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROUTERD = BIN / "routerd" if (BIN / "routerd").exists() else ROOT / ".venv" / "bin" / "routerd"
ROUTERCTL = ROUTERD.with_name("routerctl")
CTL_TIMEOUT = 30.0
START_TIMEOUT = 30.0
DOCTOR_FAIL = 3


class CtlFailed(RuntimeError):
    """routerctl exited with an unexpected code."""


class Router:
    """One router: its namespace, config, state, socket, log and routerd process."""

    def __init__(self, side: str, ns: Netns, run_dir: Path, *, tunnel: str, capture_if: str):
        self.side = side
        self.ns = ns
        self.tunnel = tunnel
        self.capture_if = capture_if
        self.dir = run_dir / side
        self.config = self.dir / "router.yaml"
        self.state_dir = self.dir / "state"
        self.socket = self.dir / "routerd.sock"
        self.log = self.dir / "routerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.env: dict[str, str] = {}
        """Added to routerd's environment (``--cloud-actions``: the cloud double's URLs)."""

    def write_config(self, text: str) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config.write_text(text)

    # -- the process -----------------------------------------------------------------

    def argv(self) -> list[str]:
        return [
            "ip",
            "netns",
            "exec",
            self.ns.name,
            str(ROUTERD),
            "serve",
            "-c",
            str(self.config),
            "--backend",
            "linux",
            "--state-dir",
            str(self.state_dir),
            "--socket",
            str(self.socket),
        ]

    def start(self, registry: Registry) -> None:
        """Start routerd and wait until its API answers."""
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"--- lab: routerd start #{self.starts + 1}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **self.env} if self.env else None,
            )
        self.proc = proc
        self.starts += 1
        registry.push_process(proc, f"routerd {self.side}")
        wait_until(self._answers, timeout=START_TIMEOUT, what=f"routerd ({self.side}) API")

    def _answers(self) -> str | None:
        if not self.running():
            raise RuntimeError(f"routerd ({self.side}) exited at start; see {self.log}")
        proc = self.ctl("status", check=False, timeout=5)
        return None if proc.returncode == 0 else (proc.stderr or proc.stdout).strip()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM and wait: routerd exits, the dataplane (and wireguard-go) stays."""
        if self.proc is not None:
            stop_process(self.proc.pid, process_start_time(self.proc.pid))
            self.proc = None

    def kill9(self) -> None:
        """SIGKILL: a crash, no cleanup code runs."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    # -- routerctl -------------------------------------------------------------------

    def ctl(
        self, *args: str, check: bool = True, timeout: float = CTL_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(ROUTERCTL), "--socket", str(self.socket), "--timeout", str(timeout), *args]
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout + 5, check=False
        )
        if check and proc.returncode != 0:
            raise CtlFailed(
                f"routerctl {' '.join(args)} ({self.side}) exited {proc.returncode}: "
                f"{(proc.stderr or proc.stdout).strip()}"
            )
        return proc

    def ctl_json(self, *args: str, ok_codes: tuple[int, ...] = (0,)) -> Any:
        proc = self.ctl(*args, "-o", "json", check=False)
        if proc.returncode not in ok_codes:
            raise CtlFailed(
                f"routerctl {' '.join(args)} -o json ({self.side}) exited {proc.returncode}: "
                f"{(proc.stderr or proc.stdout).strip()}"
            )
        return json.loads(proc.stdout)

    def claims(self) -> list[dict[str, Any]]:
        """Every claim as ``routerctl get claims -o json`` reports it."""
        data = self.ctl_json("get", "claims")
        return list(data.get("claims", []))

    def doctor(self) -> dict[str, Any]:
        """``routerctl doctor hybrid -o json`` (exit 3, a failing check, is data here)."""
        report: dict[str, Any] = self.ctl_json("doctor", "hybrid", ok_codes=(0, DOCTOR_FAIL))
        return report

    def history(self, claim: str) -> list[dict[str, Any]]:
        """The claim's journaled transitions, oldest first."""
        return list(self.ctl_json("history", "claim", claim).get("events", []))

    def wireguard_go_pids(self) -> list[int]:
        """wireguard-go processes inside this router's namespace."""
        pids = []
        for pid in self.ns.pids():
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm == "wireguard-go":
                pids.append(pid)
        return pids
