"""ClaimService over a real socket: list/get, history, and watch ordering, resume and lag."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest

from routerd.api.errors import RESUME_SEQ_KEY
from routerd.core.events import EventBus
from routerd.core.lifecycle import TransitionRecord
from routerd.v1 import claims_pb2, claims_pb2_grpc
from tests.integration.api.harness import Served, make_daemon, serve
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration

CLAIM = "cloud-vm-21"
ROUTE = ("route", "254", "10.40.8.21/32")


def stub(served: Served) -> claims_pb2_grpc.ClaimServiceStub:
    return served.stub(claims_pb2_grpc.ClaimServiceStub)


def journal_seqs(served: Served, after: int) -> list[int]:
    return [e.seq for e in served.daemon.store.journal(after_seq=after, limit=1_000_000)]


def drift(served: Served) -> None:
    """Delete the claim's delivery route on the host: degraded, then healed, on the engine."""
    served.on_engine(lambda: served.host.delete(ROUTE))


class Collector:
    """Reads one watch stream on a thread, remembering events and how it ended."""

    def __init__(self, call: Iterator[claims_pb2.ClaimEvent]) -> None:
        self.call = call
        self.events: list[claims_pb2.ClaimEvent] = []
        self.error: grpc.RpcError | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for e in self.call:
                self.events.append(e)
        except grpc.RpcError as e:
            self.error = e

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.events]


def test_list_and_get_show_the_engine_view(served):
    resp = stub(served).ListClaims(claims_pb2.ListClaimsRequest())
    assert [c.name for c in resp.claims] == [CLAIM]
    c = resp.claims[0]
    assert (c.address, c.state, c.tunnel, c.peer, c.domain) == (
        "10.40.8.21/32",
        "verified",
        "wg-sam",
        "cloud-a",
        "edge-lan",
    )
    assert c.mss == served.daemon.engine.snapshot.claims[CLAIM].intent.mss
    one = stub(served).GetClaim(claims_pb2.GetClaimRequest(name=CLAIM))
    assert one == c


def test_unknown_claim_is_not_found_naming_the_known_ones(served):
    with pytest.raises(grpc.RpcError) as e:
        stub(served).GetClaim(claims_pb2.GetClaimRequest(name="nope"))
    assert e.value.code() is grpc.StatusCode.NOT_FOUND
    assert CLAIM in e.value.details()


def test_list_filters_by_state_and_rejects_unknown_states(served):
    none = stub(served).ListClaims(claims_pb2.ListClaimsRequest(state="degraded"))
    assert list(none.claims) == []
    with pytest.raises(grpc.RpcError) as e:
        stub(served).ListClaims(claims_pb2.ListClaimsRequest(state="broken"))
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "verified" in e.value.details()


def test_history_returns_the_journal_of_one_claim(served):
    events = stub(served).ListClaimHistory(claims_pb2.ListClaimHistoryRequest(name=CLAIM)).events
    assert [(e.from_state, e.to_state) for e in events] == [
        ("pending", "captured"),
        ("captured", "delivering"),
        ("delivering", "verified"),
    ]
    assert [e.seq for e in events] == journal_seqs(served, 0)
    with pytest.raises(grpc.RpcError) as err:
        stub(served).ListClaimHistory(claims_pb2.ListClaimHistoryRequest(name="nope"))
    assert err.value.code() is grpc.StatusCode.NOT_FOUND


def test_watch_streams_transitions_in_order_and_resumes_without_gaps(served):
    start = served.daemon.engine.bus.seq
    first = Collector(stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=start)))
    drift(served)
    wait_until(lambda: None if len(first.events) >= 2 else f"{first.seqs}", what="2 events")
    first.call.cancel()  # disconnect mid-way
    first.thread.join(10)
    assert first.seqs == sorted(set(first.seqs))
    last = first.seqs[-1]
    drift(served)  # more transitions while nobody watches
    wait_until(lambda: None if len(journal_seqs(served, last)) >= 2 else "no new transitions")
    resumed = Collector(stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=last)))
    head = lambda: journal_seqs(served, start)  # noqa: E731
    wait_until(
        lambda: (
            None
            if first.seqs[: first.seqs.index(last) + 1] + resumed.seqs == head()
            else f"seen {first.seqs}+{resumed.seqs} journal {head()}"
        ),
        what="every transition exactly once",
    )
    resumed.call.cancel()
    journal = {e.seq: e for e in served.daemon.store.journal(after_seq=start)}
    for e in resumed.events:
        j = journal[e.seq]
        assert (e.claim, e.from_state, e.to_state, e.reason) == (
            j.claim,
            j.from_state,
            j.to_state,
            j.reason,
        )


def test_twenty_concurrent_watchers_each_get_every_event(served):
    start = served.daemon.engine.bus.seq
    watchers = [
        Collector(stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=start)))
        for _ in range(20)
    ]
    bus = served.daemon.engine.bus
    wait_until(lambda: None if bus.subscribers >= 20 else f"{bus.subscribers} subscribed")
    drift(served)
    wait_until(lambda: None if len(journal_seqs(served, start)) >= 2 else "no transitions")
    drift(served)

    def all_seen() -> str | None:
        want = journal_seqs(served, start)
        behind = [i for i, w in enumerate(watchers) if w.seqs != want]
        return None if len(want) >= 4 and not behind else f"journal {want}, behind {behind}"

    wait_until(all_seen, what="all 20 watchers caught up")
    for w in watchers:
        w.call.cancel()


def test_watch_without_since_starts_at_the_head(served):
    head = served.daemon.engine.bus.seq
    w = Collector(stub(served).WatchClaims(claims_pb2.WatchClaimsRequest()))
    bus = served.daemon.engine.bus
    wait_until(lambda: None if bus.subscribers >= 1 else "not subscribed")
    drift(served)
    wait_until(lambda: None if w.events else "nothing yet")
    w.call.cancel()
    assert w.seqs[0] == head + 1


def test_resume_ahead_of_the_journal_is_out_of_range(served):
    ahead = served.daemon.engine.bus.seq + 100
    call = stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=ahead))
    with pytest.raises(grpc.RpcError) as e:
        list(call)
    assert e.value.code() is grpc.StatusCode.OUT_OF_RANGE


def _records(n: int) -> list[TransitionRecord]:
    return [
        TransitionRecord("lag-probe", "10.9.9.9/32", "pending", "captured", "capture", "", "", 1.0)
        for _ in range(n)
    ]


def test_lagging_watcher_is_told_to_resume_and_never_blocks_the_publisher(
    tmp_path, sockdir, monkeypatch
):
    daemon, host = make_daemon(tmp_path, str(sockdir / "run" / "routerd.sock"), monkeypatch)
    daemon.engine.bus = EventBus(daemon.store, buffer=64)
    served = serve(daemon, host, tmp_path)
    try:
        bus = daemon.engine.bus
        start = bus.seq
        call = stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=start))
        wait_until(lambda: None if bus.subscribers == 1 else "not subscribed")
        # The watcher reads nothing while 20,000 transitions are published in small batches.
        publisher = threading.Thread(
            target=lambda: [bus.publish(_records(10), 1) for _ in range(2000)], daemon=True
        )
        publisher.start()
        publisher.join(60)
        assert not publisher.is_alive(), "publishing blocked on a watcher that does not read"
        head = bus.seq
        assert head == start + 20_000

        got: list[int] = []
        with pytest.raises(grpc.RpcError) as e:
            for ev in call:
                got.append(ev.seq)
        assert e.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        resume = dict(e.value.trailing_metadata())[RESUME_SEQ_KEY]
        assert got == list(range(start + 1, int(resume) + 1))
        assert f"since_seq={resume}" in e.value.details()

        rest = stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=int(resume)))
        for ev in rest:
            got.append(ev.seq)
            if ev.seq == head:
                rest.cancel()
                break
        assert got == list(range(start + 1, head + 1))
    finally:
        served.close()


def test_shutdown_ends_watches_with_a_resume_point(served):
    start = served.daemon.engine.bus.seq
    w = Collector(stub(served).WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=start)))
    bus = served.daemon.engine.bus
    wait_until(lambda: None if bus.subscribers >= 1 else "not subscribed")
    served.stop_api()
    w.thread.join(10)
    assert not w.thread.is_alive()
    assert w.error is not None and w.error.code() is grpc.StatusCode.UNAVAILABLE
    assert dict(w.error.trailing_metadata())[RESUME_SEQ_KEY] == str(start)
