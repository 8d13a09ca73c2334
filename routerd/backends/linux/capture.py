"""How a proxy-ARP capture is realized: a proxy entry per address, or the route alone.

Linux answers an ARP request for target A that arrives on device D (``arp_process`` in
net/ipv4/arp.c) only when all of these hold:

* forwarding is on for D (``net.ipv4.conf.D.forwarding``, the per-device value);
* the input route for A, looked up as if the asker sent a packet to A in through D, is a
  unicast route that leaves by a device other than D;
* and either proxy ARP is on for D (``conf.all.proxy_arp`` or ``conf.D.proxy_arp``) or a
  proxy entry ``A dev D`` exists (``ip neigh add proxy``).

routerd always sets ``proxy_arp=1`` on a capture interface and always installs the claim's
``/32`` delivery route to the tunnel, so the kernel answers for a claimed address whether or
not the proxy entry exists: the entry adds nothing. It costs a lot at scale: the kernel keeps
every namespace's proxy entries in one 16-bucket hash, so an add scans a chain that grows
with the table (installing 100,000 takes from half a minute to two, and each one slows
every other namespace's entries while it is there).

Two modes, chosen when the backend is built:

* ``entries``: one proxy entry per captured address (the kernel object behind a desired
  ``ProxyNeighbour``).
* ``route``: no per-address kernel object. A desired ``ProxyNeighbour`` is *covered* when the
  per-address half of the kernel's decision holds: forwarding is on for D, and routerd's
  ``/32`` route for A in the main table is unicast and leaves by another device. The
  per-interface half, ``proxy_arp``, is the capture interface's own desired sysctl and is
  judged by its own check. A covered object is reported observed but not owned: there is
  nothing in the kernel to remove, and releasing the claim removes the route, which ends the
  capture.

Proxy entries routerd made before switching to ``route`` stay owned and are removed when
their claim is released. Keeping them changes nothing while the claim lives: an entry, like
``proxy_arp``, only answers while the route leaves by another device.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routerd.backends.linux.host import Host
from routerd.core.desired import MAIN_TABLE, Key, Route

ENTRIES = "entries"
ROUTE = "route"
MODES = (ENTRIES, ROUTE)
_MAIN = str(MAIN_TABLE)


def check_mode(mode: str) -> str:
    """The mode, validated.

    Raises:
        ValueError: not one of ``MODES``.
    """
    if mode not in MODES:
        raise ValueError(
            f"proxy_capture must be one of {', '.join(MODES)} (got {mode!r}): 'entries' adds "
            "a proxy entry per address, 'route' relies on proxy_arp=1 and the /32 route"
        )
    return mode


def forwarding_key(dev: str) -> str:
    return f"net.ipv4.conf.{dev}.forwarding"


def route_key(address: str) -> Key:
    """The key of routerd's delivery route for ``address`` (a /32 in the main table)."""
    return ("route", _MAIN, f"{address}/32")


def route_away(route: Route | None, address: str, dev: str) -> str:
    """Why ``route`` does not make the kernel answer ARP for ``address`` on ``dev`` ("" if so)."""
    if route is None:
        return f"no routerd route {address}/32 in the main table"
    if route.type != "unicast":
        return f"route {address}/32 is {route.type}: the kernel proxies only unicast routes"
    if route.dev == dev:
        return f"route {address}/32 leaves by {dev} itself"
    return ""


class Forwarding:
    """``conf.<dev>.forwarding`` per device, read once per use."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._seen: dict[str, bool] = {}

    def on(self, dev: str) -> bool:
        seen = self._seen.get(dev)
        if seen is None:
            seen = self._seen[dev] = self.host.sysctls.read(forwarding_key(dev)) == "1"
        return seen


def covered(host: Host, routes: Mapping[Key, Route], keys: Iterable[Key]) -> list[Key]:
    """The ``pneigh`` keys the kernel answers for, going by routerd's routes and forwarding.

    Args:
        host: the backend's host handles (sysctls are read through it).
        routes: routerd's observed routes by key (one per key).
        keys: ``("pneigh", address, dev)`` keys to judge.

    Returns:
        The covered keys, in the order given.
    """
    fwd = Forwarding(host)
    out = []
    for key in keys:
        _, address, dev = key
        r = routes.get(route_key(address))
        if r is not None and r.dev != dev and r.type == "unicast" and fwd.on(dev):
            out.append(key)
    return out


def why_uncovered(fwd: Forwarding, route: Route | None, address: str, dev: str) -> str:
    """Why a capture about to be reported applied is not covered ("" when it is).

    Args:
        fwd: forwarding per device.
        route: routerd's route for ``address`` as it stands after this apply's route phase.
        address: the captured address.
        dev: the capture interface.

    Returns:
        The reason, phrased for the operator.
    """
    if not fwd.on(dev):
        return (
            f"{forwarding_key(dev)} is not 1: the kernel answers no proxy ARP on {dev} "
            f"(set it, or net.ipv4.ip_forward=1 before {dev} appears)"
        )
    why = route_away(route, address, dev)
    if why:
        return f"{why}; the kernel answers ARP for {address} on {dev} only through such a route"
    return ""
