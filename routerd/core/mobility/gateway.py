"""The anycast-gateway device of a mobile domain: its name and what it lowers to (pure).

Every on-prem site of a mobility domain answers for the domain's gateway address with the
same IP and MAC, and captures the addresses homed elsewhere on that same device, so a VM
that moves between sites finds both its gateway and every proxied neighbour at the MAC it
already cached (EVPN's distributed anycast gateway, RFC 9135). The device is a child of the
capture interface that routerd owns; its name is derived from the domain so every component
(lowering, the backends, the doctor) agrees on it without a lookup.

What a gateway lowers to (``gateway_objects``, part of the tail: it depends on the config
alone, never on claims):

* the device itself (``GatewayDevice``): a macvlan child of the capture interface with the
  configured MAC, holding the gateway address as a ``/32`` (``noprefixroute``: the capture
  interface keeps the subnet route, so traffic toward the segment's hosts leaves by it);
* on the capture interface: ``arp_ignore=1`` (it answers only for its own addresses, so
  the router's address is answered with the router's MAC and the gateway only by the
  device), ``arp_announce=2`` (the router asks for a host from its own address: asked
  from the gateway address with the router's MAC, every host that hears the request would
  cache that MAC for its gateway, wrong at every other site) and ``proxy_arp=0`` (captures
  are answered by the device, with the shared MAC, and never a second time with the
  router's);
* on both, the same ``medium_id``: the segment's own addresses route by the capture
  interface, which is *another device* than the gateway device, so proxy-ARP there would
  answer for every host of the segment; one medium tells the kernel they are the same
  link, and only addresses routed elsewhere (captured ones, into the tunnel) are answered;
* on the device: ``arp_ignore=1`` (it answers for the gateway only, not for every address
  of the router), ``rp_filter=2`` (what arrives there comes from hosts whose route leaves
  by the capture interface: a strict filter would drop their traffic and even their ARP
  requests), ``forwarding=1`` (the VMs' off-subnet traffic is routed from it) and
  ``proxy_delay=0`` (captured addresses are answered at once, not up to 0.8 s later);
* ``ip_forward=1``.

Proxy-ARP capture on the device (``proxy_arp=1`` there) belongs to the claims that capture
on it, so the capture's own switches keep working. ``standby`` domains keep their device
with the link down: it answers nothing and receives nothing, and taking over is one link
flag (the switch a redundant pair's active/standby role drives).
"""

from __future__ import annotations

import hashlib
from collections.abc import Set

from routerd.core.config import RouterConfig
from routerd.core.desired import DataplaneObject, GatewayDevice, Key, Sysctl
from routerd.core.overlay import os_ifname
from routerd.core.resources import AddressMobilityDomain

PREFIX = "rdgw-"
"""Every anycast-gateway device routerd creates starts with this (ownership by name)."""
IP_FORWARD = "net.ipv4.ip_forward"
MEDIUM = "1"
"""The ``medium_id`` a capture interface and its gateway device share (see the module doc)."""


def gateway_ifname(domain: str) -> str:
    """The gateway device of ``domain``: ``rdgw-`` and 8 hex digits (13 characters, within
    the kernel's 15-character limit; stable across restarts and routers)."""
    return PREFIX + hashlib.sha256(domain.encode()).hexdigest()[:8]


def conf(ifname: str, param: str) -> str:
    """``net.ipv4.conf.<ifname>.<param>``."""
    return f"net.ipv4.conf.{ifname}.{param}"


def gateway_device(config: RouterConfig, dom: AddressMobilityDomain) -> GatewayDevice | None:
    """The device ``dom`` wants on this router (None: no gateway here).

    A domain has one when it is mobile, declares ``mobility.gateway``, and this router's
    site is on-prem and captures by proxy-ARP on an interface (a cloud's fabric is the
    gateway there).

    Args:
        config: the effective config (or the claims' context).
        dom: the domain.

    Returns:
        The device, up; the caller sets ``up=False`` for a standby.
    """
    m = dom.spec.mobility
    if m is None or m.gateway is None:
        return None
    local = next((s for s in m.sites if s.name == m.local_site), None)
    if local is None or local.kind != "onprem":
        return None
    if m.capture.type != "proxy-arp" or not m.capture.interface:
        return None
    return GatewayDevice(
        ifname=gateway_ifname(dom.name),
        parent=os_ifname(config, m.capture.interface),
        mac=m.gateway.mac,
        addresses=(f"{m.gateway.address}/32",),
    )


def gateway_objects(
    config: RouterConfig, standby: Set[str] = frozenset()
) -> dict[Key, tuple[DataplaneObject, str]]:
    """Every anycast-gateway object of ``config`` (see the module docstring).

    Args:
        config: the effective config (or the claims' context).
        standby: names of domains whose gateway this router holds in standby.

    Returns:
        key -> (object, owner label of the domain wanting it); a key two domains want
        (their shared capture interface's settings) is labelled with the first by name.
    """
    out: dict[Key, tuple[DataplaneObject, str]] = {}
    for dom in sorted(config.of(AddressMobilityDomain), key=lambda d: d.name):
        device = gateway_device(config, dom)
        if device is None:
            continue
        if dom.name in standby:
            device = GatewayDevice(
                device.ifname, device.parent, device.mac, device.addresses, up=False
            )
        gw, cap = device.ifname, device.parent
        wanted: list[DataplaneObject] = [
            device,
            Sysctl(IP_FORWARD, "1"),
            Sysctl(conf(cap, "arp_ignore"), "1", frozenset({"2"})),
            Sysctl(conf(cap, "arp_announce"), "2"),
            Sysctl(conf(cap, "proxy_arp"), "0"),
            Sysctl(conf(cap, "medium_id"), MEDIUM),
            Sysctl(conf(gw, "medium_id"), MEDIUM),
            Sysctl(conf(gw, "arp_ignore"), "1"),
            Sysctl(conf(gw, "rp_filter"), "2"),
            Sysctl(conf(gw, "forwarding"), "1"),
            Sysctl(f"net.ipv4.neigh.{gw}.proxy_delay", "0"),
        ]
        for obj in wanted:
            out.setdefault(obj.key, (obj, dom.ref))
    return out
