"""D8 (docs/decisions.md): the MSS clamp check matches sets, needs both directions, right value."""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import DoctorContext, Status
from routerd.core.loader import load_text
from routerd.doctor.inputs import resolve
from routerd.doctor.mss import check, clamp_rules
from tests.unit.doctor.kit import Scene, one, sample

Recorded = Callable[[str], Scene]
CHECK = "vm31 MSS clamp"


def test_clamp_in_both_directions_at_the_derived_mss_passes(recorded: Recorded) -> None:
    s = recorded("healthy")
    f = one(s.doctor(), CHECK)
    br, wg = s.names["br"], s.names["wg1"]
    assert f.status is Status.PASS
    assert f"{br} -> {wg} at 1300" in f.detail and f"{wg} -> {br} at 1300" in f.detail
    assert "expected MSS <= 1300" in f.detail


def test_missing_reverse_direction_warns(recorded: Recorded) -> None:
    s = recorded("mss-missing-reverse")
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN
    assert f"missing {s.names['wg1']} -> {s.names['br']}" in f.detail


def test_rules_written_with_interface_sets_are_matched(recorded: Recorded) -> None:
    s = recorded("mss-set-form")
    raw = s.recorded("nft", "-j", "list", "table", "inet", "routerd_mss").stdout
    assert '"set"' in raw  # the recording really uses { "a", "b" } sets
    assert one(s.doctor(), CHECK).status is Status.PASS


def test_a_clamp_above_the_derived_mss_warns(recorded: Recorded) -> None:
    f = one(recorded("mss-high").doctor(), CHECK)
    assert f.status is Status.WARN
    assert "sets 1380" in f.detail and "expected MSS <= 1300" in f.detail


def test_no_clamp_at_all_fails(recorded: Recorded) -> None:
    f = one(recorded("mss-absent").doctor(), CHECK)
    assert f.status is Status.FAIL
    assert "routerd_mss table absent" in f.detail


def test_unreadable_table_warns_with_the_reason(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.adopt(sample("permission denied", "nft") | {"argv": list(_ARGV)})
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN and "permission denied running nft" in f.detail


_ARGV = ("nft", "-j", "list", "table", "inet", "routerd_mss")


def test_expected_mss_follows_the_peers_path_mtu(recorded: Recorded) -> None:
    s = recorded("healthy")
    text = s.rec["topology"]["config"].replace(
        "        nodeID: cloud-rt\n        underlay:",
        "        nodeID: cloud-rt\n        pathMTU: 1400\n        underlay:",
    )
    cfg = load_text(text).config
    assert cfg is not None
    inputs = resolve(DoctorContext(startup=cfg), s.host)
    f = check(inputs, inputs.intents["vm31"])
    # pathMTU 1400 - 60 (IPv4 endpoint) = inner 1340 -> MSS 1300: the installed clamp fits
    assert f.status is Status.PASS and "pathMTU 1400" in f.detail
    lower = text.replace("pathMTU: 1400", "pathMTU: 1350")
    cfg2 = load_text(lower).config
    assert cfg2 is not None
    inputs2 = resolve(DoctorContext(startup=cfg2), s.host)
    f2 = check(inputs2, inputs2.intents["vm31"])
    assert f2.status is Status.WARN and "expected MSS <= 1250" in f2.detail


def test_no_step_down_needs_no_clamp(recorded: Recorded) -> None:
    s = recorded("healthy")
    text = s.rec["topology"]["config"].replace("        mtu: 1500", "        mtu: 1300")
    cfg = load_text(text).config
    assert cfg is not None
    inputs = resolve(DoctorContext(startup=cfg), s.host)
    f = check(inputs, inputs.intents["vm31"])
    assert f.status is Status.PASS and f.detail.startswith("no clamp needed")


def test_clamp_rules_reads_rt_mtu_and_any_interface() -> None:
    doc = {
        "nftables": [
            {"chain": {"name": "fwd", "hook": "forward"}},
            {
                "rule": {
                    "chain": "fwd",
                    "handle": 7,
                    "expr": [
                        {
                            "match": {
                                "op": "==",
                                "left": {"meta": {"key": "oifname"}},
                                "right": "wg0",
                            }
                        },
                        {
                            "mangle": {
                                "key": {"tcp option": {"name": "maxseg", "field": "size"}},
                                "value": {"rt": {"key": "mtu"}},
                            }
                        },
                    ],
                }
            },
        ]
    }
    (rule,) = clamp_rules(doc)
    assert rule.mss is None and rule.covers("anything", "wg0") and not rule.covers("wg0", "x")
