"""Which base chains a probe meets, in which order, and what makes a path proven open."""

from __future__ import annotations

from routerd.doctor.firewall_path import BLOCKED, OPEN, UNPROVEN, Probe, steps, walk
from routerd.doctor.nft_rules import BaseChain
from routerd.doctor.packet_filter import DROP, Chain, Rule
from routerd.doctor.packet_match import IPV6, Iface, Match, Opaque, Packet

OUT = Probe("forward", Packet(iif="br0", oif="wg0", dst="10.40.8.31"), "br0 -> wg0")
WG = Probe("input", Packet(iif="eth0", oif="", proto="udp", dport=51820, local=True), "udp")


def chain(
    family: str,
    name: str,
    hook: str,
    prio: int = 0,
    *,
    drop: bool = False,
    rules: list[Rule] | None = None,
    devices: tuple[str, ...] | None = None,
) -> BaseChain:
    c = Chain(name, rules or [], policy=DROP if drop else "accept")
    return BaseChain(family, "t", name, hook, prio, {name: c}, devices)  # fmt: skip


def no_bridge(name: str | None) -> Match:
    return Match.NO


def no_ports(name: str) -> set[str]:
    return set()


def test_a_forwarded_packet_crosses_ingress_prerouting_forward_postrouting_egress() -> None:
    hooks = [s.hook for s in steps(OUT, no_bridge)]
    assert hooks == ["ingress", "prerouting", "forward", "postrouting", "egress"]
    assert [s.hook for s in steps(WG, no_bridge)] == ["ingress", "prerouting", "input"]
    through_bridge = steps(OUT, lambda n: Match.YES if n == "br0" else Match.NO)
    assert [(s.hook, s.bridge) for s in through_bridge][1:3] == [
        ("prerouting", Match.YES),
        ("input", Match.YES),
    ]


def test_chains_are_met_in_path_then_priority_order_and_only_where_they_apply() -> None:
    chains = [
        chain("inet", "late", "forward", 10),
        chain("ip", "early", "forward", -10),
        chain("ip6", "v6", "forward", -20, drop=True),  # never sees IPv4
        chain("bridge", "br", "input", drop=True),  # br0 is not a bridge here
        chain("netdev", "ing", "ingress", devices=("br0",)),
        chain("netdev", "other", "ingress", drop=True, devices=("x0",)),
        chain("ip", "post", "postrouting"),
    ]
    met = [j.chain.name for j in walk(OUT, chains, no_bridge, no_ports)]
    assert met == ["ing", "early", "late", "post"]


def test_one_proven_drop_blocks_and_a_maybe_applying_drop_is_unproven() -> None:
    chains = [
        chain("netdev", "port", "ingress", drop=True, devices=("veth7",)),  # a port of br0
        chain("netdev", "unknown", "ingress", drop=True),  # devices not listed
        chain("inet", "f", "forward", drop=True),
    ]
    got = {j.chain.name: j for j in walk(OUT, chains, no_bridge, lambda b: {"veth7"})}
    assert got["f"].status == BLOCKED
    assert got["port"].status == UNPROVEN and got["port"].applies is Match.MAYBE
    assert "if it sees it" in got["port"].why()
    assert got["unknown"].status == UNPROVEN


def test_only_a_proof_is_open() -> None:
    maybe = Rule((Opaque("meta mark"),), DROP, "t rule 1")
    named = Rule((Iface("iif", ("br0",)),), "accept", "t rule 2")
    (j,) = walk(OUT, [chain("ip", "f", "forward", rules=[maybe, named])], no_bridge, no_ports)
    assert j.status == UNPROVEN and "t rule 1 might drop" in j.why()
    (k,) = walk(OUT, [chain("ip", "f", "forward", rules=[named, maybe])], no_bridge, no_ports)
    assert k.status == OPEN


def test_an_ipv6_probe_meets_ip6_and_inet_chains_only() -> None:
    v6 = Probe("input", Packet(IPV6, iif="eth0", oif="", proto="udp", dport=51820), "udp")
    chains = [chain("ip", "v4", "input"), chain("ip6", "v6", "input"), chain("inet", "i", "input")]
    assert [j.chain.name for j in walk(v6, chains, no_bridge, no_ports)] == ["v6", "i"]
