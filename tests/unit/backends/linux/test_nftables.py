"""Rendering and reading back the routerd_mss table (no nft needed)."""

from __future__ import annotations

import pytest

from routerd.backends.linux import nftables as nft
from routerd.core.desired import MssClampTable, MssRule
from routerd.core.errors import DataplaneError

# ``nft -j list table inet routerd_mss`` from nftables 1.0.6 for the rule routerd writes.
LISTING = {
    "nftables": [
        {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "routerd_mss", "handle": 3}},
        {
            "chain": {
                "family": "inet",
                "table": "routerd_mss",
                "name": "forward",
                "handle": 1,
                "type": "filter",
                "hook": "forward",
                "prio": -150,
                "policy": "accept",
            }
        },
        {
            "rule": {
                "family": "inet",
                "table": "routerd_mss",
                "chain": "forward",
                "handle": 2,
                "expr": [
                    {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "ens19"}},
                    {
                        "match": {
                            "op": "==",
                            "left": {"meta": {"key": "oifname"}},
                            "right": "wg-sam",
                        }
                    },
                    {
                        "match": {
                            "op": "==",
                            "left": {
                                "&": [
                                    {"payload": {"protocol": "tcp", "field": "flags"}},
                                    ["syn", "rst"],
                                ]
                            },
                            "right": "syn",
                        }
                    },
                    {
                        "match": {
                            "op": ">",
                            "left": {"tcp option": {"name": "maxseg", "field": "size"}},
                            "right": 1300,
                        }
                    },
                    {
                        "mangle": {
                            "key": {"tcp option": {"name": "maxseg", "field": "size"}},
                            "value": 1300,
                        }
                    },
                ],
            }
        },
    ]
}


def test_render_is_one_atomic_replace_with_the_owner_marker():
    table = MssClampTable(
        frozenset({MssRule("wg-sam", "ens19", 1300), MssRule("ens19", "wg-sam", 1300)}),
        generation=42,
    )
    text = nft.render(table)
    lines = text.splitlines()
    assert lines[:3] == [
        "add table inet routerd_mss",
        "delete table inet routerd_mss",
        "table inet routerd_mss {",
    ]
    assert '\tcomment "routerd.owner=routerd routerd.generation=42"' in lines
    assert "type filter hook forward priority mangle; policy accept;" in text
    rules = [ln.strip() for ln in lines if ln.strip().startswith("iifname")]
    assert rules == [
        'iifname "ens19" oifname "wg-sam" tcp flags syn / syn,rst'
        " tcp option maxseg size > 1300 tcp option maxseg size set 1300",
        'iifname "wg-sam" oifname "ens19" tcp flags syn / syn,rst'
        " tcp option maxseg size > 1300 tcp option maxseg size set 1300",
    ]


def test_render_refuses_names_that_would_break_the_ruleset():
    with pytest.raises(DataplaneError):
        nft.render(MssClampTable(frozenset({MssRule('a"b', "wg0", 1300)})))


def test_listing_parses_back_to_the_rule():
    assert nft.parse_listing(LISTING) == frozenset({MssRule("ens19", "wg-sam", 1300)})


def test_anything_routerd_did_not_write_is_unrecognized():
    changed_policy = {"nftables": [dict(LISTING["nftables"][2])]}
    changed_policy["nftables"][0] = {"chain": {**LISTING["nftables"][2]["chain"], "policy": "drop"}}
    assert nft.parse_listing(changed_policy) == frozenset({nft.UNRECOGNIZED})
    raising = {"nftables": [{"rule": {"expr": LISTING["nftables"][3]["rule"]["expr"][:4]}}]}
    assert nft.parse_listing(raising) == frozenset({nft.UNRECOGNIZED})
