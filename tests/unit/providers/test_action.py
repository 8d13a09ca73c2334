"""Display-only action plans: exact provider commands with the bare address, and undo."""

from __future__ import annotations

import shlex

import pytest

from routerd.core.config import RouterConfig
from routerd.core.errors import ProviderError
from routerd.core.loader import load_text
from routerd.core.resources import CloudProviderProfile, RemoteAddressClaim
from routerd.providers import action_plans
from routerd.providers.base import ActionPlan
from tests.unit.providers.conftest import example_text

ENI = "eni-0a1b2c3d4e5f60789"
VNIC = "ocid1.vnic.oc1.ap-tokyo-1.abxhiljrexampleexampleexampleexampleexampleexample"
AZ_SCOPE = "--subscription 00000000-0000-0000-0000-000000000000 --resource-group rg-sam-lab"
GCP_NIC = "cloud-rt-a --project sam-lab --zone asia-northeast1-a --network-interface nic0"


def _load(provider: str, replace: dict[str, str] | None = None) -> RouterConfig:
    result = load_text(example_text(provider, replace), f"examples/{provider}/cloud.yaml")
    assert result.config is not None, [e.render() for e in result.errors]
    return result.config


def _plans(
    provider: str, replace: dict[str, str] | None = None, *, reassign: bool = False
) -> list[ActionPlan]:
    cfg = _load(provider, replace)
    [claim] = cfg.of(RemoteAddressClaim)
    profile = cfg.get(CloudProviderProfile, claim.spec.capture.provider_ref)
    assert profile is not None
    return action_plans(claim, profile, reassign=reassign)


def _cmds(plans: list[ActionPlan]) -> dict[str, tuple[str, str]]:
    return {p.action: (shlex.join(p.command), shlex.join(p.undo_command or ())) for p in plans}


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        pytest.param(
            "aws",
            {
                "assign-secondary-ip": (
                    f"aws ec2 assign-private-ip-addresses --network-interface-id {ENI} "
                    "--private-ip-addresses 10.40.8.31 --region ap-northeast-1",
                    f"aws ec2 unassign-private-ip-addresses --network-interface-id {ENI} "
                    "--private-ip-addresses 10.40.8.31 --region ap-northeast-1",
                ),
                "ensure-forwarding-enabled": (
                    f"aws ec2 modify-network-interface-attribute --network-interface-id {ENI} "
                    "--no-source-dest-check --region ap-northeast-1",
                    f"aws ec2 modify-network-interface-attribute --network-interface-id {ENI} "
                    "--source-dest-check --region ap-northeast-1",
                ),
            },
            id="aws",
        ),
        pytest.param(
            "azure",
            {
                "assign-secondary-ip": (
                    f"az network nic ip-config create {AZ_SCOPE} --nic-name cloud-rt-a-nic "
                    "--name routerd-10-40-8-31 --private-ip-address 10.40.8.31",
                    f"az network nic ip-config delete {AZ_SCOPE} --nic-name cloud-rt-a-nic "
                    "--name routerd-10-40-8-31",
                ),
                "ensure-forwarding-enabled": (
                    f"az network nic update {AZ_SCOPE} --name cloud-rt-a-nic --ip-forwarding true",
                    f"az network nic update {AZ_SCOPE} --name cloud-rt-a-nic --ip-forwarding false",
                ),
            },
            id="azure",
        ),
        pytest.param(
            "oci",
            {
                "assign-secondary-ip": (
                    f"oci network vnic assign-private-ip --vnic-id {VNIC} "
                    "--ip-address 10.40.8.31 --region ap-tokyo-1",
                    f"oci network vnic unassign-private-ip --vnic-id {VNIC} "
                    "--ip-address 10.40.8.31 --region ap-tokyo-1",
                ),
                "ensure-forwarding-enabled": (
                    f"oci network vnic update --vnic-id {VNIC} --skip-source-dest-check true "
                    "--region ap-tokyo-1",
                    f"oci network vnic update --vnic-id {VNIC} --skip-source-dest-check false "
                    "--region ap-tokyo-1",
                ),
            },
            id="oci",
        ),
        pytest.param(
            "gcp",
            {
                "assign-secondary-ip": (
                    f"gcloud compute instances network-interfaces update {GCP_NIC} "
                    "--aliases 10.40.8.31/32",
                    f"gcloud compute instances network-interfaces update {GCP_NIC} --aliases ''",
                ),
                "ensure-forwarding-enabled": (
                    "gcloud compute instances update-from-file cloud-rt-a --project sam-lab "
                    "--zone asia-northeast1-a --source cloud-rt-a-can-ip-forward-true.yaml "
                    "--most-disruptive-allowed-action REFRESH",
                    "gcloud compute instances update-from-file cloud-rt-a --project sam-lab "
                    "--zone asia-northeast1-a --source cloud-rt-a-can-ip-forward-false.yaml "
                    "--most-disruptive-allowed-action REFRESH",
                ),
            },
            id="gcp",
        ),
    ],
)
def test_example_plans(provider: str, expected: dict[str, tuple[str, str]]) -> None:
    plans = _plans(provider)
    assert [p.action for p in plans] == ["assign-secondary-ip", "ensure-forwarding-enabled"]
    assert _cmds(plans) == expected
    assert [p.undo_action for p in plans] == ["unassign-secondary-ip", "ensure-forwarding-disabled"]
    assert all(p.display_only and p.provider == provider for p in plans)
    assert all(p.name == f"onprem-vm-31/{p.action}" for p in plans)


@pytest.mark.parametrize("provider", ["aws", "azure", "oci"])
def test_address_parameters_are_bare_ips(provider: str) -> None:
    """D19 (docs/decisions.md): AWS rejected 10.77.60.10/32 as "Not a valid IP address"."""
    for plan in _plans(provider, {"10.40.8.31/32": "10.40.8.77/32"}):
        argv = [*plan.command, *(plan.undo_command or ())]
        assert not any("/32" in arg for arg in argv)
        if plan.action.endswith("secondary-ip"):
            assert "10.40.8.77" in argv
        assert plan.target["address"] == "10.40.8.77"


def test_gcp_alias_is_a_range_and_warns_about_replacement() -> None:
    [assign, _] = _plans("gcp", {"10.40.8.31/32": "10.40.8.77/32"})
    assert assign.command[-2:] == ("--aliases", "10.40.8.77/32")
    assert any("replaces the NIC's whole alias list" in n for n in assign.notes)


def test_region_is_omitted_when_the_profile_has_none() -> None:
    for plan in _plans("aws", {"        region: ap-northeast-1\n": ""}):
        assert "--region" not in plan.command


@pytest.mark.parametrize(
    ("provider", "flag"),
    [
        pytest.param("aws", "--allow-reassignment", id="aws"),
        pytest.param("oci", "--unassign-if-already-assigned", id="oci"),
    ],
)
def test_reassign_uses_the_provider_move_flag(provider: str, flag: str) -> None:
    plain, _ = _plans(provider)
    moving, _ = _plans(provider, reassign=True)
    assert flag not in plain.command
    assert flag in moving.command
    assert moving.undo_command == plain.undo_command


@pytest.mark.parametrize("provider", ["azure", "gcp"])
def test_reassign_without_atomic_move_is_two_operations(provider: str) -> None:
    plain, _ = _plans(provider)
    moving, _ = _plans(provider, reassign=True)
    assert moving.command == plain.command
    assert "first" in moving.notes[0] and "10.40.8.31" in moving.notes[0]


@pytest.mark.parametrize("provider", ["aws", "azure", "oci", "gcp"])
def test_undo_caveats_say_when_to_run_the_undo(provider: str) -> None:
    """D30: routerd never unassigns by itself, so every plan says when the undo is safe."""
    assign, forwarding = _plans(provider)
    assert any(
        "only after the claim is removed or its address has moved" in n
        and "routerd never unassigns" in n
        for n in assign.notes
    )
    assert any("no other claim captures through this NIC" in n for n in forwarding.notes)


def test_oci_assign_plan_carries_the_host_firewall_note() -> None:
    assign, _ = _plans("oci")
    note = next(n for n in assign.notes if "guest iptables policy" in n)
    assert "FORWARD ens3 <-> wg-sam" in note


def test_proxy_arp_claim_needs_no_provider_action() -> None:
    cfg = _load("aws")
    [claim] = cfg.of(RemoteAddressClaim)
    profile = cfg.get(CloudProviderProfile, "aws-lab")
    assert profile is not None
    capture = claim.spec.capture.model_copy(update={"type": "proxy-arp"})
    proxy = claim.model_copy(update={"spec": claim.spec.model_copy(update={"capture": capture})})
    assert action_plans(proxy, profile) == []


def test_malformed_nic_ref_is_a_provider_error() -> None:
    cfg = _load("aws")
    [claim] = cfg.of(RemoteAddressClaim)
    profile = cfg.get(CloudProviderProfile, "aws-lab")
    assert profile is not None
    capture = claim.spec.capture.model_copy(update={"nic_ref": "eni-123"})
    bad = claim.model_copy(update={"spec": claim.spec.model_copy(update={"capture": capture})})
    with pytest.raises(ProviderError) as e:
        action_plans(bad, profile)
    assert e.value.supporting_data == {
        "claim": "RemoteAddressClaim/onprem-vm-31",
        "nicRef": "eni-123",
        "provider": "aws",
    }
    assert not e.value.retryable


def test_action_plan_is_immutable_and_serialisable() -> None:
    plan = _plans("aws")[0]
    with pytest.raises(AttributeError):
        plan.command = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.target["address"] = "10.0.0.1"  # type: ignore[index]
    doc = plan.as_dict()
    assert doc["command"] == list(plan.command)
    assert doc["undoCommand"] == list(plan.undo_command or ())
    assert doc["displayOnly"] is True
    assert doc["target"]["eni"] == ENI


def test_providers_never_execute_anything() -> None:
    """Plans are display-only: no module under routerd/providers can start a process."""
    import ast
    from pathlib import Path

    import routerd.providers

    root = Path(routerd.providers.__file__).parent
    forbidden = {
        "subprocess",
        "os.system",
        "os.popen",
        "os.exec",
        "os.spawn",
        "pty",
        "shutil.which",
    }
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                names = [f"{node.value.id}.{node.attr}"]
            hits = [n for n in names if any(n.startswith(f) for f in forbidden)]
            assert not hits, f"{path.relative_to(root)}: {hits}"
