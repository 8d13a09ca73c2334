"""Fixtures for the Linux-backend namespace tests.

Every test gets a ``Lab``: a LIFO cleanup registry, a short random prefix for namespace and
interface names (wireguard-go's UAPI directory is shared by all namespaces), and helpers
that create namespaces, veths and backends living inside a namespace. On failure the state
of every namespace and the routerd logs are written to ``tmp_path/evidence``; every test
also asserts that no routerd log holds a Traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routerd.backends.linux.wguapi import RUN_DIR as WG_RUN_DIR
from tests.netns import backend_host as bh
from tests.support.netns import Cleanup, Netns, NetnsWorker, dump_evidence, uid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


class BackendHandle:
    """A LinuxBackend running in a NetnsWorker child, seen from the test."""

    def __init__(self, worker: NetnsWorker, state_dir: Path, log: Path) -> None:
        self.worker = worker
        self.state_dir = state_dir
        self.log = log

    def __getattr__(self, name: str) -> Any:
        fn = getattr(bh, name)
        return lambda *args, **kwargs: self.worker.call(fn, *args, **kwargs)

    def kill(self) -> None:
        """SIGKILL the process owning the backend: no cleanup code runs."""
        self.worker.kill()


class Lab:
    """Names, namespaces, links and backends for one test (all released in teardown)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.prefix = uid()
        self.cleanup = Cleanup()
        self.namespaces: list[Netns] = []
        self.logs: list[Path] = []
        self._n = 0
        # Runs last: sockets of wireguard-go daemons killed with their namespace.
        self.cleanup.push("wireguard sockets", self._remove_wg_sockets)

    def _remove_wg_sockets(self) -> None:
        for sock in WG_RUN_DIR.glob(f"{self.prefix}*.sock"):
            sock.unlink(missing_ok=True)

    def name(self, role: str) -> str:
        """An interface name unique across the run (<= 15 characters)."""
        name = f"{self.prefix}{role}"
        assert len(name) <= 15, name
        return name

    def netns(self, role: str) -> Netns:
        ns = Netns.create(f"rdt-{self.prefix}-{role}", self.cleanup)
        self.namespaces.append(ns)
        return ns

    def worker(self, ns: Netns) -> NetnsWorker:
        w = NetnsWorker(ns.name)
        self.cleanup.push(f"worker {w.pid}", w.kill)
        return w

    def backend(self, ns: Netns, *, state: str = "a", **kwargs: Any) -> BackendHandle:
        """A backend in ``ns`` with state dir ``tmp/state-<state>`` (reused on restart)."""
        self._n += 1
        state_dir = self.tmp / f"state-{state}"
        state_dir.mkdir(exist_ok=True)
        log = self.tmp / f"routerd-{state}-{self._n}.log"
        self.logs.append(log)
        handle = BackendHandle(self.worker(ns), state_dir, log)
        handle.open_backend(str(state_dir), str(log), **kwargs)
        return handle


@pytest.fixture
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lab]:
    """Name: lab / Scope: function / Depends: tmp_path (root; skipped otherwise)."""
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        failed = any(
            getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
            for when in ("setup", "call")
        )
        if failed:
            extra = list(lab.logs) + sorted(tmp_path.glob("state-*/wireguard-go/*.log"))
            where = dump_evidence(lab.namespaces, tmp_path / "evidence", extra)
            print(f"evidence written to {where}")
        errors = lab.cleanup.close()
        assert not errors, errors
    for log in lab.logs:
        if log.exists():
            assert "Traceback" not in log.read_text(), f"Traceback in {log}"
