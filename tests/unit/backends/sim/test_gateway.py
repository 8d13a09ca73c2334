"""The anycast gateway on simulated segments: two on-prem sites answer for 10.77.0.1 with one
MAC and route through it, a VM moved between them keeps its gateway, and the sim backend
creates, observes, switches and removes the device like any other object.

The routers' gateway objects are what lowering gives for ``examples/mobility/site-a.yaml``
and ``site-b.yaml`` (``gateway_objects``), applied by the sim backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.backends.sim import Drop, ManualClock, SimBackend, World
from routerd.core.desired import DesiredBuilder, DesiredState, GatewayDevice, ObserveScope
from routerd.core.engine import Engine, EngineSettings
from routerd.core.mobility.gateway import gateway_ifname, gateway_objects
from routerd.core.plan import diff
from routerd.core.port import ChangeResult
from routerd.keys import KeyFiles
from tests.support import configs

GW_IP, GW_MAC = "10.77.0.1", "02:00:00:4d:00:01"
GW = gateway_ifname("lab")
VM, FAR, CAPTURED = "10.77.3.9", "10.99.0.2", "10.77.3.20"
ROUTER_IP = {"ra": "10.77.0.2", "rb": "10.77.0.3"}
UPLINK = {"ra": "10.9.1", "rb": "10.9.2"}


def gateway_state(tmp_path: Path, site: str, standby: frozenset[str] = frozenset()) -> DesiredState:
    config = configs.load(configs.with_keys(configs.example_text("mobility", site), tmp_path))
    build = DesiredBuilder()
    for obj, owner in gateway_objects(config, standby).values():
        build.add(obj, owner)
    return build.build()


def reconcile(backend: SimBackend, want: DesiredState) -> list[ChangeResult]:
    scope = ObserveScope(
        sysctls={k[1] for k in want.objects if k[0] == "sysctl"}, desired=want, links={"ens19"}
    )
    return backend.apply(diff(want, backend.observe(scope)))


def two_sites() -> World:
    """vm (10.77.3.9, default via the gateway) on site A's LAN; routers ra and rb each on
    their site's LAN (ens19) and on an uplink to ``far`` (10.99.0.2, routes the domain to ra)."""
    w = World(clock=ManualClock())
    for name in ("lan-a", "lan-b", "up-a", "up-b"):
        w.add_segment(name)
    for router, lan, up in (("ra", "lan-a", "up-a"), ("rb", "lan-b", "up-b")):
        w.add_host(router)
        w.connect(router, "ens19", lan, address=f"{ROUTER_IP[router]}/16")
        w.connect(router, "up0", up, address=f"{UPLINK[router]}.1/24")
        w.add_route(router, f"{FAR}/32", gateway=f"{UPLINK[router]}.2", dev="up0")
    w.add_host("far")
    w.connect("far", "eth0", "up-a", address="10.9.1.2/24")
    w.connect("far", "eth1", "up-b", address="10.9.2.2/24")
    w.agent_add_address("far", "eth0", f"{FAR}/32")
    w.agent_add_address("far", "eth0", f"{CAPTURED}/32")
    w.add_route("far", "10.77.0.0/16", gateway="10.9.1.1", dev="eth0")
    w.add_host("vm")
    w.connect("vm", "eth0", "lan-a", address=f"{VM}/16")
    w.add_route("vm", "0.0.0.0/0", gateway=GW_IP, dev="eth0")
    return w


@pytest.fixture
def world(tmp_path: Path) -> World:
    """Name: world / Scope: function / Depends: tmp_path (both sites' gateways applied)."""
    w = two_sites()
    for router, site in (("ra", "site-a"), ("rb", "site-b")):
        results = reconcile(SimBackend(w, router), gateway_state(tmp_path, site))
        assert results and all(r.ok for r in results), [r.error for r in results]
    return w


def arp_hops(trace: object) -> list[str]:
    return [h.detail for h in trace.hops if h.event == "arp"]  # type: ignore[attr-defined]


def test_the_gateway_answers_with_the_configured_mac_and_routes(world: World) -> None:
    trace = world.trace("vm", FAR)

    assert trace.delivered and trace.dst_host == "far" and trace.source_preserved
    assert arp_hops(trace)[0] == f"{GW_IP} is-at {GW_MAC} (ra)"
    assert any(h.host == "ra" and h.ifname == GW and h.event == "forward" for h in trace.hops)
    assert world.ping("vm", FAR).ok


def test_the_routers_own_address_is_answered_by_the_capture_interface(world: World) -> None:
    lan_mac = world.host("ra").interfaces["ens19"].mac
    trace = world.trace("vm", ROUTER_IP["ra"])
    assert arp_hops(trace) == [f"{ROUTER_IP['ra']} is-at {lan_mac} (ra)"]


def test_without_arp_ignore_the_capture_interface_would_answer_for_the_gateway(
    world: World,
) -> None:
    world.set_sysctl("ra", "net.ipv4.conf.ens19.arp_ignore", "0")  # ARP flux, as Linux has it
    lan_mac = world.host("ra").interfaces["ens19"].mac
    assert arp_hops(world.trace("vm", FAR))[0] == f"{GW_IP} is-at {lan_mac} (ra)"


def test_a_moved_vm_finds_the_same_gateway_mac_at_the_other_site(world: World) -> None:
    world.move_port("vm", "eth0", "lan-b")
    world.delete_route("far", "10.77.0.0/16")
    world.add_route("far", "10.77.0.0/16", gateway="10.9.2.1", dev="eth1")

    trace = world.trace("vm", FAR)

    assert trace.delivered and trace.dst_host == "far"
    assert arp_hops(trace)[0] == f"{GW_IP} is-at {GW_MAC} (rb)"
    assert world.ping("vm", FAR).ok


def test_captures_are_answered_on_the_gateway_device_with_its_mac(world: World) -> None:
    ra = world.host("ra")
    world.add_route("ra", f"{CAPTURED}/32", gateway="10.9.1.2", dev="up0")
    world.set_sysctl("ra", f"net.ipv4.conf.{GW}.proxy_arp", "1")  # what a claim on it sets
    world.set_sysctl("ra", "net.ipv4.conf.all.rp_filter", "1")  # strict everywhere else

    trace = world.trace("vm", CAPTURED)

    assert trace.delivered and trace.dst_host == "far"
    assert arp_hops(trace)[0] == f"{CAPTURED} is-at {GW_MAC} (proxy ra)"
    assert ra.get_sysctl("net.ipv4.conf.ens19.proxy_arp") == "0"
    # The segment's own addresses route by ens19, another device than the gateway device:
    # one medium keeps the device from answering for them (here: one nobody holds).
    unclaimed = world.trace("vm", "10.77.3.50")
    assert not unclaimed.delivered and unclaimed.drop_reason == Drop.ARP_UNRESOLVED
    world.set_sysctl("ra", f"net.ipv4.conf.{GW}.medium_id", "0")
    assert arp_hops(world.trace("vm", "10.77.3.50"))[0] == f"10.77.3.50 is-at {GW_MAC} (proxy ra)"


def test_standby_answers_nothing_and_the_backend_converges(world: World, tmp_path: Path) -> None:
    backend = SimBackend(world, "ra")
    want = gateway_state(tmp_path, "site-a", frozenset({"lab"}))

    results = reconcile(backend, want)

    assert [r.change.key for r in results] == [("gateway", GW)]
    trace = world.trace("vm", FAR)
    assert not trace.delivered and trace.drop_reason == Drop.ARP_UNRESOLVED
    assert reconcile(backend, want) == []
    assert reconcile(backend, gateway_state(tmp_path, "site-a"))
    assert world.trace("vm", FAR).delivered


def test_the_backend_observes_removes_and_never_takes_a_foreign_link(
    world: World, tmp_path: Path
) -> None:
    backend = SimBackend(world, "ra")
    want = gateway_state(tmp_path, "site-a")
    observed = backend.observe(ObserveScope(desired=want))
    assert observed.objects[("gateway", GW)] == want.objects[("gateway", GW)]
    assert ("gateway", GW) in observed.owned
    assert reconcile(backend, want) == []  # idempotent

    results = reconcile(backend, DesiredState())  # the domain went
    assert all(r.ok for r in results)
    ra = world.host("ra")
    assert GW not in ra.interfaces
    assert ra.get_sysctl("net.ipv4.conf.ens19.arp_ignore") == "0"  # restored

    ra.add_interface(GW, kind="macvlan").parent = "ens19"  # someone else's link of that name
    (result,) = [r for r in reconcile(backend, want) if r.change.key == ("gateway", GW)]
    assert not result.ok and "not routerd's" in result.error
    foreign = backend.observe(ObserveScope(desired=want))
    assert isinstance(foreign.objects[("gateway", GW)], GatewayDevice)
    assert ("gateway", GW) not in foreign.owned
    reconcile(backend, DesiredState())  # nobody wants it any more: still not removed
    assert GW in ra.interfaces


def test_the_engine_heals_a_gateway_device_set_down_behind_its_back(tmp_path: Path) -> None:
    w = two_sites()
    config = configs.load(configs.with_keys(configs.example_text("mobility", "site-a"), tmp_path))
    settings = EngineSettings(key_dir=str(tmp_path / "keys"), keys_in_key_dir=True)
    engine = Engine(SimBackend(w, "ra"), config, keys=KeyFiles(), settings=settings)
    engine.run_pass()
    assert w.trace("vm", FAR).delivered
    assert engine.run_pass().changes == 0

    w.set_link_up("ra", GW, False)  # someone sets the device down
    assert not w.trace("vm", FAR).delivered
    result = engine.run_pass()

    assert result.changes == 1 and not result.failures
    assert w.host("ra").interfaces[GW].up and w.trace("vm", FAR).delivered
