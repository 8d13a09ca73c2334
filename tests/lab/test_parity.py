"""Parity: the same faults through SimService and through the namespace lab look the same.

For each fault both can do, the simulated world (examples/worlds/azure.yaml, driven through
``SimService`` like any automation would) and the real lab (real kernel objects, the same
change made with ``ip``/``nft``/``sysctl`` inside the router's namespace, routerd on the
Linux backend) must show the same thing: the reason the claim went ``degraded`` with (from
the claim journal), the doctor's ``RemoteAddressClaim/<name> state`` finding while a held
fault holds, and ``verified`` once routerd repaired it or the fault was cleared.

Faults left out, and why (``NOT_IN_PARITY``; a test keeps every kind classified):

* ``handshake-lost``: the lab would need to drop WireGuard's UDP in the internet namespace,
  which no lab step models yet;
* ``icmp-dropped``: claims are not affected either way (the packet-level effect is the OCI
  black hole the lab's ``clamp-negative`` step already proves on real kernels);
* ``provider-address-unassigned``: the lab's fabric double is checked by its own
  ``fault-unprovisioned`` step; the claim only notices at the 60 s re-verification, which
  the lab would have to wait for in real time.

The lab half needs root (``-m lab``); the Azure profile stands for all (the faults touch
nothing provider-specific).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from routerd.backends.sim.faultcatalog import CATALOG
from routerd.testing import example_world, running_world
from tests.support.wait import wait_until
from tools.labkit.faults import claim_for, last_seq
from tools.labkit.lab import Lab
from tools.labkit.smoke import wait_verified

LabAction = Callable[[Lab], object]
DEGRADE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Parity:
    """One fault as the simulator and the lab each apply it."""

    kind: str
    params: dict[str, str]
    side: str  # the lab router (cloud | onprem) whose claim it affects
    address: str  # the affected claim's address
    apply: LabAction
    clear: LabAction | None = None  # None: routerd repairs it by itself


def _ns_exec(side: str, *argv: str) -> LabAction:
    return lambda lab: lab.routers[side].ns.exec(*argv)


def _ip(side: str, *args: str) -> LabAction:
    """``ip ARGS`` in the router's namespace; ``{tunnel}``/``{capture}`` are its interfaces."""

    def run(lab: Lab) -> object:
        r = lab.routers[side]
        words = [
            r.tunnel if a == "{tunnel}" else r.capture_if if a == "{capture}" else a for a in args
        ]
        return r.ns.ip(*words)

    return run


SHADOW = ("10.40.8.21/32", "dev", "{capture}", "metric", "50")
"""A foreign /32 through the on-prem capture interface, preferred to routerd's (metric 120)."""

PARITY: tuple[Parity, ...] = (
    Parity(
        "route-deleted",
        {"router": "cloud-router", "address": "10.40.8.31/32"},
        "cloud",
        "10.40.8.31",
        _ip("cloud", "route", "del", "10.40.8.31/32", "dev", "{tunnel}"),
    ),
    Parity(
        "capture-route-shadowed",
        {"router": "onprem-router", "address": "10.40.8.21"},
        "onprem",
        "10.40.8.21",
        _ip("onprem", "route", "add", *SHADOW, "proto", "static"),
        clear=_ip("onprem", "route", "del", *SHADOW),
    ),
    Parity(
        "address-readded-by-agent",
        {"router": "cloud-router", "address": "10.40.8.31"},
        "cloud",
        "10.40.8.31",
        _ip("cloud", "addr", "add", "10.40.8.31/24", "dev", "{capture}"),
    ),
    Parity(
        "clamp-table-flushed",
        {"router": "onprem-router"},
        "onprem",
        "10.40.8.21",
        _ns_exec("onprem", "nft", "flush", "table", "inet", "routerd_mss"),
    ),
    Parity(
        "sysctl-changed",
        {"router": "onprem-router", "name": "net.ipv4.ip_forward", "value": "0"},
        "onprem",
        "10.40.8.21",
        _ns_exec("onprem", "sysctl", "-qw", "net.ipv4.ip_forward=0"),
    ),
    Parity(
        "link-down",
        {"host": "onprem-router", "interface": "wg-sam"},
        "onprem",
        "10.40.8.21",
        _ip("onprem", "link", "set", "{tunnel}", "down"),
        clear=_ip("onprem", "link", "set", "{tunnel}", "up"),
    ),
)
NOT_IN_PARITY = {
    "handshake-lost": "the lab has no step dropping WireGuard's UDP in the internet namespace",
    "icmp-dropped": "claims are unaffected; the lab's clamp-negative step proves the packets",
    "provider-address-unassigned": "noticed only at the 60 s re-verification (real time in "
    "the lab); the lab's fault-unprovisioned step checks the fabric itself",
}
SIM_ROUTER = {"cloud": "cloud-router", "onprem": "onprem-router"}


@dataclass
class Seen:
    """What one side showed for one fault."""

    reasons: set[str]
    held_finding: tuple[str, str] | None  # (status, reason in its detail) while held
    final_state: str
    final_finding: str


def _state_finding(report: dict[str, Any] | Any, claim: str) -> dict[str, Any]:
    name = f"RemoteAddressClaim/{claim} state"
    return next(f for f in report["findings"] if f["name"] == name)


def _held(finding: dict[str, Any], reason: str) -> tuple[str, str]:
    return finding["status"], reason if reason in finding.get("detail", "") else "?"


def test_every_fault_kind_is_in_parity_or_says_why_not():
    assert {p.kind for p in PARITY} | set(NOT_IN_PARITY) == {k.name for k in CATALOG}
    assert not {p.kind for p in PARITY} & set(NOT_IN_PARITY)


def _after(p: Parity) -> float:
    """How long routerd may take to notice the fault (a verified path is looked at again
    every 60 s): virtual time on the simulator, real time in the lab."""
    return next(k for k in CATALOG if k.name == p.kind).effect.after


def sim_side(p: Parity, reason: str) -> Seen:
    from google.protobuf import json_format

    from routerd.v1 import doctor_pb2, doctor_pb2_grpc

    with running_world(file=example_world("azure")) as world:
        router = SIM_ROUTER[p.side]
        claim = next(c.name for c in world.claims(router) if c.address == f"{p.address}/32")
        since = max(e.seq for e in world.history(router, claim))

        def doctor() -> dict[str, Any]:
            stub = doctor_pb2_grpc.DoctorServiceStub(world.channel(router))
            report = stub.RunDoctor(doctor_pb2.RunDoctorRequest(area="hybrid"))
            return json_format.MessageToDict(report)

        fault = world.faults.inject(p.kind, **p.params)
        if _after(p):
            world.advance(_after(p))
        held = _held(_state_finding(doctor(), claim), reason) if fault.active else None
        if fault.active:
            world.faults.clear(fault)
        reasons = {
            e.reason
            for e in world.history(router, claim)
            if e.seq > since and e.to_state == "degraded"
        }
        final = world.claim(router, claim).state
        return Seen(reasons, held, final, _state_finding(doctor(), claim)["status"])


def lab_side(lab: Lab, p: Parity, reason: str) -> Seen:
    router = lab.routers[p.side]
    wait_verified(lab)
    claim = claim_for(router, p.address)
    since = last_seq(router, claim)

    def degraded() -> str | None:
        new = {
            e.get("reason")
            for e in router.history(claim)
            if int(e["seq"]) > since and e.get("toState") == "degraded"
        }
        return None if new else "no degraded transition yet"

    p.apply(lab)
    timeout = DEGRADE_TIMEOUT + _after(p)
    wait_until(degraded, timeout=timeout, interval=0.2, what=f"{claim} degraded")
    held = None
    if p.clear is not None:
        held = _held(_state_finding(router.doctor(), claim), reason)
        p.clear(lab)
    wait_verified(lab)
    reasons = {
        e.get("reason", "")
        for e in router.history(claim)
        if int(e["seq"]) > since and e.get("toState") == "degraded"
    }
    final = next(c["state"] for c in router.claims() if c["name"] == claim)
    return Seen(reasons, held, final, _state_finding(router.doctor(), claim)["status"])


@pytest.mark.lab
@pytest.mark.timeout(360)
@pytest.mark.parametrize("lab", ["azure"], indirect=True)
@pytest.mark.parametrize("parity", PARITY, ids=[p.kind for p in PARITY])
def test_sim_and_lab_show_the_same_for_the_same_fault(lab: Lab, parity: Parity) -> None:
    reason = next(k for k in CATALOG if k.name == parity.kind).effect.reason
    sim = sim_side(parity, reason)
    real = lab_side(lab, parity, reason)
    assert sim.reasons == real.reasons == {reason}, (sim, real)
    assert sim.held_finding == real.held_finding, (sim, real)
    if parity.clear is not None:
        assert sim.held_finding == ("fail", reason)
    assert (sim.final_state, sim.final_finding) == (real.final_state, real.final_finding)
    assert sim.final_state == "verified" and sim.final_finding == "pass"
