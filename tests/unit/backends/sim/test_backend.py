"""SimBackend against the port contract: observe/apply/verify, ownership, faults."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from routerd.backends.sim import SimBackend, World, single_host_world
from routerd.backends.sim.standalone import DEFAULT_HOST
from routerd.core import wgkey
from routerd.core.desired import MSS_TABLE, AbsentAddress, MssRule, ObserveScope, WireGuardDevice
from routerd.core.lowering import Lowered, observe_scope
from routerd.core.plan import diff
from routerd.core.port import Change, DataplaneBackend
from routerd.keys import read_private_key

from .kit import checks, converge, load, lowered, paired_texts, without_kinds


class Bench:
    """One router from an example config on a single-host world."""

    def __init__(self, text: str) -> None:
        self.config = load(text)
        self.low: Lowered = lowered(self.config)
        self.world: World = single_host_world(self.config)
        self.backend = SimBackend(self.world, DEFAULT_HOST)
        self.host = self.world.host(DEFAULT_HOST)

    def pending(self, backend: SimBackend | None = None) -> list[Change]:
        observed = (backend or self.backend).observe(observe_scope(self.low))
        return diff(self.low.desired, observed)


@pytest.fixture
def onprem(tmp_path: Path) -> Bench:
    """Name: onprem / Scope: function / Depends: tmp_path (key files)."""
    return Bench(paired_texts("azure", tmp_path)[1])


@pytest.fixture
def cloud(tmp_path: Path) -> Bench:
    """Name: cloud / Scope: function / Depends: tmp_path (key files)."""
    return Bench(paired_texts("azure", tmp_path)[0])


def test_sim_backend_satisfies_the_port(onprem: Bench) -> None:
    assert isinstance(onprem.backend, DataplaneBackend)
    assert onprem.backend.name == "sim"


def test_a_second_pass_finds_nothing_to_do(onprem: Bench) -> None:
    converge(onprem.backend, onprem.low)
    assert onprem.pending() == []
    route = onprem.host.fib.lookup("10.40.8.21")
    assert route is not None and route.dev == "wg-sam" and route.proto == "routerd"
    assert onprem.host.get_sysctl("net.ipv4.conf.ens19.proxy_arp") == "1"
    assert onprem.host.get_sysctl("net.ipv4.conf.ens19.forwarding") == "1"


def test_reapplying_the_same_changes_succeeds(onprem: Bench) -> None:
    changes = onprem.pending()
    onprem.backend.apply(changes)
    again = onprem.backend.apply([c for c in changes if c.key[0] != "sysctl"])
    assert all(r.ok for r in again), [r.error for r in again if not r.ok]


def test_one_failing_change_never_blocks_the_others(onprem: Bench) -> None:
    route_key = ("route", "254", "10.40.8.21/32")
    onprem.world.fail_next_apply(
        DEFAULT_HOST, lambda k: k == route_key, "EPERM operation not permitted"
    )
    results = onprem.backend.apply(onprem.pending())
    failed = [r for r in results if not r.ok and r.change.key == route_key]
    assert len(failed) == 1 and failed[0].errno == errno.EPERM
    assert onprem.host.get_sysctl("net.ipv4.conf.ens19.proxy_arp") == "1"
    assert onprem.host.fib.lookup("10.40.8.21").dev == "ens19"  # type: ignore[union-attr]
    converge(onprem.backend, onprem.low)
    assert onprem.host.fib.lookup("10.40.8.21").dev == "wg-sam"  # type: ignore[union-attr]


def test_observe_reports_ownership_from_host_marks_so_a_restart_adopts(onprem: Bench) -> None:
    converge(onprem.backend, onprem.low)
    before = onprem.backend.observe(observe_scope(onprem.low)).owned
    onprem.backend.close()
    restarted = SimBackend(onprem.world, DEFAULT_HOST)
    assert restarted.observe(observe_scope(onprem.low)).owned == before
    assert onprem.pending(restarted) == []
    assert {k[0] for k in before} == {"route", "addr", "wg", "nft", "sysctl"}


def test_foreign_objects_are_never_removed(tmp_path: Path) -> None:
    text = paired_texts("azure", tmp_path)[1]
    bench = Bench(text)
    w = bench.world
    w.add_route(DEFAULT_HOST, "192.168.0.0/16", gateway="192.0.2.1", dev="public")
    w.add_nft_table(DEFAULT_HOST, MSS_TABLE, [MssRule("x", "y", 1000)], family="ip")
    w.agent_add_address(DEFAULT_HOST, "ens19", "10.40.8.200/24")
    converge(bench.backend, bench.low)
    no_claims = lowered(load(without_kinds(text, "RemoteAddressClaim")))
    converge(bench.backend, no_claims)
    host = bench.host
    assert host.fib.lookup("10.40.8.21").dev == "ens19"  # type: ignore[union-attr]
    assert host.fib.routes_for("192.168.0.0/16")
    assert ("ip", MSS_TABLE) in host.nft and ("inet", MSS_TABLE) not in host.nft
    assert "10.40.8.200/24" in host.iface("ens19").addresses
    stale = Change("remove", ("route", "254", "192.168.0.0/16"))
    assert bench.backend.apply([stale])[0].ok
    assert host.fib.routes_for("192.168.0.0/16")


def test_sysctl_removal_restores_the_value_seen_before(onprem: Bench) -> None:
    assert onprem.host.get_sysctl("net.ipv4.ip_forward") == "0"
    converge(onprem.backend, onprem.low)
    assert onprem.host.get_sysctl("net.ipv4.ip_forward") == "1"
    onprem.backend.close(cleanup=True)
    assert onprem.host.get_sysctl("net.ipv4.ip_forward") == "0"
    assert onprem.host.get_sysctl("net.ipv4.conf.ens19.proxy_arp") == "0"


def test_close_with_cleanup_removes_everything_owned(onprem: Bench) -> None:
    converge(onprem.backend, onprem.low)
    onprem.backend.close(cleanup=True)
    assert "wg-sam" not in onprem.host.interfaces
    assert onprem.host.fib.lookup("10.40.8.21").dev == "ens19"  # type: ignore[union-attr]
    assert not onprem.host.nft
    assert SimBackend(onprem.world, DEFAULT_HOST).observe(ObserveScope()).owned == set()


def test_close_without_cleanup_leaves_the_dataplane(onprem: Bench) -> None:
    converge(onprem.backend, onprem.low)
    onprem.backend.close()
    assert onprem.host.fib.lookup("10.40.8.21").dev == "wg-sam"  # type: ignore[union-attr]


def test_absent_address_is_observed_everywhere_and_removed_everywhere(cloud: Bench) -> None:
    converge(cloud.backend, cloud.low)
    cloud.world.agent_add_address(DEFAULT_HOST, "eth0", "10.40.8.31/24")
    cloud.world.agent_add_address(DEFAULT_HOST, "public", "10.40.8.31/32")
    observed = cloud.backend.observe(observe_scope(cloud.low)).objects[("absent", "10.40.8.31")]
    assert observed == AbsentAddress(
        "10.40.8.31", (("eth0", "10.40.8.31/24"), ("public", "10.40.8.31/32"))
    )
    assert [c.key for c in cloud.pending()] == [("absent", "10.40.8.31")]
    converge(cloud.backend, cloud.low)
    assert not cloud.host.is_local("10.40.8.31")
    assert ("absent", "10.40.8.31") not in cloud.backend.observe(observe_scope(cloud.low)).owned


def test_wireguard_key_comes_from_the_key_file(onprem: Bench) -> None:
    converge(onprem.backend, onprem.low)
    dev = onprem.backend.observe(observe_scope(onprem.low)).objects[("wg", "wg-sam")]
    key_file = onprem.low.desired.objects[("wg", "wg-sam")]
    assert isinstance(dev, WireGuardDevice) and isinstance(key_file, WireGuardDevice)
    assert dev.public_key == wgkey.public_key(read_private_key(key_file.private_key_file))
    assert dev.listen_port == 51820 and dev.mtu == 1420
    assert onprem.host.interfaces["wg-sam"].addresses == {"10.255.40.1/31": "routerd"}


def test_clamp_table_carries_the_owner_comment_with_the_generation(onprem: Bench) -> None:
    onprem.low = lowered(onprem.config, generation=7)
    converge(onprem.backend, onprem.low)
    table = onprem.host.nft[("inet", MSS_TABLE)]
    assert table.comment == "routerd.owner=routerd routerd.generation=7"
    assert MssRule("ens19", "wg-sam", 1300) in table.rules


def test_fault_injection_calls_on_change_but_own_applies_do_not(onprem: Bench) -> None:
    calls: list[str] = []
    onprem.backend.start(lambda: calls.append("changed"))
    converge(onprem.backend, onprem.low)
    assert calls == []
    onprem.world.delete_route(DEFAULT_HOST, "10.40.8.21/32")
    onprem.world.set_sysctl(DEFAULT_HOST, "net.ipv4.conf.ens19.forwarding", "0")
    onprem.world.flush_nft_table(DEFAULT_HOST)
    assert calls == ["changed"] * 3
    pending = {c.key for c in onprem.pending()}
    assert pending == {
        ("route", "254", "10.40.8.21/32"),
        ("sysctl", "net.ipv4.conf.ens19.forwarding"),
        ("nft", "inet", MSS_TABLE),
    }
    converge(onprem.backend, onprem.low)
    onprem.backend.close()
    onprem.world.agent_add_address(DEFAULT_HOST, "ens19", "10.40.8.21/24")
    assert calls == ["changed"] * 3


def test_links_in_scope_are_reported(onprem: Bench) -> None:
    observed = onprem.backend.observe(ObserveScope(links={"ens19", "wg-sam"}))
    assert observed.links["ens19"].exists and observed.links["ens19"].mtu == 1500
    assert not observed.link_exists("wg-sam")
    converge(onprem.backend, onprem.low)
    wg = onprem.backend.observe(ObserveScope(links={"wg-sam"})).links["wg-sam"]
    assert wg.exists and wg.kind == "wireguard" and wg.up


def test_route_to_a_missing_device_fails_with_enodev(onprem: Bench) -> None:
    route_change = next(c for c in onprem.pending() if c.key[0] == "route")
    result = onprem.backend.apply([route_change])[0]
    assert not result.ok and result.errno == errno.ENODEV


def test_verify_without_a_peer_reports_the_route_but_no_working_probe(onprem: Bench) -> None:
    converge(onprem.backend, onprem.low)
    evidence = onprem.backend.verify(checks(onprem.low))["cloud-vm-21"]
    assert evidence.route_dev == "wg-sam"
    assert evidence.probe_ok is False
    assert "no host on the ens19 link" in evidence.detail


def test_single_host_world_gives_capture_interfaces_a_domain_address(cloud: Bench) -> None:
    assert cloud.host.iface("eth0").addresses == {"10.40.8.1/24": ""}
    assert "public" in cloud.host.interfaces and "wg-sam" not in cloud.host.interfaces


def test_a_unicast_gratuitous_arp_reaches_only_its_host() -> None:
    from routerd.core.desired import Garp

    from .kit import lan_world

    world = lan_world()
    world.add_host("other")
    world.connect("other", "eth0", "lan", address="10.0.0.11/24")
    heard: list[tuple[str, list[tuple[str, str]]]] = []
    world.listeners.append(lambda g, ports: heard.append((g.to, ports)) or "")
    client_mac = world.hosts["client"].interfaces["eth0"].mac
    backend = SimBackend(world, "router")
    garp = Garp("10.0.0.99", "eth0", client_mac)
    (result,) = backend.apply([Change("announce", garp.key, new=garp)])
    assert result.ok, result.error
    router_mac = world.hosts["router"].interfaces["eth0"].mac
    assert world.hosts["client"].neighbours[("eth0", "10.0.0.99")] == router_mac
    assert ("eth0", "10.0.0.99") not in world.hosts["other"].neighbours
    assert heard == [(client_mac, [("client", "eth0")])]
    assert world.garps[-1].to == client_mac
