"""The provider's answers in a scoped engine: a changed answer is judged like drift.

No dataplane event reports the provider taking a secondary IP off the router's NIC; the
provider port reads it and says so (``on_change``). These tests hold the engine to what
that must mean with scoped passes: the port's call wakes the engine, the next pass stays
scoped and judges exactly the claims whose answer changed (``provider-ip-not-assigned``),
the others are left alone, and the reference engine ends every step where the incremental
one does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from routerd.core.assignment import Assignment, AssignmentQuery
from routerd.core.config import RouterConfig
from routerd.core.engine import Engine, EngineSettings
from routerd.core.lifecycle import TransitionRecord
from routerd.keys import KeyFiles
from tests.support import configs
from tests.support.wait import wait_until
from tests.unit.core.fakehost import FakeHost

N = 40


def address(i: int) -> str:
    return f"10.40.8.{100 + i}"


def config(tmp_path: Path) -> RouterConfig:
    """The Azure cloud example with ``N`` provider-secondary-ip claims (copies of its one)."""
    text = configs.with_keys(configs.example_text("azure", "cloud"), tmp_path / "keys")
    head, sep, claim = text.partition(
        "    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: RemoteAddressClaim"
    )
    name = re.search(r"name: (\S+)", claim)
    assert sep and name
    copies = [
        claim.replace(name.group(1), f"c{i}").replace("10.40.8.31/32", f"{address(i)}/32")
        for i in range(N)
    ]
    return configs.load(head + "".join(sep + c for c in copies))


class Provider:
    """A provider port whose answers a test sets; it calls ``on_change`` as readers do."""

    def __init__(self) -> None:
        self.answers: dict[str, Assignment] = {
            address(i): Assignment("assigned", "the NIC holds it") for i in range(N)
        }
        self.on_change: Callable[[], None] | None = None
        self.asked: list[frozenset[AssignmentQuery]] = []

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def close(self) -> None:
        pass

    def assignments(self, queries: frozenset[AssignmentQuery]) -> Mapping[str, Assignment]:
        self.asked.append(queries)
        return self.answers

    def set(self, ip: str, status: str, detail: str) -> None:
        """A new read with one answer changed (a new mapping, as the readers return)."""
        self.answers = {**self.answers, ip: Assignment(status, detail)}  # type: ignore[arg-type]
        if self.on_change is not None:
            self.on_change()


class Rig:
    def __init__(self, tmp_path: Path, *, reference: bool = False) -> None:
        self.host = FakeHost(("eth0", "wg-sam"))
        self.provider = Provider()
        self.now = 1_800_000_000.0
        settings = EngineSettings(key_dir=str(tmp_path / "keys"), reference=reference)
        self.engine = Engine(
            self.host,
            config(tmp_path),
            keys=KeyFiles(),
            settings=settings,
            clock=lambda: self.now,
            provider=self.provider,
        )
        self.records: list[TransitionRecord] = []
        self.engine.listeners.append(lambda _s, recs: self.records.extend(recs))

    def settle(self) -> None:
        for _ in range(3):
            self.engine.run_pass()
        assert {v.state for v in self.engine.snapshot.claims.values()} == {"verified"}
        self.records.clear()
        self.host.applied.clear()

    def journal(self) -> list[tuple[str, str, str, str]]:
        return [(r.claim, r.from_state, r.to_state, r.reason) for r in self.records]


NOT_ASSIGNED = "the Azure fabric does not assign 10.40.8.103 to this router's NIC"


def test_a_changed_answer_is_judged_in_a_scoped_pass_for_its_claim_alone(tmp_path):
    rig = Rig(tmp_path)
    rig.settle()
    assert len(rig.provider.asked[-1]) == N  # every provider-side claim is asked about

    rig.provider.set(address(3), "not-assigned", NOT_ASSIGNED)
    result = rig.engine.run_pass()

    assert not result.full and result.judged == 1
    assert rig.journal() == [("c3", "verified", "degraded", "provider-ip-not-assigned")]
    assert rig.engine.snapshot.claims["c3"].message == NOT_ASSIGNED
    assert rig.host.applied == []  # the host is as wanted: nothing to change for it

    rig.records.clear()
    rig.provider.set(address(3), "assigned", "the NIC holds it again")
    for _ in range(3):
        rig.engine.run_pass()
    assert rig.engine.snapshot.claims["c3"].state == "verified"
    assert {r.claim for r in rig.records} == {"c3"}
    assert not rig.engine.run_pass().judged  # settled again: nothing left to judge


def test_an_answer_that_did_not_change_judges_nothing(tmp_path):
    rig = Rig(tmp_path)
    rig.settle()
    rig.provider.answers = dict(rig.provider.answers)  # another mapping, the same answers
    result = rig.engine.run_pass()
    assert not result.full and result.judged == 0 and rig.records == []


def test_the_reference_engine_ends_where_the_incremental_one_does(tmp_path):
    rigs = [Rig(tmp_path / "inc"), Rig(tmp_path / "ref", reference=True)]
    # (claim whose answer changes, its answer, a claim removed in the same pass or None)
    steps: list[tuple[int, str, str, int | None]] = [
        (3, "not-assigned", NOT_ASSIGNED, None),
        (7, "pending", "the first Azure read is running", None),
        (3, "assigned", "back", 9),
        (7, "unknown", "no metadata service answers", 11),
        # c20 was never assigned, so it has no path evidence yet; removing c13 in the pass
        # that judges it up changes the WireGuard device every claim needs: both engines
        # judge c20 before the apply too (without evidence, it stops at delivering there)
        (20, "assigned", "assigned at last", 13),
    ]
    for rig in rigs:
        rig.provider.answers[address(20)] = Assignment("not-assigned", NOT_ASSIGNED)
        for _ in range(3):
            rig.engine.run_pass()
        assert rig.engine.snapshot.claims["c20"].state == "pending"
        rig.records.clear()
    for i, status, detail, removed in steps:
        for rig in rigs:
            rig.provider.set(address(i), status, detail)
            if removed is not None:
                config = rig.engine.startup
                rig.engine.set_startup(config.replace(r for r in config if r.name != f"c{removed}"))
            rig.engine.run_pass()
        inc, ref = rigs
        assert inc.journal() == ref.journal()
        assert dict(inc.engine.snapshot.claims) == dict(ref.engine.snapshot.claims)


def test_the_port_calling_on_change_wakes_a_waiting_engine(tmp_path):
    rig = Rig(tmp_path)
    rig.engine.settings.resync_interval = 3600.0  # only a wake-up can start a pass
    rig.engine.settings.full_pass_interval = 3600.0
    rig.settle()
    stop = threading.Event()
    loop = threading.Thread(target=rig.engine.run_forever, args=(stop,), daemon=True)
    loop.start()
    try:
        wait_until(lambda: None if rig.provider.asked else "no pass yet", what="a first pass")
        rig.provider.set(address(5), "not-assigned", NOT_ASSIGNED)
        wait_until(
            lambda: None if rig.engine.snapshot.claims["c5"].state == "degraded" else "waiting",
            timeout=5.0,
            what="the claim judged after the provider's on_change",
        )
    finally:
        stop.set()
        rig.engine.wake()
        loop.join(5)
    assert not loop.is_alive()
