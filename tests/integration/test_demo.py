"""`routerd demo`: every scenario through the real CLI entry point, JSON output checked."""

from __future__ import annotations

import json

import pytest

from routerd.cli.routerd_main import main


def run(capsys, *args: str) -> tuple[int, dict]:
    code = main(["demo", "-o", "json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("provider", ["azure", "aws", "oci", "gcp"])
def test_smoke_moves_both_addresses(capsys, provider):
    code, out = run(capsys, "--provider", provider)
    assert code == 0
    assert out["provider"] == provider
    assert {(c["router"], c["address"], c["state"]) for c in out["claims"]} == {
        ("cloud-router", "10.40.8.31/32", "verified"),
        ("onprem-router", "10.40.8.21/32", "verified"),
    }
    by_name = {c["name"]: c for c in out["checks"]}
    assert by_name["ping cloud-vm -> 10.40.8.31"]["source_seen"] == "10.40.8.21"
    assert by_name["ping onprem-vm -> 10.40.8.21"]["source_seen"] == "10.40.8.31"
    assert all(c["ok"] for c in out["checks"]), out["checks"]


def test_oci_black_hole_without_clamp(capsys):
    code, out = run(capsys, "--scenario", "oci-no-clamp")
    assert code == 0 and out["provider"] == "oci"
    names = [c["name"] for c in out["checks"]]
    assert "100 MiB TCP copy stalls without the clamp cloud-vm -> 10.40.8.31" in names
    stall = next(c for c in out["checks"] if "stalls" in c["name"])
    assert "black hole" in stall["detail"]
    assert any(c["state"] == "degraded" for c in out["claims"])


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("agent-readds", "os-address-present"),
        ("drift", "route-not-installed"),
    ],
)
def test_faults_degrade_with_reason_and_heal(capsys, scenario, reason):
    code, out = run(capsys, "--scenario", scenario)
    assert code == 0
    assert any(
        c["name"] == f"claim went degraded with reason {reason}" and c["ok"] for c in out["checks"]
    )
    assert all(c["state"] == "verified" for c in out["claims"])


def test_oci_image_firewall_blocks_until_host_rule(capsys):
    code, out = run(capsys, "--scenario", "oci-firewall")
    assert code == 0
    assert out["checks"][0]["name"] == "every claim delivering (handshake-stale)"


def test_text_output_is_short_and_says_all_passed(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert text.rstrip().endswith("All checks passed.")
    assert len(text.splitlines()) < 40


def test_live_migration_moves_the_home_and_measures_the_outage(capsys):
    code, out = run(capsys, "--scenario", "live-migration")
    assert code == 0, out["checks"]
    assert all(c["ok"] for c in out["checks"]), out["checks"]
    before = {h["address"]: (h["home"], h["sequence"]) for h in out["before"]["homes"]}
    after = {h["address"]: (h["home"], h["sequence"]) for h in out["after"]["homes"]}
    assert (before["10.77.1.50"], after["10.77.1.50"]) == (("site-a", 1), ("site-b", 2))
    assert out["before"]["trace"]["via"][-1] == "ra" and out["after"]["trace"]["via"][-1] == "rb"
    assert out["after"]["trace"]["delivered_to"] == "migrant"
    # the reflector's 1 ms per hop: rb -> reflector -> the others, then the reply's way back
    assert 1.0 <= out["outage_ms"] < 100.0
    assert {(c["router"], c["state"]) for c in out["claims"]} == {
        ("ra", "verified"),
        ("rb", "verified"),
        ("rc", "verified"),
    }
