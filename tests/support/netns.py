"""Network-namespace utilities for root-only tests and benchmarks (never the host namespace).

* ``Cleanup``: a LIFO registry; every namespace, link and process a test creates is pushed
  here and released in reverse order, pass or fail.
* ``Netns``: one namespace (``ip netns add``), with ``ip -n`` / ``ip netns exec`` helpers.
  Destroying it first kills every process still inside it, by PID (``ip netns pids``):
  wireguard-go daemons started detached by the backend included.
* ``veth``: a veth pair between two namespaces.
* ``NetnsWorker``: a forked child that ``setns()``'s into a namespace and then runs
  functions sent to it (pickled by reference) and returns their results over a pipe. The
  backend under test lives in such a child, so its netlink sockets, sysctl writes and the
  processes it starts all belong to the test namespace; killing the child with SIGKILL is
  how tests simulate a crashed daemon. ``STATE`` is the child's scratch space between calls.
* ``dump_evidence``: ``ip -j`` addresses/routes/neighbours, ``nft -j list ruleset`` and
  ``wg show all dump`` (private and preshared keys redacted) per namespace, for failures.
* ``scan_processes``: search every process's argv and environment for secrets.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import secrets
import select
import signal
import struct
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/var/run/netns")
STATE: dict[str, Any] = {}
"""Per-worker scratch space (only meaningful inside a NetnsWorker child)."""


def uid(n: int = 4) -> str:
    """A short random prefix for names that must be unique across concurrent runs."""
    return secrets.token_hex(n // 2 + 1)[:n]


def sh(
    args: list[str], *, check: bool = True, input: str | None = None, timeout: float = 30
) -> str:
    proc = subprocess.run(
        args, input=input, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


class Cleanup:
    """Release actions run last-in first-out; every action runs even when one fails."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, Callable[[], object]]] = []

    def push(self, what: str, action: Callable[[], object]) -> None:
        self._actions.append((what, action))

    def close(self) -> list[str]:
        errors = []
        while self._actions:
            what, action = self._actions.pop()
            try:
                action()
            except Exception as exc:
                errors.append(f"{what}: {exc}")
        return errors


class Netns:
    """A network namespace created (and destroyed) by a test."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, name: str, cleanup: Cleanup) -> Netns:
        sh(["ip", "netns", "add", name])
        ns = cls(name)
        cleanup.push(f"netns {name}", ns.destroy)
        ns.ip("link", "set", "lo", "up")
        return ns

    def ip(self, *args: str, check: bool = True) -> str:
        return sh(["ip", "-n", self.name, *args], check=check)

    def ipj(self, *args: str) -> Any:
        out = sh(["ip", "-n", self.name, "-j", *args])
        return json.loads(out) if out.strip() else []

    def exec(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 30
    ) -> str:
        return sh(
            ["ip", "netns", "exec", self.name, *args], check=check, input=input, timeout=timeout
        )

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(["ip", "netns", "exec", self.name, *args], text=True, **kwargs)

    def sysctl(self, name: str) -> str:
        return self.exec("cat", "/proc/sys/" + name.replace(".", "/")).strip()

    def pids(self) -> list[int]:
        out = sh(["ip", "netns", "pids", self.name], check=False)
        return [int(p) for p in out.split()]

    def kill_processes(self) -> None:
        """SIGKILL every process in the namespace (by PID) and wait until they are gone."""
        deadline = time.monotonic() + 10
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def destroy(self) -> None:
        self.kill_processes()
        sh(["ip", "netns", "del", self.name], check=False)


def veth(a: Netns, a_if: str, b: Netns, b_if: str, *, mtu: int = 1500) -> None:
    """A veth pair ``a_if`` (in a) <-> ``b_if`` (in b), both up (removed with the namespaces)."""
    a.ip(
        "link", "add", a_if, "mtu", str(mtu), "type", "veth", "peer", "name", b_if, "netns", b.name
    )
    b.ip("link", "set", b_if, "mtu", str(mtu))
    a.ip("link", "set", a_if, "up")
    b.ip("link", "set", b_if, "up")


SENTINEL_NET = "127.77."


class IpMonitor:
    """``ip monitor`` in a namespace, with sentinel events to cut out exact windows.

    ``window(action)`` returns the netlink events (one text line each) caused while
    ``action`` ran: a sentinel address on ``lo`` is added before and after, and only the
    lines between the two sentinels (minus the sentinels' own) are returned. No sleeps:
    the second sentinel arriving proves every earlier event has been printed.
    """

    def __init__(self, ns: Netns, cleanup: Cleanup) -> None:
        self.ns = ns
        self.proc = subprocess.Popen(
            ["ip", "-o", "-n", ns.name, "monitor", "link", "address", "route", "neigh"],
            stdout=subprocess.PIPE,
            text=True,
        )
        cleanup.push(f"ip monitor {self.proc.pid}", self._stop)
        self.lines: list[str] = []
        self._cv = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._n = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cv:
                self.lines.append(line.rstrip("\n"))
                self._cv.notify_all()

    def _stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def _await(self, marker: str, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for i, line in enumerate(self.lines):
                    if marker in line:
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cv.wait(left)

    def _sentinel(self, timeout: float = 15.0) -> int:
        """Emit sentinel events until one is seen; returns the index of its line.

        ``ip monitor`` subscribes asynchronously after it starts, so early sentinels may go
        unseen; a fresh one is tried every second.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._n += 1
            marker = f"{SENTINEL_NET}{self._n // 250}.{self._n % 250 + 1}"
            self.ns.ip("addr", "add", f"{marker}/32", "dev", "lo")
            index = self._await(marker, 1.0)
            if index is not None:
                return index
        raise TimeoutError("ip monitor never reported a sentinel")

    def window(self, action: Callable[[], object]) -> list[str]:
        start = self._sentinel()
        action()
        end = self._sentinel()
        return [ln for ln in self.lines[start:end] if SENTINEL_NET not in ln]


def setns(name: str) -> None:
    """Move the calling (single-threaded) process into a network namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(NETNS_DIR / name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


class RemoteError(AssertionError):
    """An exception raised inside a worker, with its traceback text."""


def _send(fd: int, obj: object) -> None:
    data = pickle.dumps(obj)
    view = memoryview(struct.pack("=I", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _recv(fd: int, timeout: float | None = None) -> Any:
    def read(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            if timeout is not None and not select.select([fd], [], [], timeout)[0]:
                raise TimeoutError("worker did not answer in time")
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise EOFError("worker exited")
            buf += chunk
        return buf

    (size,) = struct.unpack("=I", read(4))
    return pickle.loads(read(size))


class NetnsWorker:
    """A forked child living in a namespace, running functions sent by the test."""

    def __init__(self, netns: str) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(self._to_child)
            os.close(self._from_child)
            _serve(netns, to_child_r, from_child_w)
        os.close(to_child_r)
        os.close(from_child_w)
        self.pid = pid
        self.netns = netns
        self.alive = True

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 120, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` in the child; re-raise its exception as RemoteError."""
        _send(self._to_child, (fn, args, kwargs))
        ok, value = _recv(self._from_child, timeout)
        if not ok:
            raise RemoteError(f"in netns {self.netns}: {value}")
        return value

    def kill(self) -> None:
        """SIGKILL the child (a crashed daemon: no cleanup code runs)."""
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.alive = False
            os.close(self._to_child)
            os.close(self._from_child)

    def close(self, timeout: float = 30) -> None:
        """Ask the child to exit; kill it when it does not."""
        if not self.alive:
            return
        try:
            _send(self._to_child, None)
            _recv(self._from_child, timeout)
        except (OSError, EOFError, TimeoutError):
            pass
        self.kill()


def _serve(netns: str, rfd: int, wfd: int) -> None:  # pragma: no cover - child process
    code = 0
    try:
        setns(netns)
        while True:
            request = _recv(rfd)
            if request is None:
                _send(wfd, (True, None))
                break
            fn, args, kwargs = request
            try:
                _send(wfd, (True, fn(*args, **kwargs)))
            except BaseException:
                _send(wfd, (False, traceback.format_exc()))
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def run_in_netns(netns: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one function inside a namespace (a throwaway worker) and return its result."""
    worker = NetnsWorker(netns)
    try:
        return worker.call(fn, *args, **kwargs)
    finally:
        worker.close()


def _redact_wg_dump(text: str) -> str:
    out = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) == 5:  # interface line: ifname private public port fwmark
            cols[1] = "(redacted)"
        elif len(cols) == 9:  # peer line: ifname public preshared ...
            cols[2] = "(redacted)"
        out.append("\t".join(cols))
    return "\n".join(out) + "\n"


def dump_evidence(namespaces: Iterable[Netns], dest: Path, extra: Iterable[Path] = ()) -> Path:
    """Write per-namespace state (and copies of ``extra`` files) under ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    commands = {
        "addr.json": ["ip", "-j", "addr"],
        "route.json": ["ip", "-j", "route", "show", "table", "all"],
        "neigh.json": ["ip", "-j", "neigh"],
        "neigh-proxy.json": ["ip", "-j", "neigh", "show", "proxy"],
        "nft.json": ["nft", "-j", "list", "ruleset"],
        "wg.txt": ["wg", "show", "all", "dump"],
    }
    for ns in namespaces:
        for fname, cmd in commands.items():
            out = sh(["ip", "netns", "exec", ns.name, *cmd], check=False)
            if fname == "wg.txt":
                out = _redact_wg_dump(out)
            (dest / f"{ns.name}-{fname}").write_text(out)
    for path in extra:
        if path.is_file():
            (dest / path.name).write_text(path.read_text(errors="replace"))
    return dest


def scan_processes(needles: Iterable[str]) -> list[str]:
    """Every ``/proc/PID/{cmdline,environ}`` that contains one of ``needles``."""
    wanted = [n.encode() for n in needles if n]
    hits = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        for part in ("cmdline", "environ"):
            try:
                data = (entry / part).read_bytes()
            except OSError:
                continue
            if any(w in data for w in wanted):
                hits.append(f"/proc/{entry.name}/{part}")
    return hits
