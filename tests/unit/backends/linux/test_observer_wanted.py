"""What a desired state says to read (``observer._wanted_for``), remembered per state.

A pass observes one persistent desired mapping twice, so its reading list is made once;
a new desired state, or a mutable mapping that may have changed since, is read again.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

from routerd.backends.linux import observer
from routerd.core.desired import AbsentAddress, DesiredBuilder, Observed, Route, Sysctl


def state(*addresses: str):
    b = DesiredBuilder(generation=1)
    b.add(Sysctl("net.ipv4.ip_forward", "1"), "t")
    for a in addresses:
        b.add(Route(f"{a}/32", "ov0"), "t")
        b.add(AbsentAddress(a), "t")
    return b.build().objects


def test_a_persistent_state_is_read_once_and_a_new_one_again():
    host = SimpleNamespace(wanted_memo=None)
    first = state("10.9.0.1", "10.9.0.2")
    wanted = observer._wanted_for(host, first)  # type: ignore[arg-type]
    assert wanted.absent == {"10.9.0.1", "10.9.0.2"}
    assert wanted.sysctls == {"net.ipv4.ip_forward"}
    assert observer._wanted_for(host, first) is wanted  # type: ignore[arg-type]
    second = state("10.9.0.3")
    assert observer._wanted_for(host, second).absent == {"10.9.0.3"}  # type: ignore[arg-type]


def test_a_mutable_mapping_is_read_every_time():
    host = SimpleNamespace(wanted_memo=None)
    desired = dict(state("10.9.0.1"))
    assert observer._wanted_for(host, desired).absent == {"10.9.0.1"}  # type: ignore[arg-type]
    desired[("absent", "10.9.0.7")] = AbsentAddress("10.9.0.7")
    got = observer._wanted_for(host, desired).absent  # type: ignore[arg-type]
    assert got == {"10.9.0.1", "10.9.0.7"}


def test_a_few_absences_leave_the_whole_sets_memo_alone():
    """A scoped pass asks for a few absences between full passes that ask for all of them:
    the few are built on their own, and the full set's memo survives for the next full pass
    (rebuilding it after every scoped pass cost ~25 ms at 100,000 addresses)."""
    addresses = [f"10.9.{i // 250}.{i % 250 + 1}" for i in range(observer.ABSENT_MEMO_FROM + 2)]
    desired = state(*addresses)
    kinds = observer.Kinds(observer.RouteKind.of(()), observer.ProxyKind(), [], [], None)
    host: Any = SimpleNamespace()

    def absent(wanted: set[str]) -> dict[Any, Any]:
        obs = Observed()
        observer._absent(host, obs, wanted, kinds, desired)
        return obs.objects

    full = absent(set(addresses))
    assert set(full) == {("absent", a) for a in addresses}
    assert all(full[k] is desired[k] for k in full)  # the desired objects, reused
    memo = kinds.absent_nowhere
    few = absent({addresses[0], "10.99.0.1"})  # one known address, one nobody wants
    assert few == {
        ("absent", addresses[0]): desired[("absent", addresses[0])],
        ("absent", "10.99.0.1"): AbsentAddress("10.99.0.1"),
    }
    assert kinds.absent_nowhere is memo and kinds.absent_for == set(addresses)
    assert absent(set(addresses)) == full
    assert kinds.absent_nowhere is memo
    fewer = set(addresses[1:])  # a changed large set is remembered anew
    assert set(absent(fewer)) == {("absent", a) for a in fewer}
    assert kinds.absent_for == fewer


def test_what_to_read_is_each_kinds_keys_in_the_states_order():
    rng = random.Random(6)
    kinds = ("route", "absent", "pneigh", "addr", "sysctl", "wg", "gateway", "nft", "garp")
    for _ in range(200):
        keys = [(rng.choice(kinds), f"k{rng.randrange(30)}", "x") for _ in range(rng.randrange(40))]
        desired: dict[Any, Any] = dict.fromkeys(keys)
        got = observer._wanted(desired)
        assert got.pneigh == [k for k in desired if k[0] == "pneigh"]
        assert got.addr == [k for k in desired if k[0] == "addr"]
        assert got.absent == {k[1] for k in desired if k[0] == "absent"}
        assert got.sysctls == {k[1] for k in desired if k[0] == "sysctl"}
        assert got.wg == {k[1] for k in desired if k[0] == "wg"}
        assert got.gateways == {k[1] for k in desired if k[0] == "gateway"}
