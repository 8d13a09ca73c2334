"""In-order evaluation of iptables / nft chains for a probe packet (jumps, negation, MAYBE)."""

from __future__ import annotations

from routerd.doctor.iptables import parse
from routerd.doctor.nft_rules import base_chains
from routerd.doctor.packet_filter import ACCEPT, DROP, Packet, evaluate
from tests.fixtures.doctor.replay import load
from tests.unit.doctor.kit import sample

OUT = Packet(iif="ens3", oif="wg0", dst="10.40.8.31")
BACK = Packet(iif="wg0", oif="ens3", src="10.40.8.31")
WG = Packet(iif="ens3", proto="udp", dport=51820)


def chains(text: str):  # type: ignore[no-untyped-def]
    return parse(text, tool="t", backend="").chains


def test_first_matching_terminal_rule_wins() -> None:
    c = chains("-P FORWARD ACCEPT\n-A FORWARD -j REJECT\n-A FORWARD -i ens3 -o wg0 -j ACCEPT\n")
    assert evaluate(c, "FORWARD", OUT).verdict == DROP
    c = chains("-P FORWARD DROP\n-A FORWARD -i ens3 -o wg0 -j ACCEPT\n-A FORWARD -j REJECT\n")
    assert evaluate(c, "FORWARD", OUT).verdict == ACCEPT
    assert evaluate(c, "FORWARD", BACK).verdict == DROP


def test_established_only_accept_does_not_open_new_connections() -> None:
    c = chains("-P FORWARD DROP\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
    oc = evaluate(c, "FORWARD", OUT)
    assert (oc.verdict, oc.by) == (DROP, "policy drop")


def test_negation_wildcards_and_addresses() -> None:
    c = chains(
        "-P FORWARD DROP\n"
        "-A FORWARD ! -i wg+ -d 10.40.8.0/24 -j ACCEPT\n"
        "-A FORWARD -i wg+ -s 10.99.0.0/16 -j ACCEPT\n"
    )
    assert evaluate(c, "FORWARD", OUT).verdict == ACCEPT  # ens3 is not wg+, dst in /24
    assert evaluate(c, "FORWARD", BACK).verdict == DROP  # src 10.40.8.31 not in 10.99/16


def test_user_chains_jump_return_and_goto() -> None:
    c = chains(
        "-P FORWARD DROP\n-N SAM\n-N DONE\n"
        "-A FORWARD -j SAM\n-A FORWARD -j REJECT\n"
        "-A SAM -i wg0 -j RETURN\n-A SAM -i ens3 -g DONE\n"
        "-A DONE -o wg0 -j ACCEPT\n"
    )
    assert evaluate(c, "FORWARD", OUT).verdict == ACCEPT
    assert evaluate(c, "FORWARD", BACK).verdict == DROP  # returned, then REJECT


def test_udp_port_rules_and_unknown_modules_are_maybe() -> None:
    c = chains(
        "-P INPUT DROP\n"
        "-A INPUT -p udp -m limit --limit 5/sec -j ACCEPT\n"
        "-A INPUT -p udp -m multiport --dports 500,51000:52000 -j ACCEPT\n"
    )
    oc = evaluate(c, "INPUT", WG)
    assert oc.verdict == ACCEPT
    assert [u.verdict for u in oc.uncertain] == [ACCEPT]  # the rate-limited accept
    assert not oc.maybe_dropped
    c2 = chains("-P INPUT ACCEPT\n-A INPUT -m owner --uid-owner 0 -j DROP\n")
    oc2 = evaluate(c2, "INPUT", WG)
    assert oc2.verdict == ACCEPT and oc2.maybe_dropped


def test_recorded_oci_rules_block_forward_and_wireguard() -> None:
    text = sample("OCI rules, legacy backend")["stdout"]
    c = chains(text)
    assert evaluate(c, "FORWARD", OUT).by.endswith(
        "-A FORWARD -j REJECT --reject-with icmp-host-prohibited"
    )
    assert evaluate(c, "INPUT", WG).verdict == DROP
    ssh = Packet(iif="ens3", proto="tcp", dport=22)
    assert evaluate(c, "INPUT", ssh).verdict == ACCEPT


def test_nft_sets_and_ct_state_from_a_recorded_ruleset() -> None:
    rec = load("nft-native-open.json")
    doc = next(c for c in rec["commands"] if c["argv"] == ["nft", "-j", "list", "ruleset"])
    import json

    bcs = {b.name: b for b in base_chains(json.loads(doc["stdout"]), skip_tables=set())}
    prefix = rec["topology"]["prefix"]
    br, wg = f"{prefix}br", f"{prefix}wg1"
    fwd = bcs["forward"]
    assert evaluate(fwd.chains, "forward", Packet(iif=br, oif=wg)).verdict == ACCEPT
    assert evaluate(fwd.chains, "forward", Packet(iif=wg, oif=br)).verdict == ACCEPT  # via set
    assert evaluate(fwd.chains, "forward", Packet(iif=br, oif="other")).verdict == DROP
    inp = bcs["input"]
    assert evaluate(inp.chains, "input", Packet(proto="udp", dport=51821)).verdict == ACCEPT
    assert evaluate(inp.chains, "input", Packet(proto="udp", dport=51822)).verdict == DROP
