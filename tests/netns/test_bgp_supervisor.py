"""gobgpd's lifecycle under routerd (routerd.bgp.supervisor) and its API settings
(routerd.bgp.configure), against a real gobgpd in a namespace.

The supervisor starts gobgpd detached, adopts it from the record or from the socket alone,
replaces a killed or hung one, and stops it by PID. ``configure.apply`` run twice against the
real daemon must change nothing the second time: gobgpd reports settings back with defaults
filled in, and a needless reset would drop the sessions on every routerd restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.bgp import configure
from routerd.bgp.gobgpapi import gobgp_pb2_grpc as rpc
from routerd.bgp.supervisor import GobgpdSupervisor, SpeakerError
from routerd.core.exchange import Neighbor, SpeakerSettings
from tests.support.netns import Cleanup, Netns, NetnsWorker, scan_processes, uid
from tests.support.wait import wait_until

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(shutil.which("gobgpd") is None, reason="needs gobgpd (run tools/bootstrap)"),
]


def ensure(run_dir: str, hung_timeout: float = 5.0) -> tuple[int, bool]:
    d = GobgpdSupervisor(Path(run_dir), hung_timeout=hung_timeout).ensure()
    return d.pid, d.adopted


def stop(run_dir: str) -> None:
    GobgpdSupervisor(Path(run_dir)).stop()


def apply(run_dir: str, settings: SpeakerSettings) -> configure.Applied:
    sup = GobgpdSupervisor(Path(run_dir))
    with grpc.insecure_channel(sup.target) as channel:
        return configure.apply(rpc.GobgpApiStub(channel), settings)


class Speaker:
    """A namespace, a worker inside it and a short run directory."""

    def __init__(self, cleanup: Cleanup) -> None:
        self.ns = Netns.create(f"rdb-{uid()}-sup", cleanup)
        self.ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
        self.ns.ip("addr", "add", "10.99.0.11/24", "dev", "eth0")
        self.ns.ip("link", "set", "eth0", "up")
        self.worker = NetnsWorker(self.ns.name)
        cleanup.push(f"worker {self.worker.pid}", self.worker.kill)
        self.tmp = Path(tempfile.mkdtemp(prefix="rdbgp-"))
        cleanup.push(f"rm {self.tmp}", lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        self.run_dir = str(self.tmp / "gobgp")
        cleanup.push("gobgpd", lambda: self.call(stop, self.run_dir))

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.worker.call(fn, *args, **kwargs)


@pytest.fixture
def speaker() -> Iterator[Speaker]:
    """Name: speaker / Scope: function / Depends: none. A namespace to run gobgpd in."""
    cleanup = Cleanup()
    s = Speaker(cleanup)
    try:
        yield s
    finally:
        errors = cleanup.close()
        assert not errors, errors
        assert not scan_processes([str(s.tmp)]), "gobgpd left running"


def test_start_adopt_and_stop(speaker: Speaker) -> None:
    pid, adopted = speaker.call(ensure, speaker.run_dir)
    assert not adopted and process_start_time(pid) is not None
    run = Path(speaker.run_dir)
    assert (run / "gobgpd.sock").exists() and (run / "gobgpd.log").exists()
    assert oct(run.stat().st_mode & 0o777) == "0o700"
    assert speaker.call(ensure, speaker.run_dir) == (pid, True)

    (run / "gobgpd.pid").unlink()  # the record is lost: the socket's peer is recognised
    assert speaker.call(ensure, speaker.run_dir) == (pid, True)
    assert (run / "gobgpd.pid").exists()

    speaker.call(stop, speaker.run_dir)
    assert process_start_time(pid) is None
    assert not (run / "gobgpd.sock").exists() and not (run / "gobgpd.pid").exists()
    speaker.call(stop, speaker.run_dir)  # stopping twice is fine


def test_a_killed_daemon_is_replaced_despite_its_stale_socket(speaker: Speaker) -> None:
    pid, _ = speaker.call(ensure, speaker.run_dir)
    os.kill(pid, signal.SIGKILL)
    assert (Path(speaker.run_dir) / "gobgpd.sock").exists()
    new, adopted = speaker.call(ensure, speaker.run_dir)
    assert new != pid and not adopted and process_start_time(new) is not None


def stopped(pid: int) -> str | None:
    """None once every thread of the process is stopped (SIGSTOP takes them one by one)."""
    tasks = Path(f"/proc/{pid}/task")
    states = [(t / "stat").read_text().rsplit(")", 1)[1].split()[0] for t in tasks.iterdir()]
    return None if set(states) == {"T"} else f"thread states {sorted(states)}"


def test_a_hung_daemon_is_replaced(speaker: Speaker) -> None:
    pid, _ = speaker.call(ensure, speaker.run_dir)
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: stopped(pid), timeout=5, interval=0.01, what="gobgpd stopped")
    new, adopted = speaker.call(ensure, speaker.run_dir, 1.0)
    assert new != pid and not adopted
    assert process_start_time(pid) is None, "the hung daemon was killed, by PID"


def test_applying_the_same_settings_twice_changes_nothing(speaker: Speaker) -> None:
    speaker.call(ensure, speaker.run_dir)
    rr = Neighbor("10.99.0.1", description="reflector")
    direct = Neighbor("10.99.0.31", description="site 3", passive=True)
    wanted = SpeakerSettings(65000, 1, "10.99.0.11", "10.99.0.11", neighbors=(rr, direct))
    first = speaker.call(apply, speaker.run_dir, wanted)
    assert first.fresh and first.added == ("10.99.0.1", "10.99.0.31")
    assert speaker.call(apply, speaker.run_dir, wanted) == configure.Applied(False)
    # every field routerd sets is compared: a changed timer re-adds that neighbor only
    changed = SpeakerSettings(
        65000, 1, "10.99.0.11", "10.99.0.11", neighbors=(rr, Neighbor("10.99.0.31", hold_time=30))
    )
    assert speaker.call(apply, speaker.run_dir, changed) == configure.Applied(
        False, ("10.99.0.31",), ("10.99.0.31",)
    )
    all_addresses = SpeakerSettings(65000, 1, "10.99.0.11", neighbors=(rr,))
    assert speaker.call(apply, speaker.run_dir, all_addresses).fresh
    assert speaker.call(apply, speaker.run_dir, all_addresses) == configure.Applied(False)


def test_a_socket_path_too_long_is_a_clear_error() -> None:
    with pytest.raises(SpeakerError, match="longer than 107 bytes"):
        GobgpdSupervisor(Path("/" + "x" * 120))


def open_without_gobgpd(run_dir: str) -> dict[str, Any]:
    """An exchange whose gobgpd cannot start: no exception, the view says why."""
    from routerd.bgp.gobgp import GobgpExchange
    from routerd.core.exchange import ImportPolicy, Origination

    sup = GobgpdSupervisor(Path(run_dir), binary="/nonexistent/gobgpd", ready_timeout=2)
    settings = SpeakerSettings(65000, 1, "10.99.0.11", neighbors=(Neighbor("10.99.0.1"),))
    ex = GobgpExchange(settings, ImportPolicy(65000, ("10.77.0.0/16",), {}), sup)
    ex.start(lambda: None)
    try:
        view = ex.view()
        errors = ex.sync({"10.77.0.5": Origination("10.77.0.5", 1, 1, "10.99.0.11")})
        return {
            "connected": view.connected,
            "error": view.error,
            "sessions": dict(view.sessions),
            "sync": errors,
        }
    finally:
        ex.close(cleanup=True)


def test_an_exchange_without_a_speaker_reports_it_and_keeps_running(speaker: Speaker) -> None:
    got = speaker.call(open_without_gobgpd, speaker.run_dir)
    assert got["connected"] is False
    assert "did not answer" in got["error"] and "gobgpd.log" in got["error"], got["error"]
    assert got["sessions"]["10.99.0.1"].state == "unknown"
    assert len(got["sync"]) == 1 and got["sync"][0].startswith("gobgpd not ready"), got["sync"]
    log = (Path(speaker.run_dir) / "gobgpd.log").read_text()
    assert "/nonexistent/gobgpd" in log, "the launch failure is in the log the error names"
