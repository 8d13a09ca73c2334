"""The doctor's only door to the host: one stubbable command runner and /proc/sys reads.

Every live check asks the host through ``Host``: commands go through ``Host.run`` (an argv
list, never a shell, a timeout, and a classified failure), kernel parameters through
``Host.sysctl`` under an overridable root, ARP sweeps through ``Host.arp``, VRRP listens
through ``Host.vrrp``, the time through ``Host.clock``. ``Host.once`` makes every read happen
at most once per run, which is what lets one run cover 10,000 claims with a handful of
processes. Tests replace the runner, the ARP sweeper and the VRRP listener with recorded
outputs (``tests/fixtures/doctor``) and the root with a temp tree, so every check is
exercised without root and without touching this machine.

Failures are classified once, here, because the doctor's detail lines must say *why* a probe
told us nothing (D18 in docs/decisions.md: an unreadable ``exit status 1`` helps nobody): the tool
is not installed, we lack the privilege, it timed out, or it ran and said something else.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from routerd.doctor.arp import ArpProber, sweep
from routerd.doctor.vrrp import VrrpListener, listen

DEFAULT_TIMEOUT = 5.0
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Probes run with a fixed PATH: ``routerctl`` run by a user often lacks the sbin dirs."""

NOT_FOUND = "not-found"
PERMISSION = "permission-denied"
TIMEOUT = "timeout"
ERROR = "error"

_PERMISSION_MARKERS = (
    "operation not permitted",
    "permission denied",
    "must be root",
    "you need to be root",
    "are you root",
)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What one probe command did.

    Attributes:
        argv: the command as run.
        rc: exit status (127 not found, 126 not executable, 124 timed out).
        stdout / stderr: decoded output.
        failure: "" on success, else not-found | permission-denied | timeout | error.
    """

    argv: tuple[str, ...]
    rc: int
    stdout: str = ""
    stderr: str = ""
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure

    def describe(self) -> str:
        """One human line saying why the command gave no answer."""
        tool = self.argv[0] if self.argv else "?"
        cmd = " ".join(self.argv)
        if self.failure == NOT_FOUND:
            return f"{tool} is not installed (not on {SEARCH_PATH})"
        if self.failure == PERMISSION:
            return f"permission denied running {tool} (run the doctor as root)"
        if self.failure == TIMEOUT:
            return f"{cmd} timed out"
        if self.failure == ERROR:
            said = first_line(self.stderr) or first_line(self.stdout)
            return f"{cmd} failed (exit {self.rc})" + (f": {said}" if said else "")
        return f"{cmd} succeeded"


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def classify(argv: Sequence[str], rc: int, stdout: str, stderr: str) -> CommandResult:
    """Attach the failure class to a finished command."""
    failure = ""
    if rc != 0:
        low = stderr.lower()
        failure = PERMISSION if any(m in low for m in _PERMISSION_MARKERS) else ERROR
    return CommandResult(tuple(argv), rc, stdout, stderr, failure)


class CommandRunner(Protocol):
    def __call__(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, input: str | None = None
    ) -> CommandResult:
        """Run ``argv`` (no shell, ``input`` on stdin) and return its classified result."""


def run_command(
    argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, input: str | None = None
) -> CommandResult:
    """The real runner: ``subprocess.run`` with a clean C locale and a fixed PATH.

    ``input`` feeds stdin (``ip -batch -`` reads one command per line); without it stdin is
    ``/dev/null``, so no probe can ever wait on the terminal.
    """
    env = {"PATH": SEARCH_PATH, "LC_ALL": "C"}
    stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            check=False,
            **stdin,
        )
    except FileNotFoundError:
        return CommandResult(tuple(argv), 127, failure=NOT_FOUND)
    except PermissionError as e:
        return CommandResult(tuple(argv), 126, stderr=str(e), failure=PERMISSION)
    except subprocess.TimeoutExpired:
        return CommandResult(tuple(argv), 124, failure=TIMEOUT)
    return classify(argv, done.returncode, done.stdout, done.stderr)


@dataclass
class Host:
    """How one doctor run reaches the host.

    Attributes:
        run: the command runner (tests pass a recorded one).
        sys_root: the directory that stands for ``/proc/sys``.
        env: environment for overrides such as ``ROUTERD_IMDS_URL``.
        clock: epoch seconds now.
        timeout: per-command timeout.
        dmi_root: filesystem root for provider detection (``sys/class/dmi/id``).
        arp: the ARP sweeper (``routerd.doctor.arp.sweep``; tests replay recorded replies).
        sysfs_root: the directory that stands for ``/sys`` (link attributes).
        vrrp: the VRRP advert listener (``routerd.doctor.vrrp.listen``; tests replay).
    """

    run: CommandRunner = run_command
    sys_root: Path = Path("/proc/sys")
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], float] = time.time
    timeout: float = DEFAULT_TIMEOUT
    dmi_root: str = "/"
    arp: ArpProber = sweep
    sysfs_root: Path = Path("/sys")
    vrrp: VrrpListener = listen
    _memo: dict[object, object] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fresh(self) -> Host:
        """A copy with an empty once-per-run cache (each doctor run starts from this)."""
        return dataclasses.replace(self, _memo={}, _lock=threading.Lock())

    def command(
        self, *argv: str, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        t = self.timeout if timeout is None else timeout
        if input is None:  # runners written before stdin existed take no ``input``
            return self.run(list(argv), timeout=t)
        return self.run(list(argv), timeout=t, input=input)

    def cached(self, *argv: str, input: str | None = None) -> CommandResult:
        """A read-only probe run at most once per doctor run (shared by parallel checks)."""
        return self.once(  # type: ignore[return-value]
            ("cmd", input, *argv), lambda: self.command(*argv, input=input)
        )

    def cached_sysctl(self, *parts: str) -> str | None:
        """``sysctl`` read at most once per run (10,000 claims share one ``ip_forward``)."""
        return self.once(("sysctl", *parts), lambda: self.sysctl(*parts))  # type: ignore[return-value]

    def once(self, key: object, compute: Callable[[], object]) -> object:
        """Compute ``key`` once per run; parallel callers wait for the first.

        An exception is remembered like a value and raised to every caller: a probe that
        crashed once must not be retried by each of 10,000 claim checks.
        """
        with self._lock:
            slot = self._memo.get(key)
            if slot is None:
                slot = self._memo[key] = _Slot()
        assert isinstance(slot, _Slot)
        return slot.get(compute)

    def netdev(self, ifname: str, attr: str) -> str | None:
        """``/sys/class/net/<ifname>/<attr>`` read at most once per run (None: unreadable)."""

        def read() -> str | None:
            try:
                return self.sysfs_root.joinpath("class", "net", ifname, attr).read_text().strip()
            except OSError:
                return None

        return self.once(("netdev", ifname, attr), read)  # type: ignore[return-value]

    def sysctl(self, *parts: str) -> str | None:
        """Read ``/proc/sys/<parts...>`` (``"net/ipv4/conf", "eth0.100", "proxy_arp"``).

        Parts are path components, not dotted names, because interface names may hold dots.
        Returns None when unreadable.
        """
        path = self.sys_root.joinpath(*(p for part in parts for p in part.split("/")))
        try:
            return path.read_text().strip()
        except OSError:
            return None


class _Slot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: object = None
        self._error: Exception | None = None

    def get(self, compute: Callable[[], object]) -> object:
        with self._lock:
            if not self._done:
                try:
                    self._value = compute()
                except Exception as e:
                    self._error = e
                self._done = True
            if self._error is not None:
                raise self._error
            return self._value
