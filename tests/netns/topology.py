"""Topologies shared by the Linux-backend namespace tests (built with the ``lab`` fixture).

``router``: one namespace ``r`` standing for a SAM router, with

* ``cap``: the capture interface (10.40.8.1/24), a veth whose peer ``lan`` sits in a
  second namespace (a LAN host at 10.40.8.2/24);
* ``ov``/``ovp``: a veth pair inside ``r`` standing in for the tunnel device (the kernel
  here has neither ``dummy`` nor ``wireguard``; routes do not care about the device type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.netns import Netns, veth


@dataclass
class Router:
    ns: Netns
    lan: Netns
    cap: str
    lan_if: str
    ov: str
    ovp: str


def router(lab: Any) -> Router:
    ns = lab.netns("r")
    lan = lab.netns("lan")
    cap, lan_if, ov, ovp = lab.name("cap"), lab.name("lan"), lab.name("ov"), lab.name("ovp")
    veth(ns, cap, lan, lan_if)
    ns.ip("addr", "add", "10.40.8.1/24", "dev", cap)
    lan.ip("addr", "add", "10.40.8.2/24", "dev", lan_if)
    ns.ip("link", "add", ov, "type", "veth", "peer", "name", ovp)
    ns.ip("link", "set", ov, "up")
    ns.ip("link", "set", ovp, "up")
    return Router(ns, lan, cap, lan_if, ov, ovp)


def routes(ns: Netns, *selector: str) -> set[tuple[str, str, int, str]]:
    """(dst, dev, metric, type) of the IPv4 routes in every table matching ``selector``.

    ``ip -j`` omits a field the selector fixes (``proto 196``), so the protocol is not
    part of the tuple: select by it instead.
    """
    out = set()
    for r in ns.ipj("route", "show", "table", "all", *selector):
        out.add((r["dst"], r.get("dev", ""), r.get("metric", 0), r.get("type", "unicast")))
    return out


def proxies(ns: Netns) -> dict[tuple[str, str], str]:
    """(address, dev) -> protocol ("" when unlabelled) of every proxy-ARP entry."""
    return {
        (e["dst"], e["dev"]): str(e.get("protocol", "")) for e in ns.ipj("neigh", "show", "proxy")
    }


def addresses(ns: Netns) -> set[tuple[str, str]]:
    """(dev, cidr) of every IPv4 address."""
    out = set()
    for link in ns.ipj("addr", "show"):
        for a in link.get("addr_info", []):
            if a.get("family") == "inet":
                out.add((link["ifname"], f"{a['local']}/{a['prefixlen']}"))
    return out
