"""The kernel item's floors are exactly the work routerd's backend does for the lowered state.

Every engine figure of ``bench.kernel`` is a ratio against these floors; a floor that does
work routerd no longer does (a proxy neighbour entry per proxy-ARP claim, reading the
proxy table back) flatters every ratio. These tests build the floors' inputs without
running them (no root, no subprocess) and compare them with what lowering asks for.
"""

from __future__ import annotations

import pytest

from bench import kernel
from bench.claims import SIDES, Names, claim_address, floor_batch, load_config
from routerd.core.capture import capture_sysctls
from routerd.core.desired import DesiredBuilder, ProxyNeighbour, Route, Sysctl
from routerd.core.lowering import lower

NAMES = Names("bcap", "bov")
KERNEL_OBJECTS = {"route", "pneigh", "addr", "nft", "sysctl", "wg", "gateway", "garp"}
"""Key kinds that are objects in the kernel; ``absent`` is nothing when the address is absent."""


def _lowered(side: str, n: int):
    return lower(load_config(side, n, NAMES), generation=1).desired


def _parse_routes(lines: str) -> set[tuple[str, str, str, int]]:
    out = set()
    for line in lines.splitlines():
        words = line.split()
        assert words[0] == "route", f"the floor installs {words[0]!r}: {line}"
        opts = dict(zip(words[3::2], words[4::2], strict=True))
        out.add((words[1], words[2], opts["dev"], int(opts["metric"])))
    return out


@pytest.mark.parametrize("side", SIDES)
def test_the_cold_floor_installs_exactly_the_lowered_routes_and_nothing_else_per_claim(side):
    want = {
        ("add", o.dst, o.dev, o.metric)
        for o in _lowered(side, 3).objects.values()
        if isinstance(o, Route)
    }
    got = _parse_routes(floor_batch(side, 3, NAMES))
    assert got == want
    assert len(floor_batch(side, 3, NAMES).splitlines()) == 3


@pytest.mark.parametrize("side", SIDES)
def test_no_floor_writes_or_reads_proxy_neighbour_entries(side):
    texts = [floor_batch(side, 10, NAMES)]
    texts += [kernel.one_claim_lines(10, NAMES, op) for op in ("add", "del", "move")]
    texts += [" ".join(cmd) for cmd in kernel.read_commands("ns")]
    for text in texts:
        assert "neigh" not in text and "proxy" not in text, text


def test_one_claim_floors_change_the_claims_route_only():
    assert _parse_routes(kernel.one_claim_lines(10, NAMES, "add")) == {
        ("add", f"{claim_address(10)}/32", NAMES.tunnel, 120)
    }
    assert _parse_routes(kernel.one_claim_lines(10, NAMES, "move")) == {
        ("del", f"{claim_address(0)}/32", NAMES.tunnel, 120),
        ("add", f"{claim_address(11)}/32", NAMES.tunnel, 120),
    }


@pytest.mark.parametrize("side", SIDES)
def test_the_per_claim_minimum_is_what_lowering_wants_of_one_claim_alone(side):
    desired = _lowered(side, 2)
    first, second = (set(keys) for keys in desired.claim_keys.values())
    own = {k for k in first - second if k[0] in KERNEL_OBJECTS}
    assert kernel.MIN_OBJECTS[side] == len(own) == 1, own


def test_the_proxy_arp_floor_writes_the_capture_interfaces_sysctls_once():
    sysctls, clamp = kernel.floor_objects("proxy-arp", NAMES)
    assert set(capture_sysctls(NAMES.cap)) <= set(sysctls)
    assert {s.name for s in sysctls} == {
        k[1] for k in _lowered("proxy-arp", 3).objects if k[0] == "sysctl"
    }
    assert "table inet routerd_mss" in clamp


def test_the_floor_writes_only_the_sysctls_the_backend_would_change():
    sysctls = [Sysctl("a", "1"), Sysctl("b", "2", frozenset({"0", "2"})), Sysctl("c", "0")]
    current = {"a": "0", "b": "0", "c": "0"}
    assert kernel.sysctl_writes(sysctls, current) == ["a=1"]
    assert kernel.sysctl_writes(sysctls, {}) == ["a=1", "b=2", "c=0"]


def test_a_kind_of_object_the_floor_does_not_install_stops_the_bench(monkeypatch):
    """A proxy entry coming back into lowering must change the floor, not slip past it."""

    def with_proxy_entry(config, generation):
        real = lower(config, generation=generation)
        b = DesiredBuilder(generation)
        for k, o in real.desired.objects.items():
            for owner in real.desired.owners[k]:
                b.add(o, owner)
        b.add(ProxyNeighbour(claim_address(0), NAMES.cap), "RemoteAddressClaim/c0")

        class Lowered:
            desired = b.build()

        return Lowered()

    monkeypatch.setattr(kernel, "lower", with_proxy_entry)
    with pytest.raises(RuntimeError, match="pneigh"):
        kernel.floor_objects("proxy-arp", NAMES)
