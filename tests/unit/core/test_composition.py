"""A composition updated claim by claim equals ``lower()`` of the same config.

Random sequences of configs over one pool of resources: claims appended, inserted, removed,
reordered, re-specified and duplicated (two claims of one address want different routes),
plus changes to the context a claim's lowering reads (MTUs, WireGuard peers, user sysctls)
and to the tail (HybridRoutes, one of them on a claim's own /32, generation, public keys).
One composition follows the sequence by putting and removing only the pieces that changed,
the way the engine does; after every step its published state must equal a fresh
``lower()`` of the config, and every state it published before must be unchanged.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from routerd.core.composition import Composition
from routerd.core.config import RouterConfig
from routerd.core.loader import decode_resource
from routerd.core.lowering import ClaimLowerer, Lowered, claim_context, lower
from routerd.core.resources import RemoteAddressClaim, Resource

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
        claim("dup-wg", "10.40.8.2/32"),  # one /32 to one WireGuard peer for two claims
        claim("b1", "10.40.8.60/32", peer="cloud-b"),  # same path, a smaller clamp
        claim("b2", "10.40.8.61/32", peer="cloud-b", tunnelInterface="wg-sam"),
    ]
    return claims


def shape(lw: Lowered) -> tuple[Any, ...]:
    """Everything a Lowered holds, as plain sorted values (mappings have no order)."""
    d = lw.desired
    return (
        sorted(d.objects.items(), key=repr),
        sorted(((k, sorted(v)) for k, v in d.owners.items()), key=repr),
        sorted(d.claim_keys.items()),
        d.generation,
        sorted(lw.claims.items()),
    )


def step(rng: random.Random, claims: list[Resource], spare: list[Resource]) -> list[Resource]:
    op = rng.choices(["append", "insert", "remove", "respec", "swap"], [4, 2, 5, 2, 1])[0]
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
            spec = c.spec.model_copy(update={"address": f"10.40.8.{rng.randrange(1, 9)}/32"})
        claims[i] = c.model_copy(update={"spec": spec})
    elif op == "swap" and len(claims) > 1:
        i, j = rng.sample(range(len(claims)), 2)
        claims[i], claims[j] = claims[j], claims[i]
    return claims


class Follower:
    """A composition kept in step with a sequence of configs, as the engine keeps one."""

    def __init__(self) -> None:
        self.comp: Composition | None = None
        self.lowerer: ClaimLowerer | None = None
        self.claims: dict[str, Resource] = {}

    def follow(self, config: RouterConfig, generation: int, keys: dict[str, str]) -> Lowered:
        context = claim_context(config)
        wanted = {c.name: c for c in config.of(RemoteAddressClaim)}
        if (
            self.comp is None
            or self.lowerer is None
            or context.resources != self.lowerer.context.resources
        ):
            self.lowerer = ClaimLowerer(context)
            if self.comp is None:
                self.comp = Composition(context)
            self.comp.set_context(context)
            stale = set(self.claims)
        else:
            stale = {n for n, c in wanted.items() if self.claims.get(n) is not c}
        for name in set(self.claims) - set(wanted):
            self.comp.remove(name)
        for name in stale & set(wanted):
            self.comp.put(self.lowerer.lower(wanted[name]))  # type: ignore[arg-type]
        for name in set(wanted) - set(self.claims):
            self.comp.put(self.lowerer.lower(wanted[name]))  # type: ignore[arg-type]
        self.claims = wanted
        self.comp.set_tail_inputs(generation=generation, key_dir="/k", public_keys=keys)
        return self.comp.publish()


@pytest.mark.parametrize("seed", range(8))
def test_a_composition_kept_in_step_equals_lower_over_random_changes(seed):
    rng = random.Random(seed)
    spare = pool()
    claims: list[Resource] = []
    context = {k: v[0] for k, v in CONTEXT.items()}
    tail: list[Resource] = []
    follower = Follower()
    published: list[tuple[Lowered, tuple[Any, ...]]] = []
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
        got = follower.follow(config, generation, keys)
        want = lower(config, generation=generation, key_dir="/k", public_keys=keys)
        assert shape(got) == shape(want), (seed, n)
        published.append((got, shape(got)))
    assert all(shape(lw) == before for lw, before in published)  # published states never change


def test_the_result_does_not_depend_on_the_order_claims_arrive_in():
    claims = pool()
    base = [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0]]
    forward = lower(RouterConfig("r", [*base, *claims]))
    backward = lower(RouterConfig("r", [*base, *reversed(claims)]))
    assert shape(forward) == shape(backward)


def test_claims_wanting_one_key_differently_resolve_to_the_smallest_name():
    # two claims on one address (invalid, but lowering is total): the route of the claim
    # with the smaller name, whichever came first, and the other's once it is gone.
    claims = {c.name: c for c in pool()}
    first, second = claims["c1"], claims["dup-address"]
    assert first.spec.address == second.spec.address
    base = [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0]]
    context = claim_context(RouterConfig("r", base))
    lowerer = ClaimLowerer(context)
    comp = Composition(context)
    comp.put(lowerer.lower(second))  # type: ignore[arg-type]
    comp.put(lowerer.lower(first))  # type: ignore[arg-type]
    key = ("route", "254", first.spec.address)
    assert comp.publish().desired.objects[key].dev == "wg-sam"  # c1 < dup-address
    comp.remove("c1")
    assert comp.publish().desired.objects[key].dev == "ens20"
    assert shape(comp.publish()) == shape(lower(RouterConfig("r", [*base, second])))


def test_a_published_state_cannot_be_changed():
    config = RouterConfig(
        "r", [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0], *pool()[:2]]
    )
    lw = lower(config)
    with pytest.raises((TypeError, AttributeError)):
        lw.desired.objects[("route", "254", "10.9.9.9/32")] = None  # type: ignore[index]
    with pytest.raises((TypeError, AttributeError)):
        lw.claims["x"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        lw.desired.generation = 3  # type: ignore[misc]
    owners = next(iter(lw.desired.owners.values()))
    with pytest.raises(AttributeError):
        owners.update({"someone"})  # type: ignore[attr-defined]
    owners.add("someone")  # type: ignore[attr-defined]  # a new set; this one stays
    assert "someone" not in owners


def test_owners_are_exactly_the_claims_needing_each_key_through_puts_and_removes():
    # put collects owner labels and writes them in one update per key; a read between
    # (a remove, a conflict, a publish) must see every label put before it
    claims = pool()
    base = [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0]]
    context = claim_context(RouterConfig("r", base))
    lowerer = ClaimLowerer(context)
    comp = Composition(context)
    pieces = {c.name: lowerer.lower(c) for c in claims}  # type: ignore[arg-type]
    live: dict[str, Any] = {}
    rng = random.Random(7)
    for step_no in range(200):
        name = rng.choice(list(pieces))
        if name in live and rng.random() < 0.4:
            comp.remove(name)
            del live[name]
        else:
            comp.put(pieces[name])
            live[name] = pieces[name]
        if step_no % 5:
            continue
        owners = comp.publish().desired.owners
        for k in {k for p in live.values() for k in p.keys} | set(owners):
            want = {p.owner for p in live.values() if k in p.keys}
            got = {o for o in owners.get(k, ()) if o.startswith("RemoteAddressClaim/")}
            assert got == want, (step_no, k)


def test_a_persistent_set_takes_many_members_at_once():
    from routerd.core.persistent import PSet

    empty: PSet[str] = PSet()
    one = empty.add_all(["a"])
    many = one.add_all(["b", "c", "b", "a"])
    assert one == {"a"} and many == {"a", "b", "c"} and empty == set()
    assert many.add_all(["a", "c"]) is many and many.add_all([]) is many
    assert "b" not in one  # the set it was made from is unchanged


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_fold_equals_putting_piece_after_piece(seed):
    # put_all folds the pieces of an empty composition in one go (the first pass); the
    # result, and everything later puts and removes do to it, must be put after put's
    rng = random.Random(seed)
    context_res = [*BASE, *[rng.choice(v) for v in CONTEXT.values()]]
    context_res = [r for x in context_res for r in (x if isinstance(x, list) else [x])]
    context = claim_context(RouterConfig("r", [*context_res, *rng.choice(TAIL)]))
    lowerer = ClaimLowerer(context)
    pieces = [lowerer.lower(c) for c in pool()]  # type: ignore[arg-type]
    rng.shuffle(pieces)
    pieces = pieces[: rng.randrange(1, len(pieces) + 1)]
    if seed % 2:  # in name order, as the engine folds them: claims of one shape in runs
        pieces.sort(key=lambda p: p.name)
    active = {"ens19": False} if seed % 2 else None
    folded = Composition(context, capture_active=active)
    stepped = Composition(context, capture_active=active)
    if seed % 3 == 0:  # a composition that published before (its tail is in place)
        folded.publish()
        stepped.publish()
    assert folded.put_all(pieces) == pieces
    for p in pieces:
        stepped.put(p)
    assert shape(folded.publish()) == shape(stepped.publish())
    assert folded.take_changed_keys() == stepped.take_changed_keys()
    assert folded.standby == stepped.standby
    for _ in range(30):
        p = rng.choice(pieces)
        for comp in (folded, stepped):
            comp.remove(p.name) if p.name in comp.pieces else comp.put(p)
        assert shape(folded.publish()) == shape(stepped.publish())
        assert folded.take_changed_keys() == stepped.take_changed_keys()
    # every claim taken out one by one: an object stays exactly while some claim wants it
    for name in rng.sample(sorted(folded.pieces), len(folded.pieces)):
        for comp in (folded, stepped):
            comp.remove(name)
        assert shape(folded.publish()) == shape(stepped.publish())
        assert folded.take_changed_keys() == stepped.take_changed_keys()


def test_a_batch_with_a_name_twice_is_put_piece_after_piece():
    context = claim_context(RouterConfig("r", [*BASE, CONTEXT["lan"][0]]))
    lowerer = ClaimLowerer(context)
    first, again = (lowerer.lower(c) for c in pool()[:2])  # type: ignore[arg-type]
    again = type(again)(first.name, first.owner, again.intent, again.own, again.keys)
    comp = Composition(context)
    assert comp.put_all([first, again]) == [first, again]
    assert comp.pieces == {first.name: again}
    assert comp.put_all([again]) == []  # an equal piece changes nothing


def test_the_lowerer_gives_lower_claim_for_claims_sharing_their_blocks_or_not():
    # claims of one load share equal capture and delivery blocks; the lowerer reuses the
    # facts of the claim before when the blocks are the same objects, and only then
    import dataclasses

    from routerd.core.lowering import lower_claim

    base = [*BASE, CONTEXT["lan"][0], wg_interface(1420), *CONTEXT["peers"][0]]
    context = claim_context(RouterConfig("r", base))
    by_name = {c.name: c for c in pool()}
    a, b, p = by_name["c1"], by_name["b1"], by_name["p1"]
    b_spec = dataclasses.replace(b.spec, capture=a.spec.capture)  # type: ignore[attr-defined]
    b = dataclasses.replace(b, spec=b_spec)  # type: ignore[type-var]  # another delivery only
    runs = []
    for i, model in enumerate([a, a, b, b, a, p, p, a]):
        spec = dataclasses.replace(model.spec, address=f"10.40.9.{i}/32")  # type: ignore[attr-defined]
        runs.append(dataclasses.replace(model, name=f"x{i}", spec=spec))  # type: ignore[type-var]
    assert runs[0].spec.capture is runs[1].spec.capture  # type: ignore[attr-defined]
    lowerer = ClaimLowerer(context)
    for c in runs:
        assert lowerer.lower(c) == lower_claim(c, context)  # type: ignore[arg-type]
