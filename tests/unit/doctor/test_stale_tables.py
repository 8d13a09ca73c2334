"""doctor firewall: stale routerd tables by ownership marker (D14, docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import Status
from tests.unit.doctor.kit import Scene, one, sample

Recorded = Callable[[str], Scene]
NAME = "stale routerd nft tables"


def test_marked_table_not_in_the_config_warns_and_unmarked_is_ignored(recorded: Recorded) -> None:
    s = recorded("stale-tables")
    listing = s.recorded("nft", "list", "tables").stdout
    assert "ip routerd_nat" in listing  # the unmarked table is really there
    f = one(s.doctor("firewall"), NAME)
    assert f.status is Status.WARN
    assert "inet/routerd_filter" in f.detail and "routerd_nat" not in f.detail.split("(")[0]
    assert "2 marked, 1 unmarked (ignored), 0 unverified" in f.detail
    assert "nft delete table inet routerd_filter" in f.remedy
    assert "routerd_mss" not in f.remedy  # still expected by the config


def test_only_expected_tables_pass_with_counts(recorded: Recorded) -> None:
    f = one(recorded("healthy").doctor("firewall"), NAME)
    assert f.status is Status.PASS and f.detail.startswith("1 marked, 0 unmarked")


def test_an_unreadable_table_is_counted_as_unverified(recorded: Recorded) -> None:
    s = recorded("stale-tables")
    denied = sample("permission denied", "nft") | {
        "argv": ["nft", "list", "table", "inet", "routerd_filter"]
    }
    s.host.with_command(denied)
    f = one(s.doctor("firewall"), NAME)
    assert f.status is Status.PASS
    assert "1 marked, 1 unmarked (ignored), 1 unverified: inet/routerd_filter" in f.detail


def test_unreadable_table_list_skips(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.adopt(sample("permission denied", "nft") | {"argv": ["nft", "list", "tables"]})
    f = one(s.doctor("firewall"), NAME)
    assert f.status is Status.SKIP and "permission denied" in f.detail


def test_a_foreign_routerd_mss_is_reported(recorded: Recorded) -> None:
    report = recorded("mss-unmarked").doctor("firewall")
    assert one(report, NAME).status is Status.PASS  # not ours: never called stale
    f = one(report, "inet/routerd_mss ownership")
    assert f.status is Status.WARN and "routerd.owner=routerd" in f.detail


def test_tables_go_stale_when_the_config_no_longer_wants_them(recorded: Recorded) -> None:
    s = recorded("healthy")
    no_claims = s.config.replace(r for r in s.config if r.kind != "RemoteAddressClaim")
    f = one(s.doctor("firewall", startup=no_claims), NAME)
    assert f.status is Status.WARN and "inet/routerd_mss" in f.detail
