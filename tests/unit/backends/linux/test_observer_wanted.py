"""What a desired state says to read (``observer._wanted_for``), remembered per state, and
which absences the observer reports.

A pass observes one persistent desired mapping twice, so its reading list is made once;
a new desired state, or a mutable mapping that may have changed since, is read again.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

from routerd.backends.linux import observer
from routerd.backends.linux.addresses import AddressEntry
from routerd.core.desired import AbsentAddress, DesiredBuilder, Observed, Route, Sysctl


def state(*addresses: str):
    b = DesiredBuilder(generation=1)
    b.add(Sysctl("net.ipv4.ip_forward", "1"), "t")
    for a in addresses:
        b.add(Route(f"{a}/32", "ov0"), "t")
        b.add(Sysctl(f"net.ipv4.conf.{a}.x", "1"), "t")
    return b.build().objects


def test_a_persistent_state_is_read_once_and_a_new_one_again():
    host = SimpleNamespace(wanted_memo=None)
    first = state("10.9.0.1", "10.9.0.2")
    wanted = observer._wanted_for(host, first)  # type: ignore[arg-type]
    assert wanted.sysctls == {
        "net.ipv4.ip_forward",
        "net.ipv4.conf.10.9.0.1.x",
        "net.ipv4.conf.10.9.0.2.x",
    }
    assert observer._wanted_for(host, first) is wanted  # type: ignore[arg-type]
    second = state("10.9.0.3")
    got = observer._wanted_for(host, second).sysctls  # type: ignore[arg-type]
    assert got == {"net.ipv4.ip_forward", "net.ipv4.conf.10.9.0.3.x"}


def test_a_mutable_mapping_is_read_every_time():
    host = SimpleNamespace(wanted_memo=None)
    desired = dict(state())
    assert observer._wanted_for(host, desired).sysctls == {"net.ipv4.ip_forward"}  # type: ignore[arg-type]
    desired[("sysctl", "net.ipv4.conf.all.x")] = Sysctl("net.ipv4.conf.all.x", "1")
    got = observer._wanted_for(host, desired).sysctls  # type: ignore[arg-type]
    assert got == {"net.ipv4.ip_forward", "net.ipv4.conf.all.x"}


def test_an_absence_is_reported_only_where_the_address_is_present():
    """An address asked about and found nowhere gets no object (the desired absence is
    implied); one assigned to an interface, or behind a foreign local route, gets one
    listing every place it was found, sorted; addresses nobody asked about are left out."""
    kinds = observer.Kinds(
        observer.RouteKind.of(()),
        observer.ProxyKind(),
        [
            AddressEntry(3, "10.9.0.2", 24),
            AddressEntry(2, "10.9.0.2", 32),
            AddressEntry(2, "10.9.0.9", 32),  # present, but not asked about
        ],
        [("10.9.0.3", "eth0", 16), ("10.9.0.2", "eth1", 16)],
        None,
    )
    names = {2: "eth0", 3: "eth1"}
    host: Any = SimpleNamespace(links=SimpleNamespace(name=names.__getitem__))
    obs = Observed()
    observer._absent(host, obs, {"10.9.0.1", "10.9.0.2", "10.9.0.3"}, kinds)
    assert obs.objects == {
        ("absent", "10.9.0.2"): AbsentAddress(
            "10.9.0.2", (("eth0", "10.9.0.2/32"), ("eth1", "10.9.0.2/24")), (("eth1", 16),)
        ),
        ("absent", "10.9.0.3"): AbsentAddress("10.9.0.3", (), (("eth0", 16),)),
    }
    empty = Observed()
    observer._absent(host, empty, set(), kinds)
    assert empty.objects == {}


def test_what_to_read_is_each_kinds_keys_in_the_states_order():
    rng = random.Random(6)
    kinds = ("route", "absent", "pneigh", "addr", "sysctl", "wg", "gateway", "nft", "garp")
    for _ in range(200):
        keys = [(rng.choice(kinds), f"k{rng.randrange(30)}", "x") for _ in range(rng.randrange(40))]
        desired: dict[Any, Any] = dict.fromkeys(keys)
        got = observer._wanted(desired)
        assert got.pneigh == [k for k in desired if k[0] == "pneigh"]
        assert got.addr == [k for k in desired if k[0] == "addr"]
        assert got.sysctls == {k[1] for k in desired if k[0] == "sysctl"}
        assert got.wg == {k[1] for k in desired if k[0] == "wg"}
        assert got.gateways == {k[1] for k in desired if k[0] == "gateway"}
