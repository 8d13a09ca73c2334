"""Split brain on the capture segment: more than one ARP responder FAILs (D20, docs/decisions.md).

The answers are recorded ARP sweeps (``Host.arp``): ``duplicate-responders`` has h1 and h2
both answering for 10.40.8.31 on the capture bridge, ``healthy`` has nobody answering.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from routerd.core.doctor import DoctorContext, Status
from routerd.doctor import responder
from routerd.doctor.inputs import resolve
from tests.unit.doctor.intents import with_facts
from tests.unit.doctor.kit import Scene, one, sample

Recorded = Callable[[str], Scene]
CHECK = "vm31 duplicate responders"
IP = "10.40.8.31"


def foreign_macs(recorded: Recorded) -> list[str]:
    dup = recorded("duplicate-responders")
    macs: list[str] = dup.host.sweeps[dup.names["br"]]["replies"][IP]
    return macs


def test_two_hosts_answering_for_the_claim_fail_and_list_their_macs(recorded: Recorded) -> None:
    s = recorded("duplicate-responders")
    macs = s.host.sweeps[s.names["br"]]["replies"][IP]
    assert len(macs) == 2
    f = one(s.doctor(), CHECK)
    assert f.status is Status.FAIL
    assert all(m in f.detail for m in macs)
    assert "split brain" in f.remedy


def test_only_this_routers_proxy_arp_passes(recorded: Recorded) -> None:
    s = recorded("healthy")
    assert s.host.sweeps[s.names["br"]]["replies"] == {}
    f = one(s.doctor(), CHECK)
    assert f.status is Status.PASS and "this router (proxy-ARP" in f.detail


def test_one_foreign_answer_plus_our_proxy_is_a_duplicate(recorded: Recorded) -> None:
    first = foreign_macs(recorded)[:1]
    s = recorded("healthy")
    s.host.with_sweep(s.names["br"], replies={IP: first})
    f = one(s.doctor(), CHECK)
    assert f.status is Status.FAIL and "2 responder(s)" in f.detail


def test_without_our_capture_route_one_answer_passes(recorded: Recorded) -> None:
    first = foreign_macs(recorded)[:1]
    s = recorded("capture-route-missing")
    s.host.with_sweep(s.names["br"], replies={IP: first})
    assert one(s.doctor(), CHECK).status is Status.PASS


def test_provider_capture_does_not_count_itself(recorded: Recorded) -> None:
    s = recorded("healthy")
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    cloudish = with_facts(inputs.intents["vm31"], capture_type="provider-secondary-ip")
    f = responder.check(inputs, cloudish)
    assert f.status is Status.PASS and f.detail.startswith("0 responder(s)")


def test_an_unprivileged_sweep_skips_and_says_why(recorded: Recorded) -> None:
    said = json.loads(sample("unprivileged ARP sweep")["stdout"])
    assert said["replies"] == {} and said["sent"] == 0
    s = recorded("healthy")
    s.host.with_sweep(s.names["br"], error=said["error"])
    f = one(s.doctor(), CHECK)
    assert f.status is Status.SKIP and "permission denied" in f.detail and "root" in f.detail


def test_one_sweep_per_capture_interface_covers_every_claim(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.doctor()
    assert s.host.calls.count(("arp-sweep", s.names["br"])) == 1
    assert not [c for c in s.host.calls if c[0] == "arping"]
