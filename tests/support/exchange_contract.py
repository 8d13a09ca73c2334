"""The route-exchange port's contract, as scenarios any implementation can be run through.

Each scenario drives routers' exchanges through an ``ExchangeHarness`` and asserts the views
(``ExchangeView`` as plain data) they must show: the same inputs give the same paths,
originations, refusals, refusal counts and session states whichever implementation runs
them. ``tests/unit/backends/sim/test_exchange_contract.py`` runs them on the simulator's
``SimExchange`` (virtual time), ``tests/netns/test_exchange_contract.py`` on
``GobgpExchange`` with real gobgpd speakers and a BIRD2 route reflector in namespaces.

Topology of every scenario (the namespace BGP lab's): the reflector at ``RR`` (10.99.0.1),
routers ``a``, ``b``, ``c`` ... at 10.99.0.11 and up (router id = address), iBGP AS 65000,
mobility domain 10.77.0.0/16, each router peering with the reflector (hold time 9 s) and,
where a scenario says so, directly with another router.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from routerd.core.exchange import LearnedPath, Origination, Refusal

RR = "10.99.0.1"
ASN = 65000
DOMAINS = ("10.77.0.0/16",)
HOLD = 9.0
"""The neighbors' hold time: a silent peer is dropped after this many seconds."""

Snapshot = dict[str, Any]
"""A view as plain data: paths, sessions, originated, refused, refused_counts, connected,
error, and changes (how many times ``on_change`` was called so far)."""


class ExchangeHarness(Protocol):
    """What a scenario needs from an implementation's test bed."""

    def build(self, sites: Mapping[str, int], direct: Sequence[tuple[str, str]] = ()) -> None:
        """Routers (name -> site id) peering with the reflector, and direct sessions."""

    def open(self, name: str) -> None:
        """Start (or adopt) the router's exchange."""

    def close(self, name: str, *, cleanup: bool) -> None:
        """Close the router's exchange (``cleanup``: withdraw everything and stop)."""

    def address(self, name: str) -> str: ...

    def sync(self, name: str, originations: dict[str, Origination]) -> list[str]: ...

    def inject(self, name: str, originations: list[Origination]) -> None:
        """Announce paths bypassing ``sync`` and its checks (a misbehaving speaker)."""

    def snapshot(self, name: str) -> Snapshot: ...

    def wait(self, check: Callable[[], str | None], what: str, *, timeout: float) -> None:
        """Until ``check`` returns None (it says what is still wrong), within ``timeout``
        seconds of the implementation's time."""

    def sleep(self, seconds: float) -> None:
        """Let that much of the implementation's time pass."""

    def cut(self, name: str) -> None:
        """Partition the router from the reflector (nothing passes either way)."""

    def heal(self, name: str) -> None: ...


def originate(h: ExchangeHarness, name: str, site: int, address: str, seq: int) -> Origination:
    return Origination(address, site, seq, h.address(name))


def pairs(h: ExchangeHarness, name: str, address: str) -> list[tuple[int, int]]:
    """(site, sequence) of every path ``name`` holds for ``address``, sorted."""
    paths: list[LearnedPath] = h.snapshot(name)["paths"].get(address, [])
    return sorted((p.site_id, p.sequence) for p in paths)


def wait_pairs(h: ExchangeHarness, name: str, address: str, want: list[tuple[int, int]]) -> None:
    def check() -> str | None:
        got = pairs(h, name, address)
        return None if got == sorted(want) else f"{address} at {name}: {got}"

    h.wait(check, f"{address} at {name} = {want}", timeout=15)


def wait_session(h: ExchangeHarness, name: str, neighbor: str, up: bool, timeout: float) -> None:
    def check() -> str | None:
        s = h.snapshot(name)["sessions"].get(neighbor)
        ok = s is not None and (s.state == "established") == up
        return None if ok else f"{name} -> {neighbor}: {s}"

    h.wait(check, f"{name} session to {neighbor} {'up' if up else 'down'}", timeout=timeout)


def established(h: ExchangeHarness, *names: str) -> None:
    for name in names:
        wait_session(h, name, RR, True, timeout=30)


# --- scenarios ------------------------------------------------------------------------------


def announce_replace_and_withdraw(h: ExchangeHarness) -> None:
    """A home crosses the reflector with its identity, sequence and next hop; a higher
    sequence replaces it; a withdrawal removes it. The originator never hears it back."""
    h.build({"a": 1, "b": 2})
    h.open("a")
    h.open("b")
    established(h, "a", "b")
    a = h.address("a")
    home = originate(h, "a", 1, "10.77.0.5", 7)
    assert h.sync("a", {"10.77.0.5": home}) == []
    wait_pairs(h, "b", "10.77.0.5", [(1, 7)])
    b_view = h.snapshot("b")
    assert b_view["paths"]["10.77.0.5"] == [LearnedPath("10.77.0.5", 1, 7, a, RR, a)]
    assert b_view["refused"] == [] and b_view["connected"] and b_view["error"] == ""
    a_view = h.snapshot("a")
    assert a_view["originated"] == {"10.77.0.5": home}
    assert "10.77.0.5" not in a_view["paths"], "a router does not learn its own home back"
    session = a_view["sessions"][RR]
    assert (session.state, session.description) == ("established", "route reflector")

    assert h.sync("a", {"10.77.0.5": originate(h, "a", 1, "10.77.0.5", 8)}) == []
    wait_pairs(h, "b", "10.77.0.5", [(1, 8)])
    assert h.sync("a", {}) == []
    wait_pairs(h, "b", "10.77.0.5", [])
    assert h.snapshot("a")["originated"] == {}


def bad_originations_change_nothing(h: ExchangeHarness) -> None:
    """Each bad origination is an error naming the address; its address keeps what was
    announced; another site's identity is refused; nothing else is sent."""
    h.build({"a": 1, "b": 2})
    h.open("a")
    h.open("b")
    established(h, "a", "b")
    good = originate(h, "a", 1, "10.77.0.9", 3)
    assert h.sync("a", {"10.77.0.9": good}) == []
    wait_pairs(h, "b", "10.77.0.9", [(1, 3)])
    bad = {
        "10.77.0.9": Origination("10.77.0.9", 1, 4, "not-an-address"),
        "10.77.0.10": Origination("10.77.0.10", 2, 1, h.address("a")),
    }
    errors = h.sync("a", bad)
    assert len(errors) == 2, errors
    assert any("origination 10.77.0.9: next_hop 'not-an-address'" in e for e in errors)
    assert any("origination 10.77.0.10: site_id 2 is not this router's site" in e for e in errors)
    assert h.snapshot("a")["originated"] == {"10.77.0.9": good}
    barrier = originate(h, "a", 1, "10.77.0.11", 1)
    assert h.sync("a", {**bad, "10.77.0.11": barrier}) == errors
    wait_pairs(h, "b", "10.77.0.11", [(1, 1)])
    assert pairs(h, "b", "10.77.0.10") == []
    assert pairs(h, "b", "10.77.0.9") == [(1, 3)]


def sync_is_idempotent(h: ExchangeHarness) -> None:
    """The same originations again send nothing: the receiver's view does not change."""
    h.build({"a": 1, "b": 2})
    h.open("a")
    h.open("b")
    established(h, "a", "b")
    homes = {f"10.77.4.{i}": originate(h, "a", 1, f"10.77.4.{i}", 2) for i in range(1, 11)}
    assert h.sync("a", homes) == []
    wait_pairs(h, "b", "10.77.4.10", [(1, 2)])
    h.wait(lambda: None if len(h.snapshot("b")["paths"]) == 10 else "not all", "10", timeout=15)
    before = h.snapshot("b")
    assert h.sync("a", dict(homes)) == []
    barrier = {**homes, "10.77.4.99": originate(h, "a", 1, "10.77.4.99", 1)}
    assert h.sync("a", barrier) == []
    wait_pairs(h, "b", "10.77.4.99", [(1, 1)])
    after = h.snapshot("b")
    assert after["changes"] == before["changes"] + 1, "only the barrier changed b's view"
    assert {k: v for k, v in after["paths"].items() if k != "10.77.4.99"} == before["paths"]


def conflicting_homes_are_both_seen(h: ExchangeHarness) -> None:
    """Two sites announcing one address: a third router holds both paths (add-path), so it
    can see the conflict instead of a silent winner."""
    h.build({"a": 1, "b": 2, "c": 3})
    for name in ("a", "b", "c"):
        h.open(name)
    established(h, "a", "b", "c")
    assert h.sync("a", {"10.77.5.1": originate(h, "a", 1, "10.77.5.1", 4)}) == []
    assert h.sync("c", {"10.77.5.1": originate(h, "c", 3, "10.77.5.1", 4)}) == []
    wait_pairs(h, "b", "10.77.5.1", [(1, 4), (3, 4)])
    wait_pairs(h, "a", "10.77.5.1", [(3, 4)])
    wait_pairs(h, "c", "10.77.5.1", [(1, 4)])


def foreign_identity_and_outside_domain_are_refused(h: ExchangeHarness) -> None:
    """A router speaking for another site, or outside the domains, is stopped by the
    reflector's filter and, on a direct session, refused by the receiver's import rule
    (counted by reason)."""
    h.build({"a": 1, "b": 2, "c": 3}, direct=[("b", "c")])
    for name in ("a", "b", "c"):
        h.open(name)
    established(h, "a", "b", "c")
    c = h.address("c")
    wait_session(h, "b", c, True, timeout=30)
    h.inject(
        "c",
        [
            Origination("10.77.1.1", 1, 50, c),  # speaks for site 1
            Origination("10.88.0.1", 3, 1, c),  # outside the domain
            Origination("10.77.3.3", 3, 1, c),  # its own: accepted
        ],
    )
    wait_pairs(h, "b", "10.77.3.3", [(3, 1), (3, 1)])
    wait_pairs(h, "a", "10.77.3.3", [(3, 1)])
    snap = h.snapshot("b")
    assert sorted(snap["refused"], key=lambda r: r.prefix) == [
        Refusal("10.77.1.1/32", c, c, "foreign-site-identity"),
        Refusal("10.88.0.1/32", c, c, "outside-domains"),
    ]
    assert snap["refused_counts"] == {"foreign-site-identity": 1, "outside-domains": 1}
    assert "10.77.1.1" not in snap["paths"]
    assert h.snapshot("a")["refused"] == []


def restart_adopts_and_cleanup_withdraws(h: ExchangeHarness) -> None:
    """Closing without cleanup withdraws nothing and a new exchange reads the originations
    back; closing with cleanup makes every peer drop the paths at once (no hold time)."""
    h.build({"a": 1, "b": 2})
    h.open("a")
    h.open("b")
    established(h, "a", "b")
    homes = {f"10.77.2.{i}": originate(h, "a", 1, f"10.77.2.{i}", 5) for i in range(1, 21)}
    assert h.sync("a", homes) == []
    h.wait(lambda: None if len(h.snapshot("b")["paths"]) == 20 else "not yet", "20", timeout=15)
    changes = h.snapshot("b")["changes"]

    h.close("a", cleanup=False)
    h.open("a")
    assert h.snapshot("a")["originated"] == homes
    established(h, "a")
    assert h.sync("a", homes) == []
    h.sleep(1.0)
    assert h.snapshot("b")["changes"] == changes, "b heard nothing of a's restart"

    h.close("a", cleanup=True)
    h.wait(lambda: None if not h.snapshot("b")["paths"] else "still held", "drop", timeout=2)


def partition_drops_paths_after_the_hold_time_and_heals(h: ExchangeHarness) -> None:
    """Cut from the reflector, a router's session stays up (and its paths stay at the
    others) until the hold timer expires; then both sides drop what they learned and the
    session is down with a reason. Healed, the session comes back with everything."""
    h.build({"a": 1, "b": 2})
    h.open("a")
    h.open("b")
    established(h, "a", "b")
    assert h.sync("a", {"10.77.6.1": originate(h, "a", 1, "10.77.6.1", 1)}) == []
    assert h.sync("b", {"10.77.6.2": originate(h, "b", 2, "10.77.6.2", 1)}) == []
    wait_pairs(h, "b", "10.77.6.1", [(1, 1)])
    wait_pairs(h, "a", "10.77.6.2", [(2, 1)])

    h.cut("a")
    h.sleep(HOLD / 3)
    assert pairs(h, "b", "10.77.6.1") == [(1, 1)], "kept while the hold timer runs"
    assert h.snapshot("a")["sessions"][RR].state == "established"
    wait_session(h, "a", RR, False, timeout=HOLD + 5)
    wait_pairs(h, "b", "10.77.6.1", [])
    snap = h.snapshot("a")
    assert snap["paths"] == {} and snap["connected"]
    assert snap["sessions"][RR].last_error, "a lost session says why"
    assert snap["originated"] == {"10.77.6.1": originate(h, "a", 1, "10.77.6.1", 1)}

    h.heal("a")
    wait_session(h, "a", RR, True, timeout=30)
    wait_pairs(h, "b", "10.77.6.1", [(1, 1)])
    wait_pairs(h, "a", "10.77.6.2", [(2, 1)])


SCENARIOS = (
    announce_replace_and_withdraw,
    bad_originations_change_nothing,
    sync_is_idempotent,
    conflicting_homes_are_both_seen,
    foreign_identity_and_outside_domain_are_refused,
    restart_adopts_and_cleanup_withdraws,
    partition_drops_paths_after_the_hold_time_and_heals,
)
