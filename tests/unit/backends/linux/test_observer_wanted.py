"""What a desired state says to read (``observer._wanted_for``), remembered per state.

A pass observes one persistent desired mapping twice, so its reading list is made once;
a new desired state, or a mutable mapping that may have changed since, is read again.
"""

from __future__ import annotations

from types import SimpleNamespace

from routerd.backends.linux import observer
from routerd.core.desired import AbsentAddress, DesiredBuilder, Route, Sysctl


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
