"""Provider execution in config: validation rules, the desired targets, redaction, the plan.

Pure (no double needed): configs are the shipped AWS example with the profile switched to
``execution: execute``, so the rules are checked on the config people start from.
"""

from __future__ import annotations

from typing import Any

import yaml

from routerd.core.action_journal import HeldAddress
from routerd.core.loader import load_text
from routerd.core.lowering import lower
from routerd.providers import config_checks
from routerd.providers.execution import Holding
from routerd.providers.reconcile_plan import action_key, plan_profile
from routerd.providers.redact import MASK, redact
from routerd.providers.targets import desired_targets
from tests.support.configs import example_text

HYBRID = "hybrid.routerd.net/v1alpha1"
ENI = "eni-0a1b2c3d4e5f60789"


def example(*, execution: str = "execute", policy: dict[str, Any] | None = None) -> str:
    doc = yaml.safe_load(example_text("aws", "cloud"))
    resources = doc["spec"]["resources"]
    for r in resources:
        if r["kind"] == "CloudProviderProfile":
            r["spec"]["execution"] = execution
    if policy is not None:
        spec = {
            "providerRef": "aws-lab",
            "allowedPrefixes": ["10.40.8.0/24"],
            "actions": ["assign", "unassign"],
            **policy,
        }
        resources.append(
            {
                "apiVersion": HYBRID,
                "kind": "ProviderActionPolicy",
                "metadata": {"name": "acts"},
                "spec": spec,
            }
        )
    return yaml.safe_dump(doc, sort_keys=False)


def issues(text: str) -> tuple[list[str], list[str]]:
    result = load_text(text, extra_checks=[config_checks])
    return [e.render() for e in result.errors], [w.render() for w in result.warnings]


def test_executing_profile_without_policy_is_refused_with_what_to_do() -> None:
    errors, _ = issues(example())
    assert len(errors) == 1
    assert "CloudProviderProfile/aws-lab spec.execution" in errors[0]
    assert "ProviderActionPolicy with providerRef: aws-lab" in errors[0]
    assert "execution: plan" in errors[0]


def test_every_problem_is_reported_at_once() -> None:
    text = example(policy={})
    doc = yaml.safe_load(text)
    doc["spec"]["resources"] += [
        {
            "apiVersion": HYBRID,
            "kind": "ProviderActionPolicy",
            "metadata": {"name": "second"},
            "spec": {
                "providerRef": "aws-lab",
                "allowedPrefixes": ["10.0.0.0/8"],
                "actions": ["assign"],
            },
        },
        {
            "apiVersion": HYBRID,
            "kind": "ProviderActionPolicy",
            "metadata": {"name": "dangling"},
            "spec": {
                "providerRef": "nope",
                "allowedPrefixes": ["10.0.0.0/8"],
                "actions": ["assign"],
            },
        },
    ]
    errors, _ = issues(yaml.safe_dump(doc))
    assert len(errors) == 2, errors
    assert any(
        "ProviderActionPolicy/second spec.providerRef" in e and "already has" in e for e in errors
    )
    assert any("ProviderActionPolicy/dangling spec.providerRef" in e for e in errors)


def test_policy_fields_are_checked_with_their_path() -> None:
    bad = example(policy={"allowedPrefixes": [], "actions": ["delete"], "approval": "maybe"})
    errors, _ = issues(bad)
    text = "\n".join(errors)
    assert "spec.allowedPrefixes" in text and "nothing would be allowed" in text
    assert "spec.actions" in text and "'delete' is not an action" in text
    assert "spec.approval" in text


def test_warnings_for_addresses_outside_and_a_policy_that_does_nothing() -> None:
    errors, warnings = issues(example(policy={"allowedPrefixes": ["10.99.0.0/16"]}))
    assert errors == []
    assert any(
        "RemoteAddressClaim/onprem-vm-31 spec.address" in w and "outside" in w for w in warnings
    )
    _, warnings = issues(example(execution="plan", policy={}))
    assert any("has execution: plan" in w and "no effect" in w for w in warnings)
    _, warnings = issues(example(policy={"enabled": False, "actions": ["unassign"]}))
    assert any("spec.enabled" in w for w in warnings)
    assert any("assign is not allowed" in w for w in warnings)


def test_oci_azure_gcp_need_their_scope_to_execute() -> None:
    for cloud, field in (
        ("oci", "spec.subnet"),
        ("azure", "spec.subscriptionID"),
        ("gcp", "spec.project"),
    ):
        doc = yaml.safe_load(example_text(cloud, "cloud"))
        for r in doc["spec"]["resources"]:
            if r["kind"] == "CloudProviderProfile":
                r["spec"]["execution"] = "execute"
                r["spec"].pop("subscriptionID", None)
                r["spec"].pop("project", None)
                name = r["metadata"]["name"]
        doc["spec"]["resources"].append(
            {
                "apiVersion": HYBRID,
                "kind": "ProviderActionPolicy",
                "metadata": {"name": "a"},
                "spec": {
                    "providerRef": name,
                    "allowedPrefixes": ["10.40.8.0/24"],
                    "actions": ["assign"],
                },
            }
        )
        errors, _ = issues(yaml.safe_dump(doc))
        assert any(field in e and "execution: execute" in e for e in errors), (cloud, errors)


def test_desired_targets_follow_the_policy() -> None:
    result = load_text(example(policy={"allowedPrefixes": ["10.40.8.0/28"]}))
    assert result.config is not None
    config = result.config
    wanted = desired_targets(config, lower(config).claims)
    pt = wanted["aws-lab"]
    assert pt.targets == {} and "outside ProviderActionPolicy/acts" in pt.blocked["10.40.8.31"]
    ok = load_text(example(policy={}))
    assert ok.config is not None
    pt = desired_targets(ok.config, lower(ok.config).claims)["aws-lab"]
    assert pt.active and pt.targets["10.40.8.31"].nic == ENI
    plan = load_text(example(execution="plan"))
    assert plan.config is not None
    assert desired_targets(plan.config, lower(plan.config).claims) == {}


def test_plan_releases_only_its_own_and_never_a_primary() -> None:
    result = load_text(example(policy={"actions": ["assign", "unassign", "reassign"]}))
    assert result.config is not None
    pt = desired_targets(result.config, lower(result.config).claims)["aws-lab"]
    held = {
        "10.40.8.31": Holding("eni-other", primary=True),
        "10.40.8.40": Holding(ENI),
        "10.40.8.41": Holding(ENI),
        "10.40.8.42": Holding("eni-moved"),
    }
    mine = {ip: HeldAddress(ip, "aws-lab", ENI, "k", 0.0) for ip in ("10.40.8.40", "10.40.8.42")}
    plan = plan_profile(pt, held, mine)
    assert [(s.operation, s.address) for s in plan.steps] == [("unassign", "10.40.8.40")]
    assert "primary IP" in plan.blocked["10.40.8.31"]
    assert plan.forget == ["10.40.8.42"], "not on our NIC any more: forgotten, not touched"
    assert "10.40.8.41" not in plan.wants, (
        "an address routerd did not assign is none of its business"
    )
    key = action_key(plan.steps[0], ENI, 3)
    assert key.startswith("rd:10.40.8.40:unassign:") and key.endswith(":3") and len(key) <= 128


def test_redaction_masks_secrets_and_keeps_the_rest() -> None:
    doc = {
        "request": {"nic": ENI, "SessionToken": "abc", "nested": [{"client_secret": "x"}]},
        "error": "denied: Authorization: Bearer eyJhbGciOi.payload.sig and "
        "X-Amz-Signature=deadbeef&X-Amz-Credential=ASIAXYZ/2026",
    }
    out = redact(doc)
    assert out["request"]["nic"] == ENI
    assert out["request"]["SessionToken"] == MASK
    assert out["request"]["nested"][0]["client_secret"] == MASK
    assert "eyJhbGciOi" not in out["error"] and "deadbeef" not in out["error"]
    assert "ASIAXYZ" not in out["error"] and "denied" in out["error"]
