"""The per-claim FORWARD policy check: a stale default-drop routerd_filter, classified reasons.

Unreadable tables say why (D18, docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routerd.core.doctor import Status
from tests.unit.doctor.kit import Scene, not_found, one, sample

Recorded = Callable[[str], Scene]
CHECK = "vm31 FORWARD policy"
ARGV = ("nft", "-j", "list", "table", "inet", "routerd_filter")


def test_default_drop_forward_chain_warns_with_the_table_to_delete(recorded: Recorded) -> None:
    s = recorded("stale-tables")
    f = one(s.doctor("hybrid"), CHECK)
    assert f.status is Status.WARN
    assert "policy drop" in f.detail and s.names["br"] in f.detail
    assert "nft delete table inet routerd_filter" in f.remedy


def test_drop_policy_with_accepts_for_both_directions_passes(recorded: Recorded) -> None:
    f = one(recorded("routerd-filter-open").doctor("hybrid"), CHECK)
    assert f.status is Status.PASS
    assert "policy drop" in f.detail and "accepted" in f.detail


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        pytest.param(
            sample("table absent"), "routerd_filter table absent; no routerd", id="absent"
        ),
        pytest.param(
            sample("permission denied", "nft"), "permission denied running nft", id="denied"
        ),
        pytest.param(sample("other"), "libnftables.so.1", id="other"),
        pytest.param(not_found(*ARGV), "nft unavailable", id="unavailable"),
    ],
)
def test_unreadable_table_skips_with_the_classified_reason(
    recorded: Recorded, doc: dict, words: str
) -> None:
    s = recorded("healthy")
    s.host.with_command(doc)
    f = one(s.doctor("hybrid"), CHECK)
    assert f.status is Status.SKIP
    assert words in f.detail
