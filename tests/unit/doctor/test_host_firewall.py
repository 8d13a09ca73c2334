"""The host firewall check over recorded rulesets: every tool, every family, mixed.

The recordings (``tests/fixtures/doctor``, see its README for how each was produced) hold
what ``nft -j list ruleset``, ``nft list ruleset``, ``iptables-legacy-save`` and
``iptables-nft-save`` really printed for each ruleset; ``fw-*.json`` are the shapes of
``firewall_shapes`` (the same ones the root netns test writes live).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routerd.core.doctor import DoctorContext, Finding, Status
from routerd.doctor import host_firewall
from routerd.doctor.inputs import resolve
from routerd.doctor.ip_batch import BATCH
from tests.fixtures.doctor import firewall_shapes as fs
from tests.fixtures.doctor.topology import CLAIM_IP
from tests.unit.doctor.kit import Scene, config_of, not_found, one, sample

Recorded = Callable[[str], Scene]
CHECK = "vm31 host firewall"
NFT_RULESET = ("nft", "-j", "list", "ruleset")


def finding(s: Scene, **ctx: object) -> Finding:
    return one(s.doctor(**ctx), CHECK)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", fs.SHAPES, ids=[s.name for s in fs.SHAPES])
def test_each_recorded_shape_gets_the_finding_it_deserves(
    recorded: Recorded, shape: fs.Shape
) -> None:
    s = recorded(f"fw-{shape.name}")
    want = fs.expected(s.rec["topology"]["prefix"], shape)
    f = finding(s)
    assert f.status.value == want.status, f.detail
    for words in want.detail:
        assert words in f.detail, (words, f.detail.split("; "))
    for words in want.remedy:
        assert words in f.remedy, (words, f.remedy)
    for words in want.absent:
        assert words not in f.detail + f.remedy, words
    assert (f.remedy == "") == (want.status == "pass")


def test_a_native_forward_chain_in_a_table_iptables_nft_calls_incompatible_is_walked(
    recorded: Recorded,
) -> None:
    """The reported false pass: iptables-nft lists ``ip filter`` as an empty FORWARD chain
    (it cannot show a chain at priority 10), so reading it in place of nft hides the drop."""
    s = recorded("fw-collision-forward")
    view = s.recorded("iptables-nft-save").stdout
    assert "Table `filter' contains incompatible base-chains" in view
    assert "-A FORWARD" not in view.split("*filter", 1)[1]
    f = finding(s)
    assert f.status is Status.WARN
    assert "blocked by nft ip filter FORWARD at forward priority 10" in f.detail
    assert f.remedy.count("nft insert rule ip filter FORWARD") == 1
    assert "iptables-nft -I" not in f.remedy  # iptables-nft refuses that table


def test_a_native_rule_in_iptables_nfts_chain_is_quoted_from_nft_not_from_iptables(
    recorded: Recorded,
) -> None:
    """iptables-nft-save prints the set-based drop without its set (as a drop of all to the
    tunnel); the finding must quote what the kernel runs."""
    s = recorded("fw-collision-inserted")
    wg = s.names["wg1"]
    assert f"-A FORWARD -o {wg} -j DROP" in s.recorded("iptables-nft-save").stdout
    f = finding(s)
    assert f"-A FORWARD -o {wg} -j DROP" not in f.detail
    assert f'oifname "{wg}" drop' in f.detail and "handle" in f.detail


def test_xt_matches_are_decoded_with_iptables_nft_save(recorded: Recorded) -> None:
    s = recorded("fw-iptables-nft-xt")
    assert '"xt"' in s.recorded(*NFT_RULESET).stdout  # nft shows the conntrack match by name
    f = finding(s)
    assert "-m conntrack --ctstate NEW -j REJECT" in f.detail
    assert "iptables-nft-save (decodes iptables-nft rules)" in f.detail


def test_without_iptables_nft_save_xt_rules_cannot_be_proven(recorded: Recorded) -> None:
    s = recorded("fw-iptables-nft-xt")
    s.host.with_command(not_found("iptables-nft-save"))
    s.host.with_command(not_found("iptables-nft", "-S"))
    f = finding(s)
    assert f.status is Status.WARN
    assert "blocked by nft ip filter FORWARD" not in f.detail  # the NEW-only reject is a maybe
    assert "not proven accepted by nft ip filter FORWARD" in f.detail
    assert "xt match conntrack" in f.detail
    assert "iptables-nft not installed: xt rules in iptables tables not decoded" in f.detail


@pytest.mark.parametrize(
    ("name", "tool", "label"),
    [
        pytest.param(
            "oci-iptables-nft", "iptables-nft", "nft ip filter FORWARD (iptables-nft's chain)",
            id="nft-backend",
        ),
        pytest.param(
            "oci-iptables-legacy", "iptables-legacy", "iptables-legacy -t filter FORWARD",
            id="legacy-backend",
        ),
    ],
)  # fmt: skip
def test_oci_reject_all_warns_with_the_rules_to_add_in_the_owning_tool(
    recorded: Recorded, name: str, tool: str, label: str
) -> None:
    s = recorded(name)
    br, wg = s.names["br"], s.names["wg1"]
    f = finding(s)
    assert f.status is Status.WARN
    assert f"{br} -> {wg} blocked by {label} at forward priority 0" in f.detail
    assert "-A FORWARD -j REJECT --reject-with icmp-host-prohibited" in f.detail
    assert f"{wg} -> {br} blocked" in f.detail and "udp dport 51821 blocked" in f.detail
    for rule in (
        f"{tool} -I FORWARD 1 -i {br} -o {wg} -j ACCEPT",
        f"{tool} -I FORWARD 1 -i {wg} -o {br} -j ACCEPT",
        f"{tool} -I INPUT 1 -p udp --dport 51821 -j ACCEPT",
        f"{tool}-save > /etc/iptables/rules.v4",
    ):
        assert rule in f.remedy
    assert "nft insert rule" not in f.remedy


def test_the_source_port_rule_is_judged_with_the_peers_port(recorded: Recorded) -> None:
    """OCI's ``-p udp --sport 123 -j ACCEPT`` cannot accept WireGuard from port 51820."""
    f = finding(recorded("oci-iptables-legacy"))
    assert "udp dport 51821 blocked by iptables-legacy -t filter INPUT" in f.detail
    assert "--sport 123" not in f.detail


@pytest.mark.parametrize("name", ["oci-iptables-nft-open", "oci-iptables-legacy-open"])
def test_accepts_for_both_directions_and_the_udp_port_pass(recorded: Recorded, name: str) -> None:
    f = finding(recorded(name))
    assert f.status is Status.PASS
    assert f.remedy == ""


def test_native_nft_default_drop_warns_and_names_the_chain(recorded: Recorded) -> None:
    s = recorded("nft-native-drop")
    f = finding(s)
    assert f.status is Status.WARN
    assert "blocked by nft inet filter forward at forward priority 0: policy drop" in f.detail
    assert "blocked by nft inet filter input at input priority 0: policy drop" in f.detail
    assert f'nft insert rule inet filter forward iifname "{s.names["br"]}"' in f.remedy
    assert "/etc/nftables.conf" in f.remedy


def test_native_nft_accepts_before_the_policy_pass(recorded: Recorded) -> None:
    assert finding(recorded("nft-native-open")).status is Status.PASS


def test_an_accept_after_a_drop_does_not_count(recorded: Recorded) -> None:
    f = finding(recorded("nft-native-late-accept"))
    assert f.status is Status.WARN
    assert "nft inet filter forward handle 4: counter drop" in f.detail
    assert "udp dport" not in f.detail  # input is open (policy accept)


def test_the_healthy_router_passes_and_says_what_it_read(recorded: Recorded) -> None:
    f = finding(recorded("healthy"))
    assert f.status is Status.PASS
    assert "1 base chain(s) on their paths, each proven to accept: nft inet routerd_mss" in (
        f.detail
    )
    assert "read iptables-legacy-save, nft -j list ruleset" in f.detail


def test_nothing_readable_skips_with_every_reason(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.adopt(sample("permission denied", "iptables-legacy-save"))
    s.host.with_command(sample("permission denied", "nft") | {"argv": list(NFT_RULESET)})
    f = finding(s)
    assert f.status is Status.SKIP
    assert "iptables-legacy-save" in f.detail and "permission denied running nft" in f.detail


def test_an_unreadable_nft_ruleset_is_never_a_pass(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(sample("permission denied", "nft") | {"argv": list(NFT_RULESET)})
    f = finding(s)
    assert f.status is Status.WARN
    assert "not proven: could not read nft: permission denied running nft" in f.detail
    assert "run the doctor as root" in f.remedy


def test_without_nft_iptables_nfts_view_still_finds_its_blocks(recorded: Recorded) -> None:
    s = recorded("oci-iptables-nft")
    s.host.with_command(not_found(*NFT_RULESET))
    f = finding(s)
    assert f.status is Status.WARN
    assert "blocked by iptables-nft -t filter FORWARD at forward priority 0" in f.detail
    assert "could not read nft: nft unavailable" in f.detail
    assert "iptables-nft-save (nft's native tables unread)" in f.detail


def test_minus_s_form_is_read_when_save_is_missing(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(not_found("iptables-legacy-save"))
    s.adopt(sample("OCI rules, legacy backend"))
    f = finding(s)
    assert f.status is Status.WARN
    assert "blocked by iptables-legacy -t filter FORWARD" in f.detail
    assert "read iptables-legacy -S" in f.detail


def test_an_ipv6_peer_is_judged_through_ip6tables(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(sample("ip6tables-legacy dropping udp 51821"))
    batch = next(k for k in s.host.answers if "-batch" in k)
    claim_only = s.host.answers[batch].stdout.splitlines()[0] + "\n"
    s.host.with_command(
        {"argv": list(BATCH), "input": f"route get {CLAIM_IP}\n", "rc": 0, "stdout": claim_only,
         "stderr": ""}
    )  # fmt: skip
    text = s.rec["topology"]["config"].replace("192.0.2.2:51820", '"[2001:db8::2]:51820"')
    f = finding(s, startup=config_of(text))
    assert f.status is Status.WARN
    assert "udp dport 51821 blocked by ip6tables-legacy -t filter INPUT" in f.detail
    assert "ip6tables-legacy -I INPUT 1 -p udp --dport 51821 -j ACCEPT" in f.remedy
    assert "ip6tables-legacy-save > /etc/iptables/rules.v6" in f.remedy


def test_the_mixed_ruleset_walks_every_tools_chains_and_skips_what_never_sees_ipv4(
    recorded: Recorded,
) -> None:
    s = recorded("fw-mixed-open")
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    (claim,) = inputs.intents.values()
    probe_list, _ = host_firewall.probes(inputs, claim)
    judged, _ = host_firewall.judge_all(inputs, probe_list)
    met = {(j.probe.label, j.chain.label) for j in judged}
    out = probe_list[0].label
    for label in (
        "nft netdev capture ing",  # ingress on the capture bridge
        "nft bridge lan in",  # the capture interface is a bridge
        "iptables-legacy -t filter FORWARD",
        "nft ip filter FORWARD (iptables-nft's chain)",
        "nft inet filter forward",
        "nft inet routerd_mss forward",
    ):
        assert (out, label) in met, label
    assert not [j for j in judged if j.chain.family == "ip6"]  # the IPv4 probes never meet them
    assert not [j for j in judged if j.chain.table == "elsewhere"]  # bound to another device
    assert all(j.status == "accept" for j in judged)
