"""MetadataEvidence: the engine's provider port over the (fake) instance-metadata services.

Each test serves a recorded metadata document from the strict fake of ``fake_imds`` and
checks the answer the engine gets, how often the service is read, and that no pass ever
takes an unfinished or failed read for a confirmation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from routerd.core.assignment import AssignmentQuery
from routerd.providers.evidence import IMDS_ENV, MetadataEvidence
from tests.unit.providers.conftest import load_fixture
from tests.unit.providers.fake_imds import FakeMetadataServer

Fake = Callable[..., FakeMetadataServer]
ENI = "eni-0a1b2c3d4e5f60789"
VNIC = "ocid1.vnic.oc1.ap-tokyo-1.abxhiljrexampleexampleexampleexampleexampleexample"
AWS_Q = AssignmentQuery("10.40.8.31", "aws", ENI, "ens5")
QUERIES = frozenset({AWS_Q})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def evidence(url: str, **options: object) -> MetadataEvidence:
    return MetadataEvidence(env={IMDS_ENV: url}, **options)  # type: ignore[arg-type]


def test_assigned_secondary_ip_is_confirmed(fake_imds: Fake) -> None:
    srv = fake_imds("aws", load_fixture("aws", "imds-secondary-ip.json"))
    answer = evidence(srv.url, wait=5).assignments(QUERIES)[AWS_Q.address]
    assert answer.status == "assigned"
    assert answer.detail.startswith(f"AWS instance metadata: 10.40.8.31 is assigned to {ENI}")


def test_unprovisioned_secondary_ip_names_the_provider_and_the_nic(fake_imds: Fake) -> None:
    srv = fake_imds("aws", load_fixture("aws", "imds-unprovisioned.json"))
    answer = evidence(srv.url, wait=5).assignments(QUERIES)[AWS_Q.address]
    assert answer.status == "not-assigned"
    assert answer.detail.startswith("AWS instance metadata: ")
    assert ENI in answer.detail and "aws ec2 assign-private-ip-addresses" in answer.detail


def test_provider_without_secondary_ip_listing_is_unknown_not_a_failure(fake_imds: Fake) -> None:
    srv = fake_imds("oci", load_fixture("oci", "metadata-one-vnic.json"))
    q = AssignmentQuery("10.40.8.31", "oci", VNIC, "ens3")
    answer = evidence(srv.url, wait=5).assignments(frozenset({q}))[q.address]
    assert answer.status == "unknown"
    assert "does not list secondary IPs" in answer.detail


def test_not_on_that_cloud_reads_nothing_and_says_why(dmi_root: Callable[..., str]) -> None:
    ev = MetadataEvidence(env={}, dmi_root=dmi_root(sys_vendor="QEMU"), wait=5)
    answer = ev.assignments(QUERIES)[AWS_Q.address]
    assert answer.status == "unknown"
    assert "not on AWS according to DMI" in answer.detail and IMDS_ENV in answer.detail


def test_nothing_listening_is_unknown(refused_url: str) -> None:
    answer = evidence(refused_url, wait=5).assignments(QUERIES)[AWS_Q.address]
    assert answer.status == "unknown"
    assert "no AWS metadata service answers" in answer.detail


def test_a_hanging_service_is_pending_first_then_unknown_never_assigned(silent_url: str) -> None:
    changed = threading.Event()
    ev = evidence(silent_url, wait=0.05, timeout=0.5)
    ev.start(changed.set)
    first = ev.assignments(QUERIES)[AWS_Q.address]
    assert first.status == "pending"
    assert "first AWS instance-metadata read" in first.detail
    assert changed.wait(10), "on_change was not called when the read finished"
    later = ev.assignments(QUERIES)[AWS_Q.address]
    assert later.status == "unknown" and "timed out" in later.detail


def test_reads_are_rate_limited_and_answers_reused(fake_imds: Fake) -> None:
    srv = fake_imds("aws", load_fixture("aws", "imds-secondary-ip.json"))
    clock = Clock()
    ev = evidence(srv.url, wait=5, interval=30.0, clock=clock)
    first = ev.assignments(QUERIES)
    requests = len(srv.requests)
    for _ in range(20):
        assert ev.assignments(QUERIES) is first  # same object: nothing re-read or rebuilt
    assert ev.reads == 1 and len(srv.requests) == requests
    clock.now += 30.0
    ev.assignments(QUERIES)
    _wait_idle(ev)
    assert ev.reads == 2 and len(srv.requests) == 2 * requests
    assert ev.assignments(QUERIES) is first  # the same metadata: the same answers object


def test_a_change_at_the_provider_is_seen_after_the_interval(fake_imds: Fake) -> None:
    srv = fake_imds("aws", load_fixture("aws", "imds-secondary-ip.json"))
    clock = Clock()
    changed: list[int] = []
    ev = evidence(srv.url, wait=5, interval=30.0, clock=clock)
    ev.start(lambda: changed.append(1))
    assert ev.assignments(QUERIES)[AWS_Q.address].status == "assigned"
    srv.responses.update(load_fixture("aws", "imds-unprovisioned.json"))
    clock.now += 10.0
    assert ev.assignments(QUERIES)[AWS_Q.address].status == "assigned"  # not due yet
    clock.now += 20.0
    ev.assignments(QUERIES)  # due: the read runs in the background
    _wait_idle(ev)
    assert ev.assignments(QUERIES)[AWS_Q.address].status == "not-assigned"
    assert len(changed) == 2  # the first read, then the change


def test_unknown_provider_and_empty_nic_ref_are_unknown(fake_imds: Fake) -> None:
    srv = fake_imds("aws", load_fixture("aws", "imds-secondary-ip.json"))
    odd = AssignmentQuery("10.40.8.32", "nimbus", "nic-1", "eth0")
    bare = AssignmentQuery("10.40.8.31", "aws", "", "ens5")
    out = evidence(srv.url, wait=5).assignments(frozenset({odd, bare}))
    assert out["10.40.8.32"].status == "unknown" and "nimbus" in out["10.40.8.32"].detail
    assert out["10.40.8.31"].status == "unknown" and "nicRef is empty" in out["10.40.8.31"].detail


def _wait_idle(ev: MetadataEvidence, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(r.running is not None for r in ev._state.values()):
        assert time.monotonic() < deadline, "metadata read did not finish"
        time.sleep(0.01)


def test_refresh_reads_at_once_whatever_the_interval(fake_imds: Fake) -> None:
    """After routerd's own action the claim must not wait up to the interval."""
    srv = fake_imds("aws", load_fixture("aws", "imds-unprovisioned.json"))
    clock = Clock()
    changed: list[int] = []
    ev = evidence(srv.url, wait=5, interval=30.0, clock=clock)
    ev.start(lambda: changed.append(1))
    assert ev.assignments(QUERIES)[AWS_Q.address].status == "not-assigned"
    srv.responses.update(load_fixture("aws", "imds-secondary-ip.json"))
    reads = ev.reads
    ev.refresh()  # no clock movement: only refresh makes this read happen
    _wait_idle(ev)
    assert ev.reads == reads + 1
    assert len(changed) == 2, "the engine is woken by the new answer"
    assert ev.assignments(QUERIES)[AWS_Q.address].status == "assigned"
