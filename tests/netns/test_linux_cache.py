"""The observation cache always equals a full read.

A backend with the periodic full read pushed out of reach serves every observe from its
cache, while a seeded random walk changes the host behind its back (routes deleted, added,
duplicated or replaced by foreign ones, proxy entries deleted or relabelled, addresses and
``local`` routes added, the last address of the tunnel flushed, links flapped, renamed and
losing carrier, the clamp table flushed) and through ``apply`` (claims added and removed, a
change that fails). After every step the cached observation must equal a forced full read:
the same objects, the same owned set, the same link states.

The kernel queues a notification before it answers the request that caused it, and the
backend drains the queue before it answers from the cache, so most steps must match at
once. Two kinds of step may only converge (``wait_until``): proxy entries raise no kernel
event (the backend's poll finds them), and carrier changes reach the kernel's link watcher
asynchronously.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import pytest

from routerd.core.desired import (
    AbsentAddress,
    Address,
    DesiredBuilder,
    MssClampTable,
    MssRule,
    ProxyNeighbour,
    Route,
    Sysctl,
)
from routerd.core.port import Change
from tests.netns.conftest import BackendHandle, Lab
from tests.netns.topology import Router, router
from tests.support.wait import wait_until

pytestmark = pytest.mark.netns

CLAIMS = 24
STEPS = 40
EVENTUAL = ("proxy", "carrier")
"""Steps whose description names one of these may take a poll or the link watcher to show."""
SEEDS = [int(os.environ["ROUTERD_CACHE_SEED"])] if "ROUTERD_CACHE_SEED" in os.environ else [1, 2, 3]


def state(r: Router, claims: set[int]) -> DesiredBuilder:
    want = DesiredBuilder(generation=3)
    for o in (
        Sysctl("net.ipv4.ip_forward", "1"),
        Sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp", "1"),
        Address(r.ov, "10.255.40.1/31"),
        AbsentAddress("10.40.8.31"),
        MssClampTable(frozenset({MssRule(r.cap, r.ov, 1300), MssRule(r.ov, r.cap, 1300)}), 3),
    ):
        want.add(o, "test")  # type: ignore[arg-type]
    for i in sorted(claims):
        want.add(Route(f"10.50.0.{i}/32", r.ov, 120), f"claim-{i}")
        want.add(ProxyNeighbour(f"10.50.0.{i}", r.cap), f"claim-{i}")
    return want


class Walk:
    """The random walk: one action per step, each naming what it did."""

    def __init__(self, lab: Lab, r: Router, b: BackendHandle, rng: random.Random) -> None:
        self.lab, self.r, self.b, self.rng = lab, r, b, rng
        self.claims = set(range(1, CLAIMS + 1))
        self.want = state(r, self.claims)
        self.spare = lab.name("ovx")
        self.extra = (lab.name("xa"), lab.name("xb"))
        self.actions: list[Callable[[], str]] = [
            self.delete_route,
            self.add_owned_route,
            self.duplicate_route,
            self.replace_with_foreign_route,
            self.move_route,
            self.delete_proxy,
            self.relabel_proxy,
            self.add_owned_proxy,
            self.add_os_address,
            self.add_local_route,
            self.flush_tunnel_address,
            self.flap_tunnel,
            self.drop_carrier,
            self.rename_peer,
            self.add_extra_link,
            self.delete_extra_link,
            self.flush_clamp,
            self.reconcile_other_claims,
            self.apply_failing_change,
            self.reconcile,
        ]

    def ip(self, *args: str) -> None:
        self.r.ns.ip(*args, check=False)

    def claim(self) -> int:
        return self.rng.randint(1, CLAIMS)

    def delete_route(self) -> str:
        i = self.claim()
        self.ip("route", "del", f"10.50.0.{i}/32", "proto", "196", "metric", "120")
        return f"deleted route {i}"

    def add_owned_route(self) -> str:
        i = self.rng.randint(1, 250)
        self.ip("route", "add", f"10.50.9.{i}/32", "dev", self.r.ovp, "proto", "196", "metric", "7")
        return f"added an undesired route with routerd's protocol {i}"

    def duplicate_route(self) -> str:
        i = self.claim()
        self.ip(
            "route", "add", f"10.50.0.{i}/32", "dev", self.r.ov, "proto", "196", "metric", "130"
        )
        return f"second route for claim {i}"

    def replace_with_foreign_route(self) -> str:
        i = self.claim()
        dst = f"10.50.0.{i}/32"
        self.ip("route", "replace", dst, "dev", self.r.ov, "proto", "static", "metric", "120")
        return f"route {i} replaced by a static one"

    def move_route(self) -> str:
        i = self.claim()
        dst = f"10.50.0.{i}/32"
        self.ip("route", "replace", dst, "dev", self.r.ovp, "proto", "196", "metric", "120")
        return f"route {i} moved to the peer device"

    def delete_proxy(self) -> str:
        i = self.claim()
        self.ip("neigh", "del", "proxy", f"10.50.0.{i}", "dev", self.r.cap)
        return f"deleted proxy entry {i} behind its back"

    def relabel_proxy(self) -> str:
        i = self.claim()
        self.ip("neigh", "add", "proxy", f"10.50.0.{i}", "dev", self.r.cap)
        return f"proxy entry {i} re-added without routerd's protocol behind its back"

    def add_owned_proxy(self) -> str:
        i = self.rng.randint(1, 250)
        self.ip("neigh", "add", "proxy", f"10.50.8.{i}", "dev", self.r.cap, "protocol", "196")
        return f"added an undesired proxy entry with routerd's protocol {i} behind its back"

    def add_os_address(self) -> str:
        self.ip("addr", "add", "10.40.8.31/24", "dev", self.r.cap)
        return "claimed address assigned by an agent"

    def add_local_route(self) -> str:
        self.ip(
            "route", "add", "local", "10.40.8.31/32", "dev", self.r.cap, "proto", "66", "table",
            "local",
        )  # fmt: skip
        return "guest-agent local route"

    def flush_tunnel_address(self) -> str:
        self.ip("addr", "flush", "dev", self.r.ov)
        return "tunnel lost its last address (its routes go silently)"

    def flap_tunnel(self) -> str:
        self.ip("link", "set", self.r.ov, "down")
        self.ip("link", "set", self.r.ov, "up")
        return "tunnel flapped (its routes go silently)"

    def drop_carrier(self) -> str:
        self.ip("link", "set", self.r.ovp, "down")
        self.ip("link", "set", self.r.ovp, "up")
        return "tunnel lost carrier for a moment (the kernel's link watcher reports it later)"

    def rename_peer(self) -> str:
        old, new = self.r.ovp, self.spare
        self.ip("link", "set", old, "down")
        self.ip("link", "set", old, "name", new)
        self.ip("link", "set", new, "up")
        self.r.ovp, self.spare = new, old
        return f"peer device renamed {old} -> {new}"

    def add_extra_link(self) -> str:
        xa, xb = self.extra
        self.ip("link", "add", xa, "type", "veth", "peer", "name", xb)
        self.ip("link", "set", xa, "up")
        self.ip("link", "set", xb, "up")
        self.ip("route", "add", "10.50.6.1/32", "dev", xa, "proto", "196", "metric", "5")
        return f"new link {xa} with a route of routerd's protocol"

    def delete_extra_link(self) -> str:
        self.ip("link", "del", self.extra[0])
        return f"link {self.extra[0]} deleted (its routes go silently)"

    def flush_clamp(self) -> str:
        self.r.ns.exec("nft", "flush", "table", "inet", "routerd_mss", check=False)
        return "clamp table flushed"

    def reconcile_other_claims(self) -> str:
        self.claims ^= set(self.rng.sample(range(1, CLAIMS + 1), 3))
        return self.reconcile()

    def apply_failing_change(self) -> str:
        bad = Route("10.50.7.1/32", "nosuchdev0", 120)
        [(ok, _, _)] = self.b.apply([Change("add", bad.key, new=bad)])
        assert not ok
        return "a route change that fails"

    def reconcile(self) -> str:
        self.want = state(self.r, self.claims)
        self.b.reconcile(self.want)
        return f"reconciled {len(self.claims)} claims"


@pytest.mark.parametrize("seed", SEEDS)
def test_cached_observation_equals_a_full_read(lab, seed):
    r = router(lab)
    b = lab.backend(r.ns, full_read_interval=3600.0)
    walk = Walk(lab, r, b, random.Random(seed))
    walk.reconcile()
    done = []
    for _ in range(STEPS):
        done.append(walk.rng.choice(walk.actions)())
        what = f"cache equal to a full read (seed {seed}) after: {'; '.join(done[-3:])}"
        if any(word in done[-1] for word in EVENTUAL):
            wait_until(lambda: b.cache_mismatch(walk.want), what=what)
        else:
            assert b.cache_mismatch(walk.want) is None, what
    walk.claims = set(range(1, CLAIMS + 1))
    r.ns.ip("route", "flush", "proto", "static")  # foreign routes routerd must not replace
    for _ in range(3):
        walk.reconcile()
    assert b.plan(walk.want) == []
    assert b.cache_mismatch(walk.want) is None
    s = b.stats()
    print(f"seed {seed}: {len(done)} steps; cache stats", {k: v for k, v in s.items() if "_" in k})
    assert s["observe_partial"] > s["observe_full"] >= 1
    assert s["route_patches"] > 0 and s["proxy_polls"] > 0
