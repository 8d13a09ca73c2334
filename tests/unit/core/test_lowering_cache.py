"""The engine's incremental lowering gives exactly ``lower()``'s result, dict order included.

Random sequences of configs over one pool of resource objects (as consecutive reloads and
dynamic parts share them): claims appended, inserted, removed, reordered, re-specified and
duplicated, plus changes to what a claim's lowering reads (MTUs, WireGuard peers, user
sysctls) and to the tail (HybridRoutes, one of them on a claim's own /32, generation,
public keys). After every step the cached result is compared with a fresh ``lower()``.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from routerd.core import lowering_cache
from routerd.core.config import RouterConfig
from routerd.core.desired import ObserveScope
from routerd.core.loader import decode_resource
from routerd.core.lowering import Lowered, lower, observe_scope
from routerd.core.lowering_cache import LoweringCache
from routerd.core.resources import Resource

HYBRID = "hybrid.routerd.net/v1alpha1"
NET = "net.routerd.net/v1alpha1"
SYSTEM = "system.routerd.net/v1alpha1"


def res(api: str, kind: str, name: str, spec: dict[str, Any]) -> Resource:
    r, problems = decode_resource(
        {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}
    )
    assert r is not None, problems
    return r


def claim(
    name: str, address: str, *, cap: str = "proxy-arp", peer: str = "cloud-a", **delivery: str
) -> Resource:
    capture: dict[str, Any] = {"type": cap, "interface": "ens19"}
    if cap == "provider-secondary-ip":
        capture = {"type": cap, "providerRef": "az", "providerMode": "nic-secondary-ip"}
        capture |= {"nicRef": "nic-1"}
    return res(
        HYBRID,
        "RemoteAddressClaim",
        name,
        {
            "domainRef": "edge",
            "address": address,
            "ownerSide": "cloud",
            "capture": capture,
            "delivery": {"peerRef": peer, **delivery},
        },
    )


def wg_interface(mtu: int) -> Resource:
    return res(NET, "WireGuardInterface", "wg-sam", {"privateKeyFile": "/k/wg.key", "mtu": mtu})


def wg_peer(name: str, key: str, endpoint: str) -> Resource:
    spec = {"interface": "wg-sam", "publicKey": key, "endpoint": endpoint}
    return res(NET, "WireGuardPeer", name, spec)


BASE = [
    res(NET, "Interface", "wan", {"ifname": "eth0", "mtu": 1500}),
    res(NET, "IPv4StaticAddress", "overlay", {"interface": "wg-sam", "address": "10.255.40.1/31"}),
    res(
        HYBRID,
        "OverlayPeer",
        "cloud-a",
        {
            "role": "cloud",
            "nodeID": "rt-a",
            "underlay": {"type": "wireguard", "interface": "wg-sam", "address": "10.255.40.1"},
            "remote": {"address": "10.255.40.0"},
        },
    ),
    res(
        HYBRID,
        "OverlayPeer",
        "cloud-b",
        {
            "role": "cloud",
            "nodeID": "rt-b",
            "underlay": {"type": "wireguard", "interface": "wg-sam"},
            "pathMTU": 1400,
        },
    ),
    res(HYBRID, "AddressMobilityDomain", "edge", {"prefix": "10.40.8.0/24", "peerRef": "cloud-a"}),
]
CONTEXT = {
    "lan": [
        res(NET, "Interface", "lan", {"ifname": "ens19", "mtu": 1500}),
        res(NET, "Interface", "lan", {"ifname": "ens19", "mtu": 1360}),
    ],
    "wg": [wg_interface(1420), wg_interface(1380)],
    "peers": [
        [wg_peer("cloud-a", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "203.0.113.10:51820")],
        [
            wg_peer(
                "cloud-a", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "[2001:db8::1]:51820"
            ),
            wg_peer("other", "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=", ""),
        ],
    ],
    "sysctls": [
        [],
        [res(SYSTEM, "Sysctl", "fwd", {"key": "net.ipv4.ip_forward", "value": "1"})],
        [  # owned by the user and not applied by routerd: still observed for the claims
            res(
                SYSTEM,
                "Sysctl",
                "parp",
                {"key": "net.ipv4.conf.ens19.proxy_arp", "value": "1", "runtime": False},
            )
        ],
    ],
}
TAIL = [
    [],
    [
        res(
            HYBRID,
            "HybridRoute",
            "apps",
            {"destinationCIDRs": ["10.30.0.0/16"], "peerRef": "cloud-a"},
        )
    ],
    # on a claim's own /32: the tail's route lands on a key the claim section already has
    [
        res(
            HYBRID,
            "HybridRoute",
            "one",
            {"destinationCIDRs": ["10.40.8.3/32"], "peerRef": "cloud-a"},
        )
    ],
]


def pool() -> list[Resource]:
    claims = [claim(f"c{i}", f"10.40.8.{i}/32") for i in range(1, 9)]
    claims += [
        claim("p1", "10.40.8.40/32", cap="provider-secondary-ip", tunnelInterface="wg-sam"),
        claim("p2", "10.40.8.41/32", cap="provider-secondary-ip"),
        claim("t1", "10.40.8.50/32", tunnelInterface="ens20"),
        claim("dup-address", "10.40.8.1/32", tunnelInterface="ens20"),
        claim("b1", "10.40.8.60/32", peer="cloud-b"),  # same path, a smaller clamp
        claim("b2", "10.40.8.61/32", peer="cloud-b", tunnelInterface="wg-sam"),
    ]
    return claims


def shape(lw: Lowered) -> tuple[Any, ...]:
    d = lw.desired
    return (
        list(d.objects.items()),
        [(k, sorted(v)) for k, v in d.owners.items()],
        list(d.claim_keys.items()),
        d.generation,
        list(lw.claims.items()),
    )


def scope(s: ObserveScope) -> tuple[set[str], ...]:
    return (s.sysctls, s.absent_addresses, s.links, s.wireguard)


def step(rng: random.Random, claims: list[Resource], spare: list[Resource]) -> list[Resource]:
    op = rng.choices(
        ["append", "insert", "remove", "respec", "swap", "rename"], [4, 2, 5, 2, 1, 1]
    )[0]
    claims = list(claims)
    if op in ("append", "insert") and spare:
        new = spare.pop(rng.randrange(len(spare)))
        where = len(claims) if op == "append" else rng.randrange(len(claims) + 1)
        claims.insert(where, new)
    elif op == "remove" and claims:
        spare.append(claims.pop(rng.randrange(len(claims))))
    elif op == "respec" and claims:
        i = rng.randrange(len(claims))
        c = claims[i]
        cap = c.spec.capture.model_copy(
            update={"gratuitous_arp": not c.spec.capture.gratuitous_arp}
        )
        if rng.random() < 0.5:
            spec = c.spec.model_copy(update={"capture": cap})
        else:
            spec = c.spec.model_copy(update={"address": f"10.40.8.{rng.randrange(100, 200)}/32"})
        claims[i] = c.model_copy(update={"spec": spec})
    elif op == "swap" and len(claims) > 1:
        i, j = rng.sample(range(len(claims)), 2)
        claims[i], claims[j] = claims[j], claims[i]
    elif op == "rename" and claims:  # two claims of one name: invalid, lowered anyway
        c = rng.choice(claims)
        other = c.model_copy(update={"metadata": c.metadata.model_copy(update={"name": "c1"})})
        claims.insert(rng.randrange(len(claims) + 1), other)
    return claims


@pytest.mark.parametrize("seed", range(8))
def test_cached_lowering_equals_lower_over_random_changes(seed, monkeypatch):
    copies = []
    copy = lowering_cache._Section.copy
    monkeypatch.setattr(
        lowering_cache._Section, "copy", lambda s, p: copies.append(1) or copy(s, p)
    )
    rng = random.Random(seed)
    spare = pool()
    claims: list[Resource] = []
    context = {k: v[0] for k, v in CONTEXT.items()}
    tail: list[Resource] = []
    cache = LoweringCache()
    for n in range(150):
        if rng.random() < 0.08:
            key = rng.choice(list(CONTEXT))
            context[key] = rng.choice(CONTEXT[key])
        if rng.random() < 0.05:
            tail = rng.choice(TAIL)
        claims = step(rng, claims, spare)
        ctx = [context["lan"], context["wg"], *context["peers"], *context["sysctls"]]
        config = RouterConfig("r", [*BASE, *ctx, *tail, *claims])
        generation = n // 10
        keys = {"wg-sam": "pub"} if n % 3 else {}
        got = cache.lower(config, generation=generation, key_dir="/k", public_keys=keys)
        want = lower(config, generation=generation, key_dir="/k", public_keys=keys)
        assert shape(got) == shape(want), (seed, n)
        assert scope(cache.scope) == scope(observe_scope(want)), (seed, n)
        assert cache.scope.desired is got.desired
    assert copies  # the appends and removals were carried over, not only recomposed


def test_a_shared_object_keeps_its_place_when_its_first_claim_goes():
    # c1 puts ip_forward first; without c1 it must sit where c2 puts it, as lower() does.
    claims = pool()[:3]
    base = [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0]]
    cache = LoweringCache()
    for cs in (claims, claims[1:], claims):
        config = RouterConfig("r", [*base, *cs])
        assert shape(cache.lower(config)) == shape(lower(config))
        assert scope(cache.scope) == scope(observe_scope(lower(config)))


def test_an_object_two_claims_add_takes_the_remaining_claims_value():
    # two claims on one address (invalid, but lower() is total): the route is the later
    # claim's; without it, the earlier one's, in the earlier one's place.
    claims = {c.name: c for c in pool()}
    first, other, second = claims["c1"], claims["c2"], claims["dup-address"]
    assert first.spec.address == second.spec.address
    base = [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0]]
    cache = LoweringCache()
    for cs in ([first, other, second], [first, other], [first, other, second], [other, second]):
        config = RouterConfig("r", [*base, *cs])
        assert shape(cache.lower(config)) == shape(lower(config))
