"""#52: the host firewall check over iptables (legacy and nft backends) and native nft."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routerd.core.doctor import Status
from tests.unit.doctor.kit import Scene, not_found, one, sample

Recorded = Callable[[str], Scene]
CHECK = "vm31 host firewall"


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        pytest.param("oci-iptables-nft", "iptables-nft", id="nft-backend"),
        pytest.param("oci-iptables-legacy", "iptables-legacy", id="legacy-backend"),
    ],
)
def test_oci_reject_all_without_accepts_warns_with_exact_rules(
    recorded: Recorded, name: str, tool: str
) -> None:
    s = recorded(name)
    br, wg = s.names["br"], s.names["wg1"]
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN
    assert f"{br} -> {wg} blocked by {tool}-save FORWARD" in f.detail
    assert f"{wg} -> {br} blocked" in f.detail and "udp dport 51821 blocked" in f.detail
    for rule in (
        f"{tool} -I FORWARD 1 -i {br} -o {wg} -j ACCEPT",
        f"{tool} -I FORWARD 1 -i {wg} -o {br} -j ACCEPT",
        f"{tool} -I INPUT 1 -p udp --dport 51821 -j ACCEPT",
    ):
        assert rule in f.remedy
    # the block lives in iptables: no nft command for a table the host does not have
    assert "nft insert rule inet filter" not in f.remedy


@pytest.mark.parametrize("name", ["oci-iptables-nft-open", "oci-iptables-legacy-open"])
def test_accepts_for_both_directions_and_the_udp_port_pass(recorded: Recorded, name: str) -> None:
    f = one(recorded(name).doctor(), CHECK)
    assert f.status is Status.PASS
    assert f.remedy == ""


def test_iptables_nft_tables_are_not_counted_twice_through_nft(recorded: Recorded) -> None:
    f = one(recorded("oci-iptables-nft").doctor(), CHECK)
    assert "nft ip filter" not in f.detail  # judged once, as iptables-nft, not again as xt


def test_native_nft_default_drop_warns_and_names_the_chain(recorded: Recorded) -> None:
    s = recorded("nft-native-drop")
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN
    assert "nft inet filter forward (policy drop)" in f.detail
    assert "nft inet filter input (policy drop)" in f.detail
    assert f'nft insert rule inet filter forward iifname "{s.names["br"]}"' in f.remedy


def test_native_nft_accepts_before_the_policy_pass(recorded: Recorded) -> None:
    assert one(recorded("nft-native-open").doctor(), CHECK).status is Status.PASS


def test_an_accept_after_a_drop_does_not_count(recorded: Recorded) -> None:
    s = recorded("nft-native-late-accept")
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN
    assert "rule handle" in f.detail and "blocked" in f.detail
    assert "udp dport" not in f.detail  # input is open (policy accept)


def test_rules_it_cannot_evaluate_are_named(recorded: Recorded) -> None:
    f = one(recorded("oci-iptables-legacy").doctor(), CHECK)
    assert "could not fully evaluate udp dport 51821" in f.detail
    assert "--sport 123" in f.detail


def test_nothing_readable_skips_with_every_reason(recorded: Recorded) -> None:
    s = recorded("healthy")
    for tool in ("iptables-nft-save", "iptables-legacy-save"):
        s.adopt(sample("permission denied", tool))
    s.host.with_command(
        sample("permission denied", "nft") | {"argv": ["nft", "-j", "list", "ruleset"]}
    )
    f = one(s.doctor(), CHECK)
    assert f.status is Status.SKIP
    assert "iptables-nft-save" in f.detail and "permission denied running nft" in f.detail


def test_minus_s_form_is_read_when_save_is_missing(recorded: Recorded) -> None:
    s = recorded("healthy")
    for backend in ("nft", "legacy"):
        s.host.with_command(not_found(f"iptables-{backend}-save", "-t", "filter"))
    s.adopt(sample("OCI rules, nft backend"))
    s.adopt(sample("OCI rules, legacy backend"))
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN
    assert "blocked by iptables-nft -S FORWARD" in f.detail
    assert "blocked by iptables-legacy -S FORWARD" in f.detail
