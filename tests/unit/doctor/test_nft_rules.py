"""nft JSON listings as chains: every family and hook, verdict maps, named sets, xt rules."""

from __future__ import annotations

import json
from typing import Any

from routerd.doctor.nft_exprs import condition, render
from routerd.doctor.nft_rules import XtRule, base_chains, devices_from_text
from routerd.doctor.packet_filter import ACCEPT, DROP, UNKNOWN, evaluate
from routerd.doctor.packet_match import IPV6, Match, Packet
from tests.fixtures.doctor.replay import load
from tests.unit.doctor.kit import Scene

CLAIM = "10.40.8.31"


def listing(name: str) -> dict[str, Any]:
    rec = load(name)
    if "json" in rec:
        return dict(json.loads(rec["json"]))
    doc = next(c for c in rec["commands"] if c["argv"] == ["nft", "-j", "list", "ruleset"])
    return dict(json.loads(doc["stdout"]))


def test_verdict_maps_named_sets_fib_and_th_from_a_recorded_listing() -> None:
    (f,) = [b for b in base_chains(listing("nft-vmap-sets.json")) if b.name == "f"]
    fwd = Packet(iif="br0", oif="wg0", dst=CLAIM)
    oc = evaluate(f.chains, "f", fwd)
    assert (oc.verdict, oc.proven) == (ACCEPT, True)  # vmap jump lanin, which accepts
    assert "handle" in oc.by and "lanin" in oc.by
    assert evaluate(f.chains, "f", Packet(iif="x0", oif="wg0")).verdict == DROP
    # the named map: wan0 drops, lan0 accepts, anything else falls through
    assert evaluate(f.chains, "f", Packet(iif="a", oif="wan0", dst="10.1.1.1")).verdict == DROP
    # the named interval set: 10.40.8.0/28 is blocked, .31 is not
    assert evaluate(f.chains, "f", Packet(iif="a", oif="b", dst="10.40.8.5")).verdict == DROP
    assert evaluate(f.chains, "f", Packet(iif="a", oif="b", dst=CLAIM)).proven
    # fib daddr type local: only for this host's own addresses
    mine = Packet(iif="a", oif="", dst="10.9.9.9", proto="udp", dport=51820, local=True)
    assert evaluate(f.chains, "f", mine).verdict == DROP


def test_ingress_devices_come_from_the_text_listing_when_json_lacks_them() -> None:
    rec = load("nft-vmap-sets.json")
    assert '"dev"' not in rec["json"]  # nft 1.0.6 omits them from JSON
    devices = devices_from_text(rec["text"])
    assert devices == {("netdev", "n", "ing"): ("lo",)}
    doc = json.loads(rec["json"])
    (ing,) = [b for b in base_chains(doc, devices=devices) if b.hook == "ingress"]
    assert ing.devices == ("lo",)
    (bare,) = [b for b in base_chains(doc) if b.hook == "ingress"]
    assert bare.devices is None  # unknown, so the path walk treats it as "maybe applies"


def test_devices_of_both_text_forms() -> None:
    text = (
        "table netdev a {\n\tchain x {\n\t\ttype filter hook egress devices = { d0, d1 } "
        "priority filter; policy accept;\n\t}\n}\n"
        'table inet b {\n\tchain y {\n\t\ttype filter hook ingress device "eth0" priority 0;\n'
    )
    assert devices_from_text(text) == {
        ("netdev", "a", "x"): ("d0", "d1"),
        ("inet", "b", "y"): ("eth0",),
    }


def test_every_family_and_hook_is_listed_and_nothing_is_skipped(recorded: Any) -> None:
    s: Scene = recorded("fw-mixed-open")
    found = {(b.family, b.table, b.name, b.hook) for b in base_chains(listing_of(s))}
    assert ("ip", "filter", "FORWARD", "forward") in found  # iptables-nft's table, too
    assert ("ip6", "v6only", "forward", "forward") in found
    assert ("netdev", "elsewhere", "ing", "ingress") in found
    assert ("bridge", "lan", "in", "input") in found
    assert ("inet", "routerd_mss", "forward", "forward") in found


def listing_of(s: Scene) -> dict[str, Any]:
    return dict(json.loads(s.recorded("nft", "-j", "list", "ruleset").stdout))


def test_xt_expressions_use_the_decoder_only_when_counts_agree(recorded: Any) -> None:
    s: Scene = recorded("fw-iptables-nft-xt")
    doc = listing_of(s)
    asked: list[tuple[Any, ...]] = []

    def decoder(key: Any, index: int, count: int) -> XtRule | None:
        asked.append((key, index, count))
        return None

    (fwd,) = [b for b in base_chains(doc, decoder=decoder) if b.key == ("ip", "filter", "FORWARD")]
    assert (("ip", "filter", "FORWARD"), 0, len(fwd.chains["FORWARD"].rules)) in asked
    first = fwd.chains["FORWARD"].rules[0]
    assert any("xt match conntrack" in str(c) for c in first.conditions)  # undecoded: MAYBE


def test_ip6_arp_and_unknown_matches() -> None:
    v4 = Packet(iif="a", oif="b", dst=CLAIM)
    ip6 = condition({"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}},
                     "right": "::1"}, {})  # fmt: skip
    assert ip6.test(v4) is Match.NO
    assert ip6.test(Packet(IPV6, src="::1")) is Match.YES
    arp = condition({"op": "==", "left": {"payload": {"protocol": "arp", "field": "op"}},
                     "right": 1}, {})  # fmt: skip
    assert arp.test(v4) is Match.NO
    mark = condition({"op": "==", "left": {"meta": {"key": "mark"}}, "right": 42}, {})
    assert mark.test(v4) is Match.MAYBE
    unknown_set = condition({"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "@x"}, {})
    assert unknown_set.test(v4) is Match.MAYBE  # never taken as the name "@x"


def test_rules_render_in_nft_syntax() -> None:
    exprs = [
        {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": {"set": ["a", "b"]}}},
        {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                   "right": {"prefix": {"addr": "10.0.0.0", "len": 8}}}},
        {"counter": {"packets": 0, "bytes": 0}},
        {"jump": {"target": "sam"}},
    ]  # fmt: skip
    assert render(exprs) == 'iifname { "a", "b" } ip daddr != 10.0.0.0/8 counter jump sam'


def test_queue_and_nat_statements_are_not_proof() -> None:
    doc = {
        "nftables": [
            {"chain": {"family": "ip", "table": "t", "name": "p", "type": "nat",
                       "hook": "prerouting", "prio": -100, "policy": "accept"}},
            {"rule": {"family": "ip", "table": "t", "chain": "p", "handle": 2,
                      "expr": [{"dnat": {"addr": "10.0.0.9"}}]}},
        ]
    }  # fmt: skip
    (p,) = base_chains(doc)
    oc = evaluate(p.chains, "p", Packet(iif="a", oif="", dst=CLAIM))
    assert not oc.proven and oc.doubts[0].verdict == UNKNOWN
    assert "rewrites the packet" in oc.doubts[0].text
