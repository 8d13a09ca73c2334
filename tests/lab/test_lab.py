"""The namespace lab (docs/lab.md) per provider: the smoke, then the faults.

Every test runs one step of ``tools/labkit`` on the provider's shared lab, in the order
``tools/lab`` runs them, so a failure here reads like the CLI's report:
``lab step 'scp-100MiB' failed (oci): ...``. Tests that only apply to OCI (image firewall,
PMTU black hole) are skipped on the others with the reason.
"""

from __future__ import annotations

import pytest

from tools.labkit import clamp, evidence, faults, nat, plans, smoke
from tools.labkit.lab import Lab
from tools.labkit.steps import check

pytestmark = [pytest.mark.lab, pytest.mark.timeout(240)]


def only_oci(lab: Lab, why: str) -> None:
    if lab.provider != "oci":
        pytest.skip(f"{lab.provider}: {why}")


def test_image_firewall_warned_then_opened(lab: Lab) -> None:
    only_oci(lab, "the image ships no host firewall")
    detail = check(lab, "host-firewall", smoke.host_firewall)
    assert "iptables-nft -I INPUT 1 -p udp --dport 51820 -j ACCEPT" in detail


def test_claims_verified_and_doctor_has_no_fail(lab: Lab) -> None:
    check(lab, "claims-verified", smoke.claims_verified)


def test_ping_both_ways(lab: Lab) -> None:
    check(lab, "ping", smoke.ping)


def test_ssh_both_ways_source_preserved(lab: Lab) -> None:
    check(lab, "ssh", smoke.ssh)


def test_scp_100mib_both_ways(lab: Lab) -> None:
    check(lab, "scp-100MiB", smoke.scp_both_ways)


def test_no_nat(lab: Lab) -> None:
    check(lab, "no-nat", nat.no_nat)


def test_transfer_stalls_without_clamp(lab: Lab) -> None:
    only_oci(lab, "no black hole on this underlay")
    check(lab, "clamp-negative", clamp.clamp_negative)


@pytest.mark.parametrize("name", [name for name, _ in faults.FAULTS])
def test_fault(lab: Lab, name: str) -> None:
    check(lab, name, dict(faults.FAULTS)[name])


def test_evidence_keeps_no_secret(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The failure folder has every namespace's state but no private key."""
    dest = evidence.collect(lab, dest=tmp_path_factory.mktemp("evidence"))
    keys = [p.read_text().strip() for p in (lab.dir / "keys").glob("*.key")]
    assert len(keys) == 2
    for path in dest.iterdir():
        text = path.read_text(errors="replace")
        assert not any(k in text for k in keys), f"private key in {path.name}"
    wg = (dest / "cloud-wg.txt").read_text()
    assert lab.onprem.tunnel not in wg and "10.40.8.31/32" in wg
    assert (dest / f"{lab.topo.ns_name('fab')}-nft.json").read_text().count("held") >= 1


def test_routerd_logs_clean(lab: Lab) -> None:
    check(lab, "routerd-logs", plans.routerd_logs)
