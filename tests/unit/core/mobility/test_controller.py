"""The controller: deltas cost what changed, requests, restarts, store failures, views."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from routerd.core.config import RouterConfig
from routerd.core.exchange import ExchangeView, LearnedPath, Origination
from routerd.core.mobility import controller as controller_module
from routerd.core.mobility.controller import MobilityController
from routerd.core.mobility.gateway import gateway_ifname
from routerd.core.mobility.port import MemoryMobilityStore
from routerd.core.mobility.records import PresenceFact
from routerd.core.mobility.requests import MobilityError
from routerd.core.resources import RemoteAddressClaim
from routerd.core.validation import validate_config
from routerd.state.store import Store
from tests.unit.core.mobility.kit import A, absent, config, down, path, present, up

B = "10.77.3.10"
PIN = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {name: pinned-vm}
      spec:
        domainRef: lab
        address: 10.77.3.99/32
        ownerSide: onprem
        capture: {type: proxy-arp, interface: lan}
        delivery: {peerRef: site-b}
"""


class Presence:
    def __init__(self) -> None:
        self.facts: dict[str, PresenceFact] = {}

    def fact(self, address: str) -> PresenceFact | None:
        return self.facts.get(address)

    def present(self) -> list[str]:
        return [a for a, f in self.facts.items() if f.state == "present"]


def view(paths: dict[str, tuple[LearnedPath, ...]], sessions=None, connected=True) -> ExchangeView:
    return ExchangeView(
        paths=MappingProxyType(paths),
        sessions=MappingProxyType(up() if sessions is None else sessions),
        originated={},
        connected=connected,
    )


def make(cfg: RouterConfig | None = None, store=None) -> tuple[MobilityController, Presence]:
    return MobilityController(cfg or config("a"), store or MemoryMobilityStore()), Presence()


def test_arrival_originates_journals_and_asks_for_probes() -> None:
    ctl, pres = make()
    pres.facts[A] = present(10.0)
    step = ctl.step(10.0, view({}), pres)
    assert step.error == ""
    assert step.originations is not None and step.originations[A].sequence == 1
    assert [(m.address, m.to_site, m.cause, m.seq) for m in step.moves] == [
        (A, "site-a", "presence", 1)
    ]
    assert step.probing == {"ens19": frozenset({A})}
    assert not step.claims
    assert ctl.store.mobility_load().own[A].sequence == 1  # durable before it is announced
    quiet = ctl.step(11.0, view({}), pres, touched=[])
    assert quiet.originations is None and quiet.probing is None and not quiet.moves


def test_remote_home_becomes_a_valid_derived_claim() -> None:
    ctl, pres = make()
    step = ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    (claim,) = step.claims.put
    assert claim.name == "mobility.lab.10-77-3-10"
    assert claim.spec.address == f"{B}/32"
    assert claim.spec.delivery.peer_ref == "site-b"
    assert claim.spec.capture.interface == gateway_ifname("lab")  # answers with the gateway MAC
    assert claim.spec.capture.type == "proxy-arp" and claim.spec.capture.gratuitous_arp
    assert claim.spec.owner_side == "onprem"
    base = config("a")
    errors, warnings = validate_config(RouterConfig.extending(base, [claim]))
    assert errors == []
    # the gateway device is routerd's own, never a declared Interface
    assert [(w.path, gateway_ifname("lab") in w.message) for w in warnings] == [
        ("spec.capture.interface", True)
    ]
    assert claim == RemoteAddressClaim.model_validate(claim.to_doc())
    origin = ctl.claim_origin(claim.name)
    assert origin is not None and origin.origin.describe() == "bgp site-b seq 3 via 10.255.0.1"


def test_cloud_home_claim_is_owned_by_the_cloud_side() -> None:
    ctl, pres = make()
    (claim,) = ctl.step(1.0, view({B: (path(3, 1, address=B),)}), pres).claims.put
    assert (claim.spec.owner_side, claim.spec.delivery.peer_ref) == ("cloud", "site-c")


def test_one_changed_path_among_many_decides_one_address(monkeypatch) -> None:
    ctl, pres = make()
    paths = {
        f"10.77.{i // 200}.{i % 200 + 10}": (
            path(2, 1, address=f"10.77.{i // 200}.{i % 200 + 10}"),
        )
        for i in range(2000)
    }
    first = ctl.step(1.0, view(paths), pres)
    assert len(first.claims.put) == 2000
    calls = []
    real = controller_module.decide

    def counting(address, *args):
        calls.append(address)
        return real(address, *args)

    monkeypatch.setattr(controller_module, "decide", counting)
    moved = dict(paths)
    moved["10.77.0.10"] = (path(3, 2, address="10.77.0.10"),)
    step = ctl.step(2.0, view(moved), pres, touched=[])
    assert calls == ["10.77.0.10"]
    assert [c.name for c in step.claims.put] == ["mobility.lab.10-77-0-10"]
    assert step.claims.removed == () and step.homes_changed == ("10.77.0.10",)
    assert step.claims.put[0].spec.delivery.peer_ref == "site-c"


def test_a_new_sequence_for_the_same_home_changes_no_claim() -> None:
    ctl, pres = make()
    ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    step = ctl.step(2.0, view({B: (path(2, 4, address=B),)}), pres, touched=[])
    assert not step.claims
    origin = ctl.claim_origin("mobility.lab.10-77-3-10")
    assert origin is not None and origin.origin.sequence == 4


def test_withdrawal_removes_the_claim() -> None:
    ctl, pres = make()
    ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    step = ctl.step(2.0, view({}), pres, touched=[])
    assert step.claims.removed == ("mobility.lab.10-77-3-10",) and step.claims.put == ()
    assert [m.cause for m in step.moves] == ["withdrawn"]


def test_higher_remote_sequence_withdraws_and_derives_a_claim_in_one_step() -> None:
    ctl, pres = make()
    pres.facts[A] = present(1.0)
    ctl.step(1.0, view({}), pres)
    step = ctl.step(2.0, view({A: (path(2, 2),)}), pres, touched=[])
    assert step.originations is not None and A not in step.originations
    assert [c.name for c in step.claims.put] == ["mobility.lab.10-77-3-9"]
    assert step.probing is None  # still probed: present but stale, a probe settles it
    assert ctl.probing() == {"ens19": frozenset({A})}


def test_stale_home_expires_by_its_timer() -> None:
    ctl, pres = make()
    ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    step = ctl.step(5.0, view({}, sessions=down()), pres, touched=[])
    assert not step.claims  # kept (traffic keeps flowing)
    name = "mobility.lab.10-77-3-10"
    verdict = ctl.far_end(name)
    assert verdict is not None and verdict.reason == "home-unconfirmed"
    assert ctl.home_originating(B) is False
    assert step.next_wake == 5.0 + 120.0
    assert not ctl.step(60.0, view({}, sessions=down()), pres, touched=[]).claims
    gone = ctl.step(125.0, view({}, sessions=down()), pres, touched=[])
    assert gone.claims.removed == (name,)
    assert [m.cause for m in gone.moves] == ["stale-expired"]


def test_stale_home_ends_when_its_session_returns_without_the_path() -> None:
    ctl, pres = make()
    ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    ctl.step(5.0, view({}, sessions=down()), pres, touched=[])
    step = ctl.step(6.0, view({}), pres, touched=[])
    assert step.claims.removed == ("mobility.lab.10-77-3-10",)


def test_far_end_verdicts() -> None:
    ctl, pres = make()
    ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    ok = ctl.far_end("mobility.lab.10-77-3-10")
    assert ok is not None and ok.ok and ok.reason == ""
    assert ctl.home_originating(B) is True
    assert ctl.home_originating(A) is None and ctl.far_end("static-claim") is None
    ctl.pin(A, "site-c", "maintenance")
    ctl.step(2.0, view({B: (path(2, 3, address=B),)}), pres, touched=[])
    verdict = ctl.far_end("mobility.lab.10-77-3-9")
    assert verdict is not None and verdict.reason == "home-not-originating"
    assert "pinned at site-c" in verdict.message


# -- requests -------------------------------------------------------------------------------


def test_move_here_originates_with_the_cause_journaled() -> None:
    ctl, pres = make()
    woken = []
    ctl.attach(lambda: woken.append(1))
    ctl.step(1.0, view({A: (path(2, 6),)}), pres)
    assert ctl.move([A], "site-a", "cutover wave 3") == [A]
    assert woken
    step = ctl.step(2.0, view({A: (path(2, 6),)}), pres, touched=[])
    assert step.originations is not None and step.originations[A].sequence == 7
    assert step.claims.removed == ("mobility.lab.10-77-3-9",)
    (move,) = step.moves
    assert (move.from_site, move.to_site, move.cause, move.evidence) == (
        "site-b",
        "site-a",
        "explicit",
        "explicit: cutover wave 3",
    )
    assert ctl.moves(A)[-1].cause == "explicit"


def test_move_to_another_site_names_the_router_to_call() -> None:
    ctl, _ = make()
    with pytest.raises(MobilityError) as err:
        ctl.move([A], "site-b")
    msg = str(err.value)
    assert "this router serves site-a" in msg
    assert "call MoveAddress on site-b's router (10.255.0.21" in msg
    assert err.value.code == "remote-site"


@pytest.mark.parametrize(
    "address,site,expected,code",
    [
        (
            "10.9.9.9",
            "site-a",
            "not a mobile address on this router (mobile domains: lab 10.77.0.0/16",
            "not-mobile",
        ),
        ("10.77.0.1", "site-a", "not a mobile address", "not-mobile"),  # the gateway
        ("10.77.0.2", "site-a", "not a mobile address", "not-mobile"),  # excluded
        ("10.77.0.0", "site-a", "not a mobile address", "not-mobile"),  # network address
        (
            A,
            "site-x",
            "site 'site-x' is not a site of domain lab (sites: site-a, site-b, site-c)",
            "unknown-site",
        ),
    ],
)
def test_bad_moves_say_why(address: str, site: str, expected: str, code: str) -> None:
    ctl, _ = make()
    with pytest.raises(
        MobilityError, match=expected.replace("(", r"\(").replace(")", r"\)")
    ) as err:
        ctl.move([address], site)
    assert err.value.code == code
    with pytest.raises(MobilityError) as err:
        ctl.requests.check_move(address, site)  # the same verdict, one address, nothing queued
    assert err.value.code == code


def test_moves_are_all_or_nothing() -> None:
    ctl, pres = make()
    with pytest.raises(MobilityError):
        ctl.move([A, "10.9.9.9"], "site-a")
    assert ctl.step(1.0, view({}), pres).originations == {}  # nothing was queued
    with pytest.raises(MobilityError, match="no address given"):
        ctl.move([], "site-a")


def test_pin_elsewhere_derives_a_pin_claim_and_unpin_removes_it() -> None:
    ctl, pres = make()
    ctl.step(1.0, view({}), pres)
    pin = ctl.pin(A, "site-b", "db maintenance")
    assert ctl.store.mobility_load().pins[A] == pin  # durable at once
    step = ctl.step(2.0, view({}), pres, touched=[])
    (claim,) = step.claims.put
    origin = ctl.claim_origin(claim.name)
    assert origin is not None and origin.origin.kind == "pin"
    where = ctl.where(A)
    assert where.pin is not None and where.pin.site == "site-b"
    assert where.home is not None and where.home.origin == "pin"
    with pytest.raises(MobilityError, match="pinned at site-b: routerctl unpin first") as err:
        ctl.move([A], "site-a")
    assert err.value.code == "pinned"
    (listed,) = ctl.wheres()
    assert (listed.address, listed.home, listed.pin) == (A, where.home, where.pin)
    assert ctl.wheres("other") == []
    assert ctl.unpin(A) is True
    step = ctl.step(3.0, view({}), pres, touched=[])
    assert step.claims.removed == (claim.name,)
    assert [m.cause for m in step.moves] == ["unpin"]


def test_static_claim_pins_are_config() -> None:
    ctl, pres = make(config("a", PIN))
    step = ctl.step(1.0, view({}), pres)
    assert not step.claims  # the static claim does the capturing itself
    where = ctl.where("10.77.3.99")
    assert where.pin is not None and where.pin.claim == "pinned-vm"
    with pytest.raises(MobilityError, match="RemoteAddressClaim/pinned-vm") as err:
        ctl.pin("10.77.3.99", "site-a")
    assert err.value.code == "pinned-by-config"
    with pytest.raises(MobilityError, match="remove RemoteAddressClaim/pinned-vm first") as err:
        ctl.move(["10.77.3.99"], "site-a")
    assert err.value.code == "pinned-by-config"
    pres.facts["10.77.3.99"] = present(2.0)
    step = ctl.step(2.0, view({}), pres, touched=["10.77.3.99"])
    assert step.originations is None
    assert [c.code for c in ctl.conflicts()] == ["host-at-pinned-elsewhere"]


# -- restarts and failures -----------------------------------------------------------------------


def test_restart_keeps_sequences(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    ctl, pres = make(store=store)
    pres.facts[A] = present(1.0)
    ctl.step(1.0, view({}), pres)
    ctl.step(2.0, view({A: (path(2, 7),)}), pres, touched=[])  # lost to site-b at 7
    pres.facts[B] = present(3.0)
    ctl.step(3.0, view({A: (path(2, 7),)}), pres, touched=[B])
    store.close()
    store = Store.open(tmp_path)
    again, pres2 = make(store=store)
    first = again.step(10.0, view({A: (path(2, 7),)}), pres2)  # nothing heard yet here
    assert first.originations is not None and dict(first.originations).keys() == {B}
    assert first.moves == ()  # what it knew before the restart is not news
    assert len(again.moves()) == 3
    pres2.facts[A] = present(11.0)
    step = again.step(11.0, view({A: (path(2, 7),)}), pres2, touched=[A])
    assert step.originations is not None and step.originations[A].sequence == 8  # never 2
    assert [(m.address, m.to_site, m.sequence) for m in step.moves] == [(A, "site-a", 8)]
    store.close()


def test_a_restart_journals_what_moved_while_it_was_down() -> None:
    store = MemoryMobilityStore()
    ctl, pres = make(store=store)
    ctl.step(1.0, view({A: (path(2, 3),)}), pres)
    again, pres2 = make(store=store)
    step = again.step(9.0, view({A: (path(3, 4),)}), pres2)  # site-c took it meanwhile
    assert [(m.from_site, m.to_site, m.sequence, m.cause) for m in step.moves] == [
        ("", "site-c", 4, "bgp")
    ]


def test_a_failed_store_write_applies_nothing_and_is_retried() -> None:
    store = MemoryMobilityStore()
    ctl, pres = make(store=store)
    ctl.step(1.0, view({}), pres)
    ctl.move([A], "site-a", "x")
    store.fail = OSError("disk full")
    step = ctl.step(2.0, view({}), pres, touched=[])
    assert step.error == "mobility store: disk full"
    assert step.originations is None and not step.moves and step.next_wake == 3.0
    assert ctl.where(A).home is None
    retry = ctl.step(3.0, view({}), pres, touched=[])
    assert retry.error == "" and retry.originations is not None and A in retry.originations


def test_absence_withdraws_and_stops_probing() -> None:
    ctl, pres = make()
    pres.facts[A] = present(1.0)
    ctl.step(1.0, view({}), pres)
    pres.facts[A] = absent(5.0, 1.0)
    step = ctl.step(5.0, view({}), pres, touched=[A])
    assert step.originations == {}
    assert step.probing == {"ens19": frozenset()}


def test_reconfigure_without_mobility_drops_everything() -> None:
    ctl, pres = make()
    pres.facts[A] = present(1.0)
    ctl.step(1.0, view({B: (path(2, 3, address=B),)}), pres)
    plain = config("a").replace(
        [r for r in config("a") if r.kind not in ("AddressMobilityDomain", "BGPSpeaker")]
    )
    ctl.configure(plain)
    ctl.store.fail = OSError("busy")  # the first try fails: nothing may be lost
    assert ctl.step(2.0, view({B: (path(2, 3, address=B),)}), pres).error
    step = ctl.step(3.0, view({B: (path(2, 3, address=B),)}), pres)
    assert step.claims.removed == ("mobility.lab.10-77-3-10",)
    assert step.originations == {}
    assert ctl.store.mobility_load().own == {}
    assert sorted((m.address, m.from_site, m.cause) for m in step.moves) == [
        (B, "site-b", "config"),
        (A, "site-a", "config"),
    ]


def test_views() -> None:
    ctl, pres = make()
    pres.facts[A] = present(1.0, "garp", "52:54:00:aa:bb:cc")
    ctl.step(
        1.0,
        view(
            {
                B: (path(2, 3, address=B),),
                "10.77.3.11": (path(2, 5, address="10.77.3.11"), path(3, 5, address="10.77.3.11")),
            }
        ),
        pres,
    )
    assert [h.address for h in ctl.homes()] == [A, B, "10.77.3.11"]
    assert [h.site for h in ctl.homes()] == ["site-a", "site-b", "site-b"]
    doc = ctl.where(A).as_dict()
    assert {k: doc[k] for k in ("address", "home", "sequence", "since", "evidence")} == {
        "address": A,
        "home": "site-a",
        "sequence": 1,
        "since": 1.0,
        "evidence": "garp from 52:54:00:aa:bb:cc",
    }
    assert ctl.where(A).originating
    (conflict,) = ctl.conflicts()
    assert conflict.code == "tie" and "site-b and site-c both at sequence 5" in conflict.describe()
    empty = ctl.where("10.77.3.12").as_dict()
    assert empty["home"] == "" and empty["sequence"] == 0


def test_a_sequence_the_speaker_still_announces_is_never_reused() -> None:
    """A lost store: the speaker (which outlives routerd) still announces sequence 9."""
    ctl, pres = make()
    announced = ExchangeView(
        paths=MappingProxyType({}),
        sessions=MappingProxyType(up()),
        originated=MappingProxyType({A: Origination(A, 1, 9, "10.255.0.11")}),
    )
    first = ctl.step(1.0, announced, pres)
    assert first.originations == {}  # not ours any more: sync withdraws it
    again = ctl.step(1.5, announced, pres)  # a full step finds the speaker still differs
    assert again.originations == {}
    pres.facts[A] = present(2.0)
    step = ctl.step(2.0, view({}), pres, touched=[A])
    assert step.originations is not None and step.originations[A].sequence == 10


def test_views_can_be_read_from_other_threads_while_steps_run() -> None:
    import threading

    ctl, pres = make()
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                homes = ctl.homes()
                assert all(h.site for h in homes)
                ctl.conflicts()
                ctl.where(A)
            except BaseException as exc:  # any failure in the reader fails the test
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(300):
            address = f"10.77.4.{i % 200 + 1}"
            site = 2 if i % 3 else 3
            paths = {address: (path(site, i + 1, address=address),)}
            ctl.step(float(i), view(paths), pres, touched=[] if i else None)
    finally:
        stop.set()
        reader.join()
    assert errors == []
