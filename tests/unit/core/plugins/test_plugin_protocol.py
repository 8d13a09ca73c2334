"""PluginRequest encoding and PluginResult decoding (the protocol of docs/plugins.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routerd.core.plugins.protocol import (
    ResultDecodeError,
    RunTrigger,
    build_request,
    decode_result,
)
from routerd.core.resources import IPv4Route
from tests.unit.core.plugins.kit import result_doc

ROUTE = {
    "apiVersion": "net.routerd.net/v1alpha1",
    "kind": "IPv4Route",
    "metadata": {"name": "dyn-route"},
    "spec": {"destination": "10.9.0.0/16", "device": "wg0"},
}
MASK = {
    "op": "mask",
    "target": {"apiVersion": "net.routerd.net/v1alpha1", "kind": "IPv4Route", "name": "old"},
    "reason": "moved",
}


def encode(status: dict[str, Any]) -> bytes:
    return json.dumps(result_doc(status)).encode()


def problems(stdout: bytes) -> str:
    with pytest.raises(ResultDecodeError) as info:
        decode_result(stdout)
    return str(info.value)


def test_request_is_one_line_of_the_documented_shape() -> None:
    raw = build_request(
        "inv",
        trigger=RunTrigger("event", "cloud.refresh"),
        startup_hash="ab" * 32,
        effective_generation=7,
        previous_generation=3,
        now=1_800_000_000.0,
    )
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    assert json.loads(raw) == {
        "apiVersion": "plugin.routerd.net/v1alpha1",
        "kind": "PluginRequest",
        "metadata": {"name": "inv"},
        "spec": {
            "trigger": {"type": "event", "topic": "cloud.refresh"},
            "startupConfigHash": "ab" * 32,
            "effectiveGeneration": 7,
            "previousDynamicGeneration": 3,
            "now": "2027-01-15T08:00:00Z",
        },
    }


def test_unknown_trigger_type_is_refused() -> None:
    with pytest.raises(ValueError, match="manual, interval, event"):
        RunTrigger("cron")


def test_full_result_decodes_into_typed_resources() -> None:
    plan = {"name": "p", "provider": "oci", "action": "assign", "target": {"ip": "10.0.0.1"}}
    result = decode_result(
        encode(
            {
                "observedAt": "2026-05-29T14:10:00Z",
                "ttl": "4m",
                "resources": [ROUTE],
                "directives": [MASK],
                "actionPlans": [plan],
                "events": [{"type": "Seen", "message": "x"}, {"type": "Seen", "message": "y"}],
            }
        )
    )
    assert result.ttl == 240
    assert result.observed_at == "2026-05-29T14:10:00Z"
    assert isinstance(result.resources[0], IPv4Route)
    assert result.resources[0].spec.destination == "10.9.0.0/16"
    assert result.directives[0].target.identity == ("net.routerd.net/v1alpha1", "IPv4Route", "old")
    assert result.action_plans == (plan,)
    assert len(result.events) == 2


def test_yaml_output_is_accepted() -> None:
    text = (
        "apiVersion: plugin.routerd.net/v1alpha1\nkind: PluginResult\n"
        "status:\n  ttl: 30s\n  observedAt: 2026-05-29T14:10:00Z\n"
    )
    result = decode_result(text.encode())
    assert (result.ttl, result.observed_at) == (30, "2026-05-29T14:10:00Z")


def test_missing_ttl_is_an_error() -> None:
    assert "status.ttl: required" in problems(encode({"resources": [ROUTE]}))


@pytest.mark.parametrize("ttl", ["0s", "-5s", "soon", 30])
def test_ttl_must_be_a_positive_go_duration(ttl: object) -> None:
    assert "status.ttl:" in problems(encode({"ttl": ttl}))


def test_non_mask_directive_is_an_error() -> None:
    bad = {**MASK, "op": "delete"}
    msg = problems(encode({"ttl": "1m", "directives": [MASK, bad]}))
    assert "status.directives.1.op: directive op 'delete' is not supported" in msg
    assert "only propose mask" in msg


def test_unknown_kind_names_the_resource_and_path() -> None:
    frob = {"apiVersion": "x/v1", "kind": "Frobnicator", "metadata": {"name": "f"}, "spec": {}}
    msg = problems(encode({"ttl": "1m", "resources": [ROUTE, frob]}))
    assert "Frobnicator/f status.resources.1.kind: unknown kind 'Frobnicator'" in msg


def test_bad_field_type_names_the_resource_and_field_path() -> None:
    bad = {**ROUTE, "spec": {"destination": "10.9.0.0/16", "device": "wg0", "metric": "high"}}
    msg = problems(encode({"ttl": "1m", "resources": [bad]}))
    assert "IPv4Route/dyn-route status.resources.0.spec.metric:" in msg


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        pytest.param(b"", "stdout is empty", id="empty"),
        pytest.param(b'{"apiVersion": ', "invalid JSON", id="truncated-json"),
        pytest.param(b"\xff\xfe", "not UTF-8", id="binary"),
        pytest.param(b"[1, 2]", "one PluginResult mapping", id="list"),
        pytest.param(b"a: [b\n", "YAML", id="broken-yaml"),
        pytest.param(
            json.dumps({"apiVersion": "v1", "kind": "PluginResult", "status": {}}).encode(),
            "apiVersion: must be plugin.routerd.net/v1alpha1",
            id="wrong-api",
        ),
        pytest.param(
            json.dumps({"apiVersion": "plugin.routerd.net/v1alpha1", "kind": "X"}).encode(),
            "kind: must be PluginResult",
            id="wrong-kind",
        ),
        pytest.param(encode({"ttl": "1m", "resource": []}), "status.resource: unknown", id="typo"),
        pytest.param(encode({"ttl": "1m", "observedAt": "yesterday"}), "RFC3339", id="time"),
        pytest.param(encode({"ttl": "1m", "actionPlans": ["x"]}), "actionPlans.0", id="plan"),
    ],
)
def test_malformed_output_is_rejected_with_the_reason(stdout: bytes, expected: str) -> None:
    assert expected in problems(stdout)
