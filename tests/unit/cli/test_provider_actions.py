"""Provider commands and their undo, as ``routerd plan`` prints them (and describe reuses).

What would break: a plan that stops printing the undo a person needs later, a claim whose
capture needs no provider step getting one, the document path (``routerctl``) disagreeing
with the config path (``routerd plan``), or a broken nicRef hiding the section silently.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format, struct_pb2

from routerd.cli import provider_actions, routerd_main
from routerd.core.resources import CloudProviderProfile, RemoteAddressClaim
from routerd.providers import action_plans
from tests.support.configs import example_text, load, with_keys

PROVIDERS = ("aws", "azure", "oci", "gcp")


def run_plan(tmp_path: Path, text: str, *extra: str) -> str:
    config = tmp_path / "router.yaml"
    config.write_text(text)
    argv = ["plan", "-c", str(config), "--backend", "sim", "--state-dir", str(tmp_path / "s")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert routerd_main.main([*argv, *extra]) == 0
    return out.getvalue()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plan_prints_every_provider_command_with_its_undo(provider, tmp_path):
    text = with_keys(example_text(provider, "cloud"), tmp_path / "keys")
    config = load(text)
    [claim] = [c for c in config.of(RemoteAddressClaim)]
    profile = config.get(CloudProviderProfile, claim.spec.capture.provider_ref)
    assert profile is not None
    plans = action_plans(claim, profile)
    assert plans
    out = run_plan(tmp_path, text)
    assert provider_actions.HEADING in out
    for plan in plans:
        assert f"{claim.ref} {plan.action}:" in out
        assert f"run:  {shlex.join(plan.command)}" in out
        assert plan.undo_command is not None
        assert f"undo: {shlex.join(plan.undo_command)}" in out
    data = json.loads(run_plan(tmp_path, text, "-o", "json"))
    [entry] = data["providerActions"]
    assert entry["claim"] == claim.ref
    assert [p["undoCommand"] for p in entry["plans"]] == [list(p.undo_command) for p in plans]


def test_a_proxy_arp_router_gets_no_provider_section(tmp_path):
    text = with_keys(example_text("aws", "onprem"), tmp_path / "keys")
    assert provider_actions.for_config(load(text)) == []
    out = run_plan(tmp_path, text)
    assert "Provider actions" not in out
    assert json.loads(run_plan(tmp_path, text, "-o", "json"))["providerActions"] == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_document_path_agrees_with_the_config_path(provider, tmp_path):
    text = with_keys(example_text(provider, "cloud"), tmp_path / "keys")
    config = load(text)
    [want] = provider_actions.for_config(config)
    # What routerctl receives: the effective document through a protobuf Struct (numbers
    # come back as floats).
    struct = struct_pb2.Struct()
    struct.update(yaml.safe_load(text))
    document = json_format.MessageToDict(struct)
    name = want.claim.split("/")[1]
    assert provider_actions.for_document(document, name) == want
    assert provider_actions.for_document(document, "no-such-claim") is None


def test_a_profile_missing_from_the_document_is_said_not_hidden(tmp_path):
    document = yaml.safe_load(with_keys(example_text("aws", "cloud"), tmp_path / "keys"))
    resources = document["spec"]["resources"]
    document["spec"]["resources"] = [r for r in resources if r["kind"] != "CloudProviderProfile"]
    entry = provider_actions.for_document(document, "onprem-vm-31")
    assert entry is not None and not entry.plans
    assert "no CloudProviderProfile 'aws-lab'" in entry.problem
    lines = provider_actions.render([entry])
    assert lines[1] == f"  RemoteAddressClaim/onprem-vm-31: none shown: {entry.problem}"
