"""Kernel tables dumped once per run and looked up per claim (the per-claim commands' rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from routerd.core.doctor import Status
from routerd.doctor.ip_batch import BATCH
from routerd.doctor.kernel_tables import prefix_key
from tests.unit.doctor.kit import Scene, not_found, one
from tests.unit.doctor.test_hybrid_config import with_route

Recorded = Callable[[str], Scene]
ROUTES = ("ip", "-j", "-4", "route", "show", "table", "main")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("default", "0.0.0.0/0"),
        ("10.40.8.31", "10.40.8.31/32"),
        ("10.40.8.31/32", "10.40.8.31/32"),
        ("10.50.1.0/16", "10.50.0.0/16"),
    ],
)
def test_destinations_have_one_spelling(text: str, key: str) -> None:
    assert prefix_key(text) == key


def test_a_hybrid_route_in_the_table_passes(recorded: Recorded) -> None:
    s = recorded("healthy")
    wg = s.names["wg1"]

    def add(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*rows, {"dst": "10.50.0.0/16", "dev": wg, "scope": "link", "flags": []}]

    s.edit_json(ROUTES, add)
    f = one(s.doctor(startup=with_route(s)), "HybridRoute/to-cloud route 10.50.0.0/16")
    assert f.status is Status.PASS and f.detail == f"10.50.0.0/16 dev {wg}"


def test_an_unreadable_route_table_says_why(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(not_found(*ROUTES))
    f = one(s.doctor(), "vm31 delivery route")
    assert f.status is Status.WARN and "ip is not installed" in f.detail


def test_each_table_is_read_once_per_run(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.doctor()
    asked = [c for c in s.host.calls if c[:2] == ("ip", "-j") and c != BATCH]
    assert len(asked) == len(set(asked))
    assert s.host.calls.count(BATCH) == 2  # the route lookups and the capture input routes
    assert ROUTES in asked and ("ip", "-j", "link", "show") in asked
