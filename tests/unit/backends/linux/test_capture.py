"""Route-covered proxy-ARP capture: when a desired capture counts as answered (fake /proc/sys).

The kernel-side truth of these rules is proven in ``tests/netns/test_route_capture.py``;
here each rule is pinned on its own: forwarding per device, a routerd /32 in the main table,
unicast, leaving by another device.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from routerd.backends.linux import capture
from routerd.backends.linux.sysctl import SysctlKeeper
from routerd.core.desired import Route
from routerd.state.store import Store


@pytest.fixture
def host(tmp_path: Path) -> Any:
    """Name: host / Scope: function / Depends: tmp_path (forwarding on cap0, off on cap1)."""
    root = tmp_path / "sys"
    for dev, value in (("cap0", "1"), ("cap1", "0")):
        path = root / "net/ipv4/conf" / dev / "forwarding"
        path.parent.mkdir(parents=True)
        path.write_text(value + "\n")
    return SimpleNamespace(sysctls=SysctlKeeper(Store.open(tmp_path / "state"), root))


def routes(*found: Route) -> dict[tuple[str, ...], Route]:
    return {r.key: r for r in found}


def test_a_capture_is_covered_by_a_unicast_main_table_route_leaving_by_another_device(
    host: Any,
) -> None:
    seen = routes(
        Route("10.0.0.1/32", "wg0", 120),
        Route("10.0.0.2/32", "cap0", 120),  # leaves by the capture interface itself
        Route("10.0.0.3/32", type="blackhole"),
        Route("10.0.0.4/32", "wg0", 120, table=100),  # not the main table
        Route("10.0.0.5/32", "wg0", 120),
    )
    keys = [("pneigh", f"10.0.0.{i}", "cap0") for i in range(1, 7)]
    keys.append(("pneigh", "10.0.0.5", "cap1"))  # forwarding off there
    keys.append(("pneigh", "10.0.0.1", "nosuch0"))  # no such device: no forwarding

    assert capture.covered(host, seen, keys) == [
        ("pneigh", "10.0.0.1", "cap0"),
        ("pneigh", "10.0.0.5", "cap0"),
    ]


def test_why_uncovered_names_the_missing_piece(host: Any) -> None:
    fwd = capture.Forwarding(host)
    away = Route("10.0.0.1/32", "wg0", 120)

    assert capture.why_uncovered(fwd, away, "10.0.0.1", "cap0") == ""
    assert "net.ipv4.conf.cap1.forwarding is not 1" in capture.why_uncovered(
        fwd, away, "10.0.0.1", "cap1"
    )
    assert "no routerd route 10.0.0.1/32 in the main table" in capture.why_uncovered(
        fwd, None, "10.0.0.1", "cap0"
    )
    assert "leaves by cap0 itself" in capture.why_uncovered(
        fwd, Route("10.0.0.1/32", "cap0"), "10.0.0.1", "cap0"
    )
    assert "is blackhole" in capture.why_uncovered(
        fwd, Route("10.0.0.1/32", type="blackhole"), "10.0.0.1", "cap0"
    )


def test_the_mode_is_checked_with_the_choices_in_the_error() -> None:
    assert capture.check_mode("route") == "route"
    with pytest.raises(ValueError, match=r"one of entries, route \(got 'pneigh'\)"):
        capture.check_mode("pneigh")
