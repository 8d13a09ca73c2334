"""In-order evaluation of a chain for a probe packet: jumps, negation, MAYBE, proof."""

from __future__ import annotations

from routerd.doctor.iptables import parse
from routerd.doctor.packet_filter import ACCEPT, DROP, Chain, evaluate
from routerd.doctor.packet_match import IPV6, Packet
from tests.unit.doctor.kit import sample

OUT = Packet(iif="ens3", oif="wg0", dst="10.40.8.31")
BACK = Packet(iif="wg0", oif="ens3", src="10.40.8.31")
WG = Packet(iif="ens3", oif="", proto="udp", dport=51820, sport=51820, local=True)


def chains(text: str) -> dict[str, Chain]:
    return parse(text, tool="t").chains


def test_first_matching_terminal_rule_wins() -> None:
    c = chains("-P FORWARD ACCEPT\n-A FORWARD -j REJECT\n-A FORWARD -i ens3 -o wg0 -j ACCEPT\n")
    assert evaluate(c, "FORWARD", OUT).verdict == DROP
    c = chains("-P FORWARD DROP\n-A FORWARD -i ens3 -o wg0 -j ACCEPT\n-A FORWARD -j REJECT\n")
    assert evaluate(c, "FORWARD", OUT).verdict == ACCEPT
    assert evaluate(c, "FORWARD", BACK).verdict == DROP


def test_established_only_accept_does_not_open_new_connections() -> None:
    c = chains("-P FORWARD DROP\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
    oc = evaluate(c, "FORWARD", OUT)
    assert (oc.verdict, oc.by, oc.proven) == (DROP, "policy drop", True)


def test_negation_wildcards_and_addresses() -> None:
    c = chains(
        "-P FORWARD DROP\n"
        "-A FORWARD ! -i wg+ -d 10.40.8.0/24 -j ACCEPT\n"
        "-A FORWARD -i wg+ -s 10.99.0.0/16 -j ACCEPT\n"
    )
    assert evaluate(c, "FORWARD", OUT).verdict == ACCEPT  # ens3 is not wg+, dst in /24
    assert evaluate(c, "FORWARD", BACK).verdict == DROP  # src 10.40.8.31 not in 10.99/16


def test_an_ipv4_network_never_matches_an_ipv6_packet() -> None:
    c = chains("-P INPUT ACCEPT\n-A INPUT -s 10.0.0.0/8 -j DROP\n")
    v6 = Packet(IPV6, iif="ens3", oif="", proto="udp", dport=51820, src="2001:db8::2")
    assert evaluate(c, "INPUT", v6).verdict == ACCEPT


def test_user_chains_jump_return_and_goto() -> None:
    c = chains(
        "-P FORWARD DROP\n-N SAM\n-N DONE\n"
        "-A FORWARD -j SAM\n-A FORWARD -j REJECT\n"
        "-A SAM -i wg0 -j RETURN\n-A SAM -i ens3 -g DONE\n"
        "-A DONE -o wg0 -j ACCEPT\n"
    )
    assert evaluate(c, "FORWARD", OUT).verdict == ACCEPT
    assert evaluate(c, "FORWARD", BACK).verdict == DROP  # returned, then REJECT


def test_a_maybe_jump_keeps_the_doubts_of_the_chain_it_targets() -> None:
    """A drop nested inside a chain we may or may not enter must not vanish."""
    c = chains(
        "-P FORWARD ACCEPT\n-N INNER\n"
        "-A FORWARD -m owner --uid-owner 0 -j INNER\n"
        "-A INNER -p tcp -j DROP\n"
    )
    oc = evaluate(c, "FORWARD", OUT)
    assert oc.verdict == ACCEPT and not oc.proven
    assert [d.verdict for d in oc.doubts] == [DROP]
    assert "-A INNER -p tcp -j DROP" in oc.doubts[0].text


def test_udp_port_rules_and_unknown_modules_are_maybe() -> None:
    c = chains(
        "-P INPUT DROP\n"
        "-A INPUT -p udp -m limit --limit 5/sec -j ACCEPT\n"
        "-A INPUT -p udp -m multiport --dports 500,51000:52000 -j ACCEPT\n"
    )
    oc = evaluate(c, "INPUT", WG)
    assert oc.verdict == ACCEPT and oc.proven  # the rate-limited accept agrees anyway
    assert [u.verdict for u in oc.uncertain] == [ACCEPT]
    c2 = chains("-P INPUT ACCEPT\n-A INPUT -m owner --uid-owner 0 -j DROP\n")
    oc2 = evaluate(c2, "INPUT", WG)
    assert oc2.verdict == ACCEPT and not oc2.proven


def test_source_ports_and_address_types_are_judged() -> None:
    c = chains(
        "-P INPUT DROP\n"
        "-A INPUT -p udp --sport 123 -j ACCEPT\n"
        "-A INPUT -m addrtype --dst-type LOCAL -p udp --dport 51820 -j ACCEPT\n"
    )
    oc = evaluate(c, "INPUT", WG)
    assert (oc.verdict, oc.proven) == (ACCEPT, True)
    assert "rule 2" in oc.by
    nat = chains("-P FORWARD ACCEPT\n-A FORWARD -m addrtype --dst-type LOCAL -j DROP\n")
    assert evaluate(nat, "FORWARD", OUT).proven  # forwarded: the destination is not local


def test_a_target_we_do_not_model_is_never_proof() -> None:
    c = chains("-P FORWARD ACCEPT\n-A FORWARD -j NFQUEUE --queue-num 1\n")
    oc = evaluate(c, "FORWARD", OUT)
    assert oc.verdict == ACCEPT and not oc.proven
    assert "NFQUEUE" in oc.doubts[0].text


def test_recorded_oci_rules_block_forward_and_wireguard() -> None:
    text = sample("OCI rules, legacy backend")["stdout"]
    c = chains(text)
    assert evaluate(c, "FORWARD", OUT).by.endswith(
        "-A FORWARD -j REJECT --reject-with icmp-host-prohibited"
    )
    assert evaluate(c, "INPUT", WG).verdict == DROP
    ssh = Packet(iif="ens3", oif="", proto="tcp", dport=22, local=True)
    assert evaluate(c, "INPUT", ssh).verdict == ACCEPT


def test_every_table_of_a_save_is_read_and_incompatible_tables_are_noted() -> None:
    rs = parse(
        "# Table `filter' contains incompatible base-chains, use 'nft' tool to list them.\n"
        "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
        "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -i wg0 -j DROP\nCOMMIT\n",
        tool="iptables-nft-save",
        binary="iptables-nft",
        backend="",
    )
    assert rs.incompatible == {"filter"}
    assert evaluate(rs.tables["mangle"], "FORWARD", BACK).verdict == DROP
    assert rs.lines[("mangle", "FORWARD")] == ["-A FORWARD -i wg0 -j DROP"]
    assert rs.backend == "legacy"  # no "(nf_tables)" banner on the first line
