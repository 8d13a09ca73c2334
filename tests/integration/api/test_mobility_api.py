"""MobilityService over a real gRPC channel: every RPC, every refusal, the watch's guarantees.

The daemon is the harness's real one (API server, engine, store); its ``mobility`` port is a
``FakeMobility`` set on it, as the daemon sets its controller's port. Errors are asserted by
status code *and* by the field path or remedy in the message, since both are the contract.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from routerd.api import mobility_watch
from routerd.api.errors import REASON_KEY, RESUME_SEQ_KEY
from routerd.api.mobility_port import Conflict
from routerd.api.server import ApiServer
from routerd.cli.ctl_output import to_data
from routerd.v1 import mobility_pb2 as pb
from routerd.v1 import mobility_pb2_grpc
from tests.integration.api.harness import Served
from tests.support.fake_mobility import FakeMobility
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration

Code = grpc.StatusCode


@pytest.fixture
def fake(served: Served) -> FakeMobility:
    """Name: fake / Scope: function / Depends: served. The daemon's mobility port."""
    port = FakeMobility()
    served.daemon.mobility = port  # type: ignore[attr-defined]
    return port


@pytest.fixture
def stub(served: Served) -> mobility_pb2_grpc.MobilityServiceStub:
    """Name: stub / Scope: function / Depends: served. A MobilityService client."""
    return served.stub(mobility_pb2_grpc.MobilityServiceStub)


def fails(call, request, code: Code, *needles: str, **kw) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=10, **kw)
    err = info.value
    assert err.code() is code, (err.code(), err.details())
    for needle in needles:
        assert needle in err.details(), (needle, err.details())
    return err


def metadata(err: grpc.RpcError) -> dict[str, str]:
    return dict(err.trailing_metadata() or ())


# -- not configured ------------------------------------------------------------------------


def test_every_rpc_names_what_to_configure_on_a_router_without_mobility(served, stub):
    calls = [
        (stub.MoveAddress, pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a")),
        (stub.WhereIs, pb.WhereIsRequest(address="10.40.8.21")),
        (stub.ListHomes, pb.ListHomesRequest()),
        (stub.Pin, pb.PinRequest(address="10.40.8.21", site="site-a")),
        (stub.Unpin, pb.UnpinRequest(address="10.40.8.21")),
        (stub.History, pb.MoveHistoryRequest()),
    ]
    for call, request in calls:
        fails(call, request, Code.FAILED_PRECONDITION, "AddressMobilityDomain.spec.mobility")
    with pytest.raises(grpc.RpcError) as info:
        list(stub.WatchHomes(pb.WatchHomesRequest(), timeout=10))
    assert info.value.code() is Code.FAILED_PRECONDITION
    assert "mobility is not configured on this router" in info.value.details()


def test_the_service_is_healthy_and_starts_answering_once_mobility_appears(served, stub):
    health = health_pb2_grpc.HealthStub(served.channel())
    req = health_pb2.HealthCheckRequest(service="routerd.v1.MobilityService")
    assert health.Check(req, timeout=10).status == health_pb2.HealthCheckResponse.SERVING
    fails(stub.ListHomes, pb.ListHomesRequest(), Code.FAILED_PRECONDITION)
    served.daemon.mobility = FakeMobility()  # a reload that adds mobility: no API restart
    assert stub.ListHomes(pb.ListHomesRequest(), timeout=10).homes == []


# -- MoveAddress ---------------------------------------------------------------------------


def test_a_move_here_answers_moved_with_the_sequence_above_every_one_seen(fake, stub):
    fake.learn("10.40.8.21", "site-b", 4)
    resp = stub.MoveAddress(
        pb.MoveAddressRequest(addresses=["10.40.8.21/32"], to_site="site-a", cause="cutover"),
        timeout=10,
    )
    (r,) = resp.results
    assert (r.address, r.accepted, r.status, r.sequence) == ("10.40.8.21", True, "moved", 5)
    last = fake.journal[-1]
    assert (last.from_site, last.to_site, last.cause, last.evidence) == (
        "site-b",
        "site-a",
        "explicit",
        "cutover",
    )
    assert fake.calls[0] == ("move", (("10.40.8.21",), "site-a", "cutover", False))


def test_a_move_lists_each_address_once_in_the_order_asked(fake, stub):
    addrs = ["10.40.8.23", "10.40.8.21", "10.40.8.23/32", "10.40.8.22"]
    resp = stub.MoveAddress(pb.MoveAddressRequest(addresses=addrs, to_site="site-a"), timeout=10)
    assert [r.address for r in resp.results] == ["10.40.8.23", "10.40.8.21", "10.40.8.22"]
    assert {r.status for r in resp.results} == {"moved"}


def test_moving_an_address_already_home_changes_nothing(fake, stub):
    fake.set_home("10.40.8.21", "site-a", 3, "presence", "garp from 52:54:00:00:00:21")
    before = list(fake.journal)
    req = pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a")
    (r,) = stub.MoveAddress(req, timeout=10).results
    assert (r.status, r.sequence, r.accepted) == ("already-home", 3, True)
    assert fake.journal == before


def test_a_move_with_one_refused_address_moves_nothing_and_names_each_refusal(fake, stub):
    fake.pins["10.40.8.22"] = fake.pin("10.40.8.22", "site-b", "maintenance")
    req = pb.MoveAddressRequest(
        addresses=["10.40.8.21", "10.40.8.22", "10.40.8.30", "192.0.2.9"], to_site="site-a"
    )
    err = fails(
        stub.MoveAddress,
        req,
        Code.FAILED_PRECONDITION,
        "nothing was moved (a move is all or none): 3 of 4 addresses refused",
        "addresses[1] 10.40.8.22 [pinned]: pinned at site-b: routerctl unpin 10.40.8.22",
        "addresses[2] 10.40.8.30 [pinned-by-config]: pinned at site-c by "
        "RemoteAddressClaim/legacy-db",
        "addresses[3] 192.0.2.9 [not-mobile]: 192.0.2.9 is not a mobile address",
    )
    assert metadata(err)[REASON_KEY] == "not-mobile,pinned,pinned-by-config"
    assert fake.queue == [] and fake.journal == []


@pytest.mark.parametrize(
    ("site", "code", "reason", "needle"),
    [
        ("site-b", Code.FAILED_PRECONDITION, "remote-site", "call MoveAddress on site-b's router"),
        ("site-x", Code.INVALID_ARGUMENT, "unknown-site", "'site-x' is not a site of domain lab"),
    ],
)
def test_a_move_to_a_site_that_is_not_ours_is_refused(fake, stub, site, code, reason, needle):
    req = pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site=site)
    err = fails(stub.MoveAddress, req, code, needle, f"[{reason}]")
    assert metadata(err)[REASON_KEY] == reason
    assert fake.journal == []


def test_a_port_that_is_not_ready_answers_unavailable_with_its_reason(fake, stub):
    fake.refuse = "not-ready"
    req = pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a")
    err = fails(stub.MoveAddress, req, Code.UNAVAILABLE, "refused by the test")
    assert metadata(err)[REASON_KEY] == "not-ready"
    fails(stub.WhereIs, pb.WhereIsRequest(address="10.40.8.21"), Code.UNAVAILABLE)


def test_a_dry_run_reports_refusals_as_results_and_moves_nothing(fake, stub):
    req = pb.MoveAddressRequest(
        addresses=["10.40.8.21", "10.40.8.30"], to_site="site-a", dry_run=True
    )
    ok, refused = stub.MoveAddress(req, timeout=10).results
    assert (ok.status, ok.accepted) == ("would-move", True)
    assert (refused.status, refused.accepted, refused.reason) == (
        "refused",
        False,
        "pinned-by-config",
    )
    assert fake.queue == [] and fake.journal == []


def test_no_wait_answers_queued_and_the_move_lands_with_the_next_step(fake, stub):
    fake.auto_apply = False
    req = pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a", no_wait=True)
    (r,) = stub.MoveAddress(req, timeout=10).results
    assert (r.status, r.accepted, r.sequence) == ("queued", True, 0)
    assert fake.journal == []
    fake.apply()
    assert fake.where("10.40.8.21").originating


def test_a_move_waits_for_the_step_that_originates_it(fake, stub):
    fake.auto_apply = False
    timer = threading.Timer(0.3, fake.apply)
    timer.start()
    try:
        started = time.monotonic()
        req = pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a")
        (r,) = stub.MoveAddress(req, timeout=10).results
    finally:
        timer.cancel()
    assert (r.status, r.sequence) == ("moved", 1)
    assert time.monotonic() - started >= 0.25


def test_a_move_not_originated_within_the_deadline_answers_queued_in_time(fake, stub):
    fake.auto_apply = False
    req = pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a")
    (r,) = stub.MoveAddress(req, timeout=3).results  # an answer, not DEADLINE_EXCEEDED
    assert r.status == "queued" and "routerctl where 10.40.8.21" in r.message
    assert fake.queue == [("10.40.8.21", "")]


@pytest.mark.parametrize(
    ("request_", "needle"),
    [
        (pb.MoveAddressRequest(to_site="site-a"), "addresses: name at least one address"),
        (
            pb.MoveAddressRequest(addresses=["10.40.8.21", "10.40.8.300"], to_site="site-a"),
            "addresses[1]: '10.40.8.300' is not an IPv4 address",
        ),
        (
            pb.MoveAddressRequest(addresses=["10.40.8.0/24"], to_site="site-a"),
            "addresses[0]: '10.40.8.0/24' is not one address",
        ),
        (
            pb.MoveAddressRequest(addresses=["fd00::21"], to_site="site-a"),
            "addresses[0]: 'fd00::21' is IPv6",
        ),
        (pb.MoveAddressRequest(addresses=["10.40.8.21"]), "to_site: required"),
        (
            pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site a"),
            "to_site: 'site a' is not a name",
        ),
        (
            pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a", cause="a\nb"),
            "cause: must be one line",
        ),
        (
            pb.MoveAddressRequest(addresses=["10.40.8.21"], to_site="site-a", cause="x" * 300),
            "cause: 300 characters",
        ),
    ],
)
def test_a_malformed_move_is_invalid_argument_with_the_field_path(fake, stub, request_, needle):
    fails(stub.MoveAddress, request_, Code.INVALID_ARGUMENT, needle)
    assert fake.calls == []  # refused before the port was asked


def test_more_than_ten_thousand_addresses_are_refused_before_the_port(fake, stub):
    addrs = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(10_001)]
    req = pb.MoveAddressRequest(addresses=addrs, to_site="site-a")
    fails(stub.MoveAddress, req, Code.INVALID_ARGUMENT, "at most 10000 addresses per call")
    assert fake.calls == []


# -- WhereIs, ListHomes --------------------------------------------------------------------


def test_where_shows_home_sequence_since_and_evidence(fake, stub):
    fake.learn("10.40.8.21", "site-b", 7, peer="10.255.0.2")
    home = stub.WhereIs(pb.WhereIsRequest(address="10.40.8.21"), timeout=10)
    data = to_data(home)
    assert {"address", "home", "sequence", "since", "evidence"} <= set(data)
    assert (data["address"], data["home"], data["sequence"]) == ("10.40.8.21", "site-b", 7)
    assert (data["state"], data["origin"], data["localSite"]) == ("remote", "bgp", "site-a")
    assert data["evidence"]["kind"] == "bgp" and data["evidence"]["peer"] == "10.255.0.2"
    assert data["since"].endswith("Z")


def test_where_of_an_address_never_seen_is_unknown_and_shows_its_pin(fake, stub):
    home = stub.WhereIs(pb.WhereIsRequest(address="10.40.8.30"), timeout=10)
    assert (home.home, home.state, home.sequence, home.HasField("since")) == (
        "",
        "unknown",
        0,
        False,
    )
    assert (home.pin.site, home.pin.claim) == ("site-c", "legacy-db")


def test_where_refuses_an_address_outside_every_mobile_domain(fake, stub):
    err = fails(
        stub.WhereIs,
        pb.WhereIsRequest(address="192.0.2.9"),
        Code.FAILED_PRECONDITION,
        "mobile domains: lab 10.40.8.0/24",
    )
    assert metadata(err)[REASON_KEY] == "not-mobile"
    fails(stub.WhereIs, pb.WhereIsRequest(address="nowhere"), Code.INVALID_ARGUMENT, "address: ")


def test_list_homes_filters_by_domain_and_state(fake, stub):
    fake.learn("10.40.8.22", "site-b", 2)
    fake.set_home("10.40.8.21", "site-a", 1, "presence", "garp")
    tie = Conflict("tie", "site-b and site-c both at 3", "stop one")
    fake.set_home("10.40.8.23", "site-b", 3, "bgp", conflicts=(tie,))
    fake.set_home("10.40.8.24", "site-c", 3, "bgp", stale_until=2e9)
    homes = stub.ListHomes(pb.ListHomesRequest(domain="lab"), timeout=10).homes
    assert [(h.address, h.state) for h in homes] == [
        ("10.40.8.21", "local"),
        ("10.40.8.22", "remote"),
        ("10.40.8.23", "conflict"),
        ("10.40.8.24", "stale"),
    ]
    (c,) = stub.ListHomes(pb.ListHomesRequest(state="conflict"), timeout=10).homes
    assert (c.address, c.conflicts[0].code, c.conflicts[0].remedy) == (
        "10.40.8.23",
        "tie",
        "stop one",
    )
    fails(stub.ListHomes, pb.ListHomesRequest(state="lost"), Code.INVALID_ARGUMENT, "state: 'lost'")
    err = fails(
        stub.ListHomes, pb.ListHomesRequest(domain="edge"), Code.NOT_FOUND, "domain: no mobile"
    )
    assert metadata(err)[REASON_KEY] == "unknown-domain"


# -- Pin, Unpin ----------------------------------------------------------------------------


def test_pin_is_idempotent_and_unpin_of_nothing_is_not_an_error(fake, stub):
    req = pb.PinRequest(address="10.40.8.21", site="site-b", cause="db maintenance")
    first = stub.Pin(req, timeout=10)
    assert first.changed and (first.pin.site, first.pin.cause) == ("site-b", "db maintenance")
    assert first.pin.HasField("since")
    assert not stub.Pin(req, timeout=10).changed
    assert stub.Pin(pb.PinRequest(address="10.40.8.21", site="site-a"), timeout=10).changed
    assert stub.WhereIs(pb.WhereIsRequest(address="10.40.8.21"), timeout=10).pin.site == "site-a"
    unpin = pb.UnpinRequest(address="10.40.8.21/32")
    assert stub.Unpin(unpin, timeout=10) == pb.UnpinResponse(address="10.40.8.21", removed=True)
    assert not stub.Unpin(unpin, timeout=10).removed


def test_pins_refused_with_field_paths_and_what_to_do(fake, stub):
    fails(stub.Pin, pb.PinRequest(address="10.40.8.21"), Code.INVALID_ARGUMENT, "site: required")
    fails(
        stub.Pin,
        pb.PinRequest(address="10.40.8.21", site="mars"),
        Code.INVALID_ARGUMENT,
        "site: 'mars' is not a site of domain lab",
    )
    fails(
        stub.Pin,
        pb.PinRequest(address="10.40.8.30", site="site-a"),
        Code.FAILED_PRECONDITION,
        "RemoteAddressClaim/legacy-db",
        "edit the config",
    )
    fails(
        stub.Unpin,
        pb.UnpinRequest(address="10.40.8.30"),
        Code.FAILED_PRECONDITION,
        "remove that claim",
    )


# -- History -------------------------------------------------------------------------------


def test_history_of_an_address_a_domain_and_after_a_sequence(fake, stub):
    fake.learn("10.40.8.21", "site-b", 1)
    fake.learn("10.40.8.22", "site-b", 1)
    fake.learn("10.40.8.21", "site-c", 2)
    moves = stub.History(pb.MoveHistoryRequest(address="10.40.8.21"), timeout=10).moves
    assert [(m.seq, m.from_site, m.to_site, m.sequence) for m in moves] == [
        (1, "", "site-b", 1),
        (3, "site-b", "site-c", 2),
    ]
    assert all(m.cause == "bgp" and m.at.seconds > 0 for m in moves)
    every = stub.History(pb.MoveHistoryRequest(domain="lab", after_seq=1, limit=1), timeout=10)
    assert [m.seq for m in every.moves] == [2]
    assert stub.History(pb.MoveHistoryRequest(domain="gone"), timeout=10).moves == []
    fails(stub.History, pb.MoveHistoryRequest(limit=20_000), Code.INVALID_ARGUMENT, "limit: ")
    fails(stub.History, pb.MoveHistoryRequest(after_seq=-1), Code.INVALID_ARGUMENT, "after_seq")


# -- WatchHomes ----------------------------------------------------------------------------


def collect(stream: Iterator[pb.MoveRecord], n: int) -> list[int]:
    out = []
    for r in stream:
        out.append(r.seq)
        if len(out) == n:
            break
    return out


def test_watch_replays_then_follows_and_resumes_without_gaps_or_duplicates(fake, stub):
    for i in range(5):
        fake.learn(f"10.40.8.{20 + i}", "site-b", 1)
    call = stub.WatchHomes(pb.WatchHomesRequest(since_seq=0), timeout=30)
    assert collect(call, 3) == [1, 2, 3]
    call.cancel()
    call = stub.WatchHomes(pb.WatchHomesRequest(since_seq=3), timeout=30)
    threading.Timer(0.2, fake.learn, ("10.40.8.40", "site-c", 9)).start()
    assert collect(call, 3) == [4, 5, 6]
    call.cancel()
    only_new = stub.WatchHomes(pb.WatchHomesRequest(), timeout=30)
    threading.Timer(0.2, fake.learn, ("10.40.8.41", "site-c", 9)).start()
    first = next(only_new)
    only_new.cancel()
    assert (first.seq, first.address, first.to_site) == (7, "10.40.8.41", "site-c")


def test_a_filtered_watch_sees_only_its_address_and_keeps_global_sequences(fake, stub):
    fake.learn("10.40.8.21", "site-b", 1)
    fake.learn("10.40.8.22", "site-b", 1)
    fake.learn("10.40.8.21", "site-c", 2)
    call = stub.WatchHomes(pb.WatchHomesRequest(since_seq=0, address="10.40.8.21"), timeout=30)
    got = [(r.seq, r.to_site) for _, r in zip(range(2), call, strict=False)]
    call.cancel()
    assert got == [(1, "site-b"), (3, "site-c")]


def test_twenty_concurrent_watchers_each_see_every_move_once_in_order(fake, stub, served):
    total = 200
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def watch(i: int) -> None:
        req = pb.WatchHomesRequest(since_seq=0) if i % 2 else pb.WatchHomesRequest()
        call = stub.WatchHomes(req, timeout=60)
        got = results[i] = []
        try:
            for r in call:
                got.append(r.seq)
                if r.seq == total:
                    break
        except grpc.RpcError as e:
            errors.append(e)
        finally:
            call.cancel()

    fake.learn("10.40.8.1", "site-b", 1)
    threads = {i: threading.Thread(target=watch, args=(i,)) for i in range(20)}
    for i in range(0, 20, 2):  # "new moves only": connected before the moves start
        threads[i].start()
    slots = api_of(served).mobility.slots
    wait_until(lambda: None if slots.used == 10 else f"{slots.used} watching", what="watchers")
    for i in range(1, 20, 2):  # from the journal's start: they join while moves land
        threads[i].start()
    for n in range(2, total + 1):
        fake.learn(f"10.40.8.{n % 200 + 2}", "site-b" if n % 2 else "site-c", n)
        if n % 50 == 0:
            time.sleep(0.05)
    for t in threads.values():
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads.values())
    for i, got in results.items():
        want = list(range(1 if i % 2 else 2, total + 1))
        assert got == want, i


def test_the_watch_cap_refuses_one_more_and_frees_its_slot(fake, stub, monkeypatch, served):
    api_slots = api_of(served).mobility.slots
    monkeypatch.setattr(api_slots, "limit", 2)
    held = [stub.WatchHomes(pb.WatchHomesRequest(), timeout=30) for _ in range(2)]
    wait_until(lambda: None if api_slots.used == 2 else f"{api_slots.used} used", what="slots")
    with pytest.raises(grpc.RpcError) as info:
        next(stub.WatchHomes(pb.WatchHomesRequest(), timeout=10))
    assert info.value.code() is Code.RESOURCE_EXHAUSTED and "too many home watchers (2)" in (
        info.value.details()
    )
    held[0].cancel()
    wait_until(lambda: None if api_slots.used == 1 else f"{api_slots.used} used", what="freed")
    held[1].cancel()


def api_of(served: Served) -> ApiServer:
    """The ApiServer behind the harness (``stop_api`` is its bound ``stop``)."""
    api: ApiServer = served.stop_api.__self__  # type: ignore[attr-defined]
    return api


def test_a_watch_ahead_of_the_journal_is_out_of_range(fake, stub):
    fake.learn("10.40.8.21", "site-b", 1)
    with pytest.raises(grpc.RpcError) as info:
        next(stub.WatchHomes(pb.WatchHomesRequest(since_seq=5), timeout=10))
    assert info.value.code() is Code.OUT_OF_RANGE and "newest 1" in info.value.details()


def test_a_watch_ends_with_its_resume_point_when_mobility_is_removed(fake, stub, served):
    fake.learn("10.40.8.21", "site-b", 1)
    call = stub.WatchHomes(pb.WatchHomesRequest(since_seq=0), timeout=30)
    assert next(call).seq == 1
    served.daemon.mobility = None  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as info:
        next(call)
    assert info.value.code() is Code.FAILED_PRECONDITION
    assert metadata(info.value)[RESUME_SEQ_KEY] == "1"
    assert "routerctl watch homes --since 1" in info.value.details()


def test_a_watch_ends_with_its_resume_point_when_routerd_stops(fake, stub, served):
    fake.learn("10.40.8.21", "site-b", 1)
    fake.learn("10.40.8.22", "site-b", 1)
    call = stub.WatchHomes(pb.WatchHomesRequest(since_seq=0), timeout=30)
    assert collect(call, 2) == [1, 2]
    started = time.monotonic()
    served.stop_api()
    with pytest.raises(grpc.RpcError) as info:
        next(call)
    assert time.monotonic() - started < mobility_watch.POLL + 5
    assert info.value.code() is Code.UNAVAILABLE
    assert metadata(info.value)[RESUME_SEQ_KEY] == "2"
