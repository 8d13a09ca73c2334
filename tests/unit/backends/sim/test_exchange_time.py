"""The simulated route exchange in virtual time: when things happen, and that they always
happen the same way.

The contract scenarios (``test_exchange_contract``) say what the views show; these say when:
a path crosses the reflector in exactly two hops of the configured delay, a cut session
holds until exactly its hold time, a healed one returns exactly ``reconnect`` later, held
updates are delivered when a partition heals in time, and a scripted run gives the same
event log twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from routerd.backends.sim import ManualClock, World
from routerd.backends.sim.bgp import report
from routerd.backends.sim.bgp.exchange import SimExchange
from routerd.backends.sim.bgp.reflector import REFLECTOR, ReflectorSettings
from routerd.backends.sim.timers import advance
from routerd.core.exchange import ImportPolicy, Neighbor, Origination, SpeakerSettings

RR = "10.99.0.1"
ADDR = {"a": "10.99.0.11", "b": "10.99.0.12", "c": "10.99.0.13"}
SITE = {"a": 1, "b": 2, "c": 3}
POLICY = ImportPolicy(65000, ("10.77.0.0/16",), {SITE[n]: frozenset({ADDR[n]}) for n in ADDR})


class Bed:
    """A world with a manual clock, exchanges started on demand, and every wake-up logged
    as (virtual time, router)."""

    def __init__(self, reflector: ReflectorSettings | None = None) -> None:
        self.clock = ManualClock(5_000.0)
        self.world = World(clock=self.clock)
        if reflector is not None:
            self.world.bgp.configure_reflector(reflector)
        self.ex: dict[str, SimExchange] = {}
        self.log: list[tuple[float, str]] = []

    def settings(self, name: str, *extra: Neighbor, router_id: str = "") -> SpeakerSettings:
        rid = router_id or ADDR[name]
        rr = Neighbor(RR, description="rr")
        return SpeakerSettings(65000, SITE[name], rid, rid, neighbors=(rr, *extra))

    def open(self, name: str, settings: SpeakerSettings | None = None) -> SimExchange:
        ex = SimExchange(self.world.bgp, name, settings or self.settings(name), POLICY)
        ex.start(lambda: self.log.append((round(self.clock.now - 5_000.0, 6), name)))
        self.ex[name] = ex
        return ex

    def run(self, seconds: float) -> None:
        advance(self.world.timers, self.clock, seconds)

    def home(self, name: str, address: str, seq: int) -> dict[str, Origination]:
        return {address: Origination(address, SITE[name], seq, ADDR[name])}

    def seqs(self, name: str, address: str) -> list[int]:
        return [p.sequence for p in self.ex[name].view().paths.get(address, ())]

    def state(self, name: str, neighbor: str = RR) -> str:
        return self.ex[name].view().sessions[neighbor].state


def started(reflector: ReflectorSettings | None = None) -> Bed:
    bed = Bed(reflector)
    bed.open("a")
    bed.open("b")
    bed.run(1.0)
    return bed


def test_sessions_come_up_one_hop_after_start() -> None:
    bed = Bed()
    bed.open("a")
    assert bed.state("a") == "active"
    bed.run(0.000999)
    assert bed.state("a") == "active"
    bed.run(0.000001)
    assert bed.state("a") == "established"
    assert bed.ex["a"].view().sessions[RR].since == pytest.approx(5_000.001)


def test_a_path_crosses_the_reflector_in_two_hops_exactly() -> None:
    bed = started()
    bed.log.clear()
    assert bed.ex["a"].sync(bed.home("a", "10.77.0.5", 3)) == []
    bed.run(0.0019)
    assert bed.seqs("b", "10.77.0.5") == []
    bed.run(0.0001)
    assert bed.seqs("b", "10.77.0.5") == [3]
    assert bed.log == [(1.002, "b")], "b's engine is woken once, when the path arrives"


def test_a_declared_reflector_sets_the_delay_and_answers_only_at_its_address() -> None:
    bed = Bed(ReflectorSettings(address=RR, delay=0.005))
    bed.open("a")
    bed.open("b")
    wrong = bed.settings("c", Neighbor("10.99.0.250", description="typo"))
    bed.open("c", wrong)
    bed.run(1.0)
    assert bed.ex["a"].sync(bed.home("a", "10.77.0.5", 1)) == []
    bed.run(0.0099)
    assert bed.seqs("b", "10.77.0.5") == []
    bed.run(0.0001)
    assert bed.seqs("b", "10.77.0.5") == [1]
    typo = bed.ex["c"].view().sessions["10.99.0.250"]
    assert typo.state == "active"
    assert "no BGP speaker answers at 10.99.0.250" in typo.last_error
    assert "the reflector is at 10.99.0.1" in typo.last_error


def test_a_cut_session_holds_until_its_hold_time_then_returns_after_reconnect() -> None:
    bed = started()
    bed.ex["a"].sync(bed.home("a", "10.77.0.5", 1))
    bed.run(0.01)
    bed.world.bgp.cut([frozenset(("a", REFLECTOR))])
    bed.run(8.999)
    assert bed.state("a") == "established" and bed.seqs("b", "10.77.0.5") == [1]
    bed.run(0.001)
    session = bed.ex["a"].view().sessions[RR]
    assert session.state == "active"
    assert "hold timer expired" in session.last_error
    bed.run(0.001)  # the reflector's withdrawal reaches b one hop later
    assert bed.seqs("b", "10.77.0.5") == []

    bed.world.bgp.heal([frozenset(("a", REFLECTOR))])
    bed.run(0.999)
    assert bed.state("a") == "active"
    bed.run(0.001)
    assert bed.state("a") == "established"
    assert bed.ex["a"].view().sessions[RR].last_error == session.last_error, "kept, as gobgpd"
    bed.run(0.002)
    assert bed.seqs("b", "10.77.0.5") == [1]


def test_a_partition_healed_in_time_delivers_what_it_held_without_a_session_drop() -> None:
    bed = started()
    since = bed.ex["a"].view().sessions[RR].since
    bed.world.bgp.cut([frozenset(("a", REFLECTOR))])
    bed.run(1.0)
    bed.ex["a"].sync(bed.home("a", "10.77.0.7", 4))
    bed.run(5.0)
    assert bed.seqs("b", "10.77.0.7") == [], "nothing crosses a cut"
    bed.world.bgp.heal([frozenset(("a", REFLECTOR))])
    bed.run(0.002)
    assert bed.seqs("b", "10.77.0.7") == [4]
    bed.run(10.0)
    assert bed.state("a") == "established"
    assert bed.ex["a"].view().sessions[RR].since == since, "the session never dropped"


def test_partitions_are_counted_per_pair() -> None:
    bed = started()
    pair = frozenset(("a", REFLECTOR))
    bed.world.bgp.cut([pair])
    bed.world.bgp.cut([pair])
    bed.world.bgp.heal([pair])
    bed.run(10.0)
    assert bed.state("a") == "active", "one of two partitions still holds"
    bed.world.bgp.heal([pair])
    bed.run(1.001)
    assert bed.state("a") == "established"


def test_the_reflector_filters_a_foreign_identity_and_keeps_it_visible() -> None:
    bed = started()
    bed.ex["a"].inject([Origination("10.77.0.9", 2, 9, ADDR["a"])])  # a speaks for site 2
    bed.run(0.01)
    assert bed.ex["b"].view().paths == {} and bed.ex["b"].view().refused == ()
    rr = report.reflector(bed.world.bgp)
    assert [(c, p.prefix, why) for c, p, why in rr.filtered] == [
        ("a", "10.77.0.9/32", "foreign-site-identity")
    ]
    assert rr.accepted == () and set(rr.clients) == {"a", "b"}
    (a,) = report.speakers(bed.world.bgp, "a")
    assert [o.address for o in a.originated] == ["10.77.0.9"]
    assert [(s.state.neighbor, s.peer) for s in a.sessions] == [(RR, REFLECTOR)]


def test_new_global_settings_restart_bgp_and_peers_see_the_withdrawal() -> None:
    bed = started()
    bed.ex["a"].sync(bed.home("a", "10.77.0.5", 1))
    bed.run(0.01)
    bed.ex["a"].close(cleanup=False)
    other = SpeakerSettings(
        65000,
        1,
        ADDR["a"],
        ADDR["a"],
        listen_port=1179,
        neighbors=(Neighbor(RR, description="rr"),),
    )
    bed.open("a", other)
    assert bed.ex["a"].view().originated == {}, "BGP restarted: nothing originated"
    bed.run(0.002)
    assert bed.seqs("b", "10.77.0.5") == []


def test_a_sync_before_start_is_kept_and_applied_on_start() -> None:
    bed = Bed()
    ex = SimExchange(bed.world.bgp, "a", bed.settings("a"), POLICY)
    errors = ex.sync(bed.home("a", "10.77.0.5", 2))
    assert errors == ["simulated speaker not ready (not started); applied once it is"]
    assert not ex.view().connected and ex.view().error == "not started"
    ex.start(lambda: None)
    assert ex.view().originated == bed.home("a", "10.77.0.5", 2)
    with pytest.raises(ValueError, match="asn 0 must be between"):
        SimExchange(bed.world.bgp, "x", SpeakerSettings(0, 1, "10.99.0.99"), POLICY)


def test_a_direct_session_needs_both_sides_to_list_each_other() -> None:
    bed = Bed()
    bed.open("a", bed.settings("a", Neighbor(ADDR["b"], description="b")))
    bed.open("b")
    bed.run(1.0)
    s = bed.ex["a"].view().sessions[ADDR["b"]]
    assert s.state == "active"
    assert "b's speaker does not list 10.99.0.11 as a neighbor" in s.last_error


def _script(bed: Bed) -> list[Any]:
    """A run with moves, a conflict, a partition and a heal; returns everything observed."""
    bed.open("a")
    bed.open("b")
    bed.open("c")
    bed.run(0.5)
    bed.ex["a"].sync(bed.home("a", "10.77.0.5", 1))
    bed.run(0.0015)
    bed.ex["b"].sync(bed.home("b", "10.77.0.5", 2))
    bed.ex["c"].sync(bed.home("c", "10.77.0.6", 1))
    bed.run(0.5)
    bed.world.bgp.cut([frozenset(("b", REFLECTOR))])
    bed.ex["a"].sync({})
    bed.run(12.0)
    bed.world.bgp.heal([frozenset(("b", REFLECTOR))])
    bed.run(3.0)
    views = {
        n: (
            sorted((a, [(p.site_id, p.sequence) for p in ps]) for a, ps in e.view().paths.items()),
            {k: (s.state, s.since, s.last_error) for k, s in e.view().sessions.items()},
        )
        for n, e in bed.ex.items()
    }
    return [bed.log, views, bed.world.timers.fired]


def test_the_same_run_gives_the_same_events_at_the_same_virtual_times() -> None:
    first, second = _script(Bed()), _script(Bed())
    assert first == second
    log = first[0]
    assert len(log) > 10 and log == sorted(log, key=lambda e: e[0])
    assert (0.5035, "c") in log, "b's higher sequence reaches c two hops after b synced"


def test_an_old_exchange_closing_late_leaves_the_one_that_adopted_the_speaker() -> None:
    bed = started()
    old = bed.ex["a"]
    new = bed.open("a")
    new.sync(bed.home("a", "10.77.0.5", 1))
    old.close(cleanup=True)
    bed.run(0.01)
    assert bed.seqs("b", "10.77.0.5") == [1], "the old exchange no longer stops the speaker"
    assert new.view().connected and new.view().originated
    bed.log.clear()
    bed.ex["b"].sync(bed.home("b", "10.77.0.6", 1))
    bed.run(0.01)
    assert (1.012, "a") in bed.log, "the adopting exchange is still woken"


def test_a_speaker_in_another_as_gets_no_session_and_is_told_why() -> None:
    bed = Bed(ReflectorSettings(address=RR, asn=65001))
    bed.open("a")
    bed.run(1.0)
    s = bed.ex["a"].view().sessions[RR]
    assert s.state == "active"
    assert s.last_error == "the reflector is in AS 65001, the speaker in AS 65000"


def test_a_failing_world_timer_is_recorded_and_the_others_still_run() -> None:
    bed = Bed()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    bed.world.timers.at(5_000.5, broken)
    bed.world.timers.at(5_000.5, lambda: ran.append("after"))
    bed.run(1.0)
    assert ran == ["after"]
    assert bed.world.timers.errors == ["world timer failed: RuntimeError: boom"]
