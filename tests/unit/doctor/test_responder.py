"""Split brain on the capture segment: more than one ARP responder FAILs (OP-7, #86)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from routerd.core.doctor import DoctorContext, Status
from routerd.doctor import responder
from routerd.doctor.inputs import resolve
from tests.unit.doctor.kit import Scene, not_found, one, sample

Recorded = Callable[[str], Scene]
CHECK = "vm31 duplicate responders"


def arping_argv(s: Scene) -> list[str]:
    return ["arping", "-b", "-c", "3", "-w", "2", "-I", s.names["br"], "10.40.8.31"]


def test_two_hosts_answering_for_the_claim_fail_and_list_their_macs(recorded: Recorded) -> None:
    s = recorded("duplicate-responders")
    out = s.recorded(*arping_argv(s)).stdout
    macs = responder.responders(out, "10.40.8.31")
    assert len(macs) == 2
    f = one(s.doctor(), CHECK)
    assert f.status is Status.FAIL
    assert all(m in f.detail for m in macs)
    assert "split brain" in f.remedy


def test_only_this_routers_proxy_arp_passes(recorded: Recorded) -> None:
    s = recorded("healthy")
    assert responder.responders(s.recorded(*arping_argv(s)).stdout, "10.40.8.31") == []
    f = one(s.doctor(), CHECK)
    assert f.status is Status.PASS and "this router (proxy-ARP" in f.detail


def test_one_foreign_answer_plus_our_proxy_is_a_duplicate(recorded: Recorded) -> None:
    dup = recorded("duplicate-responders")
    first_reply = [
        ln for ln in dup.recorded(*arping_argv(dup)).stdout.splitlines() if "reply" in ln
    ][:1]
    s = recorded("healthy")
    s.host.with_command(
        {"argv": arping_argv(s), "rc": 0, "stdout": "\n".join(first_reply), "stderr": ""}
    )
    f = one(s.doctor(), CHECK)
    assert f.status is Status.FAIL and "2 responder(s)" in f.detail


def test_without_our_proxy_neighbour_one_answer_passes(recorded: Recorded) -> None:
    dup = recorded("duplicate-responders")
    first_reply = [
        ln for ln in dup.recorded(*arping_argv(dup)).stdout.splitlines() if "reply" in ln
    ][:1]
    s = recorded("proxy-neighbour-missing")
    s.host.with_command(
        {"argv": arping_argv(s), "rc": 0, "stdout": "\n".join(first_reply), "stderr": ""}
    )
    assert one(s.doctor(), CHECK).status is Status.PASS


def test_provider_capture_does_not_count_itself(recorded: Recorded) -> None:
    s = recorded("healthy")
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    cloudish = replace(inputs.intents["vm31"], capture_type="provider-secondary-ip")
    f = responder.check(inputs, cloudish)
    assert f.status is Status.PASS and f.detail.startswith("0 responder(s)")


def test_arping_missing_skips(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(not_found(*arping_argv(s)))
    f = one(s.doctor(), CHECK)
    assert f.status is Status.SKIP and "not installed" in f.detail


def test_unprivileged_recorded_run_reads_as_no_responder() -> None:
    out = sample("unprivileged arping")["stdout"]
    assert "Received 0" in out and responder.responders(out, "10.40.8.31") == []
