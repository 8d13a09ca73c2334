"""Every fault kind does, in the example world, what the catalog (and so the docs) says.

docs/testing-automation.md's fault table is generated from ``CATALOG``; this test injects
each kind with its example parameters into the shipped two-site world through SimService
and checks the declared effect against what routerd shows: the reason a claim went
``degraded`` with (from the claim journal), the state it settles in, the doctor's state
finding, the packet trace between the VMs, and that clearing the fault brings every claim
back to ``verified``.
"""

from __future__ import annotations

import pytest

from routerd.backends.sim.faultcatalog import CATALOG, FaultKind
from routerd.v1 import doctor_pb2, doctor_pb2_grpc

pytestmark = pytest.mark.integration

VM_PATHS = (("cloud-vm", "10.40.8.31"), ("onprem-vm", "10.40.8.21"))


def degraded_since(world, seq: dict[str, int]) -> set[tuple[str, str, str]]:
    """(router, claim, reason) of every transition to degraded after ``seq``."""
    out = set()
    for key in world.states():
        router, claim = key.split("/")
        for e in world.history(router, claim):
            if e.seq > seq.get(key, 0) and e.to_state == "degraded":
                out.add((router, claim, e.reason))
    return out


def last_seq(world) -> dict[str, int]:
    return {
        key: max((e.seq for e in world.history(*key.split("/"))), default=0)
        for key in world.states()
    }


def state_finding(world, router: str, claim: str) -> doctor_pb2.Finding:
    stub = doctor_pb2_grpc.DoctorServiceStub(world.channel(router))
    report = stub.RunDoctor(doctor_pb2.RunDoctorRequest(area="hybrid"))
    return next(f for f in report.findings if f.name == f"RemoteAddressClaim/{claim} state")


@pytest.mark.parametrize("kind", CATALOG, ids=[k.name for k in CATALOG])
def test_fault_shows_its_declared_effect_and_clears(routerd_example_world, kind: FaultKind):
    world = routerd_example_world
    effect = kind.effect
    seq = last_seq(world)
    fault = world.faults.inject(kind.name, **kind.example)
    assert fault.active is not effect.heals
    if effect.after:
        world.advance(effect.after)
    hit = degraded_since(world, seq)
    states = world.states()
    if effect.reason:
        assert {r for *_, r in hit} == {effect.reason}, hit
    else:
        assert not hit
    if effect.heals or not effect.reason:
        assert set(states.values()) == {("verified", "")}, states
    else:
        held = [k for k, v in states.items() if v == ("degraded", effect.reason)]
        assert held, states
        router, claim = held[0].split("/")
        finding = state_finding(world, router, claim)
        assert finding.status == "fail" and effect.reason in finding.detail
    traces = [world.trace(src, dst, size=effect.probe_size) for src, dst in VM_PATHS]
    if effect.drop:
        assert effect.drop in {t.drop_reason for t in traces}, [t.summary for t in traces]
    else:
        assert all(t.delivered and t.source == t.source_seen for t in traces)
    if fault.active:
        world.faults.clear(fault)
    assert set(world.states().values()) == {("verified", "")}
    assert all(world.trace(src, dst, size=effect.probe_size).delivered for src, dst in VM_PATHS)
    assert world.faults.active() == []
