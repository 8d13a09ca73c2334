"""Longest-prefix match, metrics and route ownership marks in the simulated FIB."""

from __future__ import annotations

from routerd.backends.sim.fib import Fib, PrefixTable, RouteEntry


def fib_with(*routes: RouteEntry) -> Fib:
    fib = Fib()
    for r in routes:
        fib.add(r)
    return fib


def test_most_specific_prefix_wins() -> None:
    fib = fib_with(
        RouteEntry("0.0.0.0/0", "up0", gateway="192.0.2.1"),
        RouteEntry("10.40.8.0/24", "eth0", proto="kernel"),
        RouteEntry("10.40.8.31/32", "wg-sam", metric=120, proto="routerd"),
    )
    lookup = fib.lookup("10.40.8.31")
    assert lookup is not None
    assert lookup.dev == "wg-sam"
    other = fib.lookup("10.40.8.30")
    assert other is not None
    assert other.dev == "eth0"
    default = fib.lookup("8.8.8.8")
    assert default is not None
    assert default.dev == "up0"


def test_lowest_metric_wins_among_equal_prefixes() -> None:
    fib = fib_with(
        RouteEntry("10.1.0.0/16", "a", metric=200), RouteEntry("10.1.0.0/16", "b", metric=100)
    )
    best = fib.lookup("10.1.2.3")
    assert best is not None
    assert best.dev == "b"
    assert [r.dev for r in fib.routes_for("10.1.0.0/16")] == ["b", "a"]


def test_same_prefix_and_metric_is_replaced_not_duplicated() -> None:
    fib = fib_with(
        RouteEntry("10.1.0.0/16", "a", metric=5), RouteEntry("10.1.0.0/16", "b", metric=5)
    )
    assert [r.dev for r in fib.routes_for("10.1.0.0/16")] == ["b"]


def test_removing_the_specific_route_falls_back_to_the_covering_one() -> None:
    specific = RouteEntry("10.40.8.31/32", "wg-sam", metric=120, proto="routerd")
    fib = fib_with(RouteEntry("10.40.8.0/24", "eth0"), specific)
    assert fib.remove(specific)
    assert not fib.remove(specific)
    fallback = fib.lookup("10.40.8.31")
    assert fallback is not None
    assert fallback.dev == "eth0"


def test_no_route_without_a_covering_prefix() -> None:
    assert fib_with(RouteEntry("10.0.0.0/8", "a")).lookup("192.168.1.1") is None


def test_prefix_table_normalizes_host_bits_and_scales_to_many_host_routes() -> None:
    table: PrefixTable[str] = PrefixTable()
    table.set("10.0.0.0/8", "wide")
    for i in range(10_000):
        table.set(f"10.{i // 256}.{i % 256}.1/32", f"host{i}")
    assert table.lookup("10.39.15.1") == "host9999"
    assert table.lookup("10.39.15.2") == "wide"
    assert table.get("10.255.255.255/8") == "wide"
    assert table.pop("10.0.0.1/32") == "host0"
    assert table.lookup("10.0.0.1") == "wide"
    assert len(table) == 10_000
