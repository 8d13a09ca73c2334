"""IPv4 routes routerd owns: encoding, the protocol-filtered dump, and route lookups.

Ownership is the route protocol (D14 in docs/decisions.md): every route routerd installs carries
``ROUTERD_PROTO`` and the observation dump asks the kernel for that protocol only, so
foreign routes (``proto boot``, ``static``, a routing daemon's) are neither read nor ever
deleted: a delete names the protocol too and the kernel refuses to match another one.

Adds use ``NLM_F_EXCL`` so a foreign route with the same destination, table and metric is
reported (EEXIST) instead of being silently replaced; replacing one of our own routes uses
``NLM_F_REPLACE`` when the metric is unchanged and delete + add otherwise (the metric is
part of a route's identity in the kernel).
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import NetlinkSocket, Request
from routerd.core.desired import Key, Route

ROUTERD_PROTO = 196
"""The route (and proxy-neighbour) protocol number that marks routerd's objects."""

PROTO_NAME_LINE = f"{ROUTERD_PROTO}\trouterd\n"
RTM_F_CLONED = 0x200

RouteWrite = tuple[bool, bool, "Route | None"]
"""One route routerd wrote, as its echo would report it: (added, replacing, route). A
delete names the route it matched (by metric); an add's route is None when its echo
cannot be predicted (``add_write``)."""

ADD_FLAGS = nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_EXCL
REPLACE_FLAGS = nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_REPLACE


def _table_fields(table: int) -> tuple[int, bytes]:
    return (table if table < 256 else nl.RT_TABLE_UNSPEC), nl.attr_u32(nl.RTA_TABLE, table)


@functools.lru_cache(maxsize=1024)
def _add_template(
    plen: int, table: int, ifindex: int | None, gateway: str, metric: int, kind: str
) -> tuple[bytes, bytes, bool]:
    """An RTM_NEWROUTE body around its destination address: ``(head, tail, plain)``.

    Every route of a plan that shares table, device, gateway and metric differs only in
    those four bytes, so a cold apply builds each template once and then copies. ``plain``:
    the kernel's notification of such a route names the same device, gateway and type
    (a unicast route out of a known device, or a bare blackhole; ``add_write``).
    """
    blackhole = kind == "blackhole"
    scope = nl.RT_SCOPE_UNIVERSE if blackhole or gateway else nl.RT_SCOPE_LINK
    rtype = nl.RTN_BLACKHOLE if blackhole else nl.RTN_UNICAST
    tbl, tbl_attr = _table_fields(table)
    head = nl.RTMSG.pack(nl.AF_INET, plen, 0, 0, tbl, ROUTERD_PROTO, scope, rtype, 0) + tbl_attr
    if plen:
        head += nl.NLA.pack(nl.NLA.size + 4, nl.RTA_DST)
    tail = b""
    if ifindex is not None and not blackhole:
        tail += nl.attr_u32(nl.RTA_OIF, ifindex)
    if gateway and not blackhole:
        tail += nl.attr_ip4(nl.RTA_GATEWAY, gateway)
    if metric:
        tail += nl.attr_u32(nl.RTA_PRIORITY, metric)
    if kind == "unicast":
        plain = ifindex is not None and (not gateway or _canonical(gateway))
    else:
        plain = blackhole and ifindex is None and not gateway
    return head, tail, plain


def encode_add(route: Route, ifindex: int | None, *, replace: bool = False) -> Request:
    """RTM_NEWROUTE for ``route`` marked with routerd's protocol."""
    return add_write(route, ifindex, replace=replace)[0]


def add_write(
    route: Route, ifindex: int | None, *, replace: bool = False
) -> tuple[Request, RouteWrite]:
    """``encode_add``, and the write as the kernel's notification of it would report it.

    The route itself, when that notification decodes to it: a route routerd lowers (see
    ``_add_template``) in canonical notation. Otherwise None: only a dump can tell.

    Raises:
        ValueError, OSError: the route's destination cannot be encoded.
    """
    (written,) = add_writes([(route, ifindex)], replace=replace)
    if isinstance(written, Exception):
        raise written
    return written


def add_writes(
    adds: list[tuple[Route, int | None]], *, replace: bool = False
) -> list[tuple[Request, RouteWrite] | ValueError | OSError]:
    """``add_write`` of many routes: each route's request and write, or in its place the
    error ``add_write`` would raise (it fails alone)."""
    bodies, writes, errors = add_bodies(adds, replace=replace)
    kind, flags = nl.RTM_NEWROUTE, REPLACE_FLAGS if replace else ADD_FLAGS
    encoded = zip(bodies, writes, strict=True)
    out: list[tuple[Request, RouteWrite] | ValueError | OSError] = []
    for pos in range(len(adds)):
        failed = errors.get(pos)
        if failed is not None:
            out.append(failed)
        else:
            body, write = next(encoded)
            out.append((Request(kind, flags, body), write))
    return out


def add_bodies(
    adds: list[tuple[Route, int | None]], *, replace: bool = False
) -> tuple[list[bytes], list[RouteWrite], dict[int, ValueError | OSError]]:
    """The RTM_NEWROUTE bodies of many routes (what a cold start sends), without a
    ``Request`` per route: ``NetlinkSocket.change_all`` sends them.

    Each distinct shape's template and prefix length are looked up once per batch rather
    than once per route.

    Returns:
        The bodies and writes (``add_write``) of the routes that encode, in order, and the
        error of each route that does not (it fails alone), by its position in ``adds``.
    """
    bodies: list[bytes] = []
    writes: list[RouteWrite] = []
    errors: dict[int, ValueError | OSError] = {}
    body_out, write_out = bodies.append, writes.append
    aton, ntoa = socket.inet_aton, socket.inet_ntoa
    shapes: dict[tuple[object, ...], tuple[bytes, bytes, bool, int, bool]] = {}
    for pos, (route, ifindex) in enumerate(adds):
        addr, slash, plen_text = route.dst.partition("/")
        shape = (plen_text, route.table, ifindex, route.gateway, route.metric, route.type)
        try:
            found = shapes.get(shape)
            if found is None:
                plen = int(plen_text or 32)
                head, tail, plain = _add_template(plen, *shape[1:])
                canonical_plen = slash == "/" and plen_text == str(plen)
                found = shapes[shape] = (head, tail, plain, plen, canonical_plen)
            head, tail, plain, plen, canonical_plen = found
            packed = aton(addr)
        except (ValueError, OSError) as exc:
            errors[pos] = exc
            continue
        body_out(head + packed + tail if plen else head + tail)
        plain = plain and canonical_plen and ntoa(packed) == addr
        write_out((True, replace, route if plain else None))
    return bodies, writes, errors


def _canonical(address: str) -> bool:
    try:
        return socket.inet_ntoa(socket.inet_aton(address)) == address
    except OSError:
        return False


def encode_delete(route: Route) -> Request:
    """RTM_DELROUTE matching only a route with routerd's protocol (any device, any scope)."""
    addr, _, plen_text = route.dst.partition("/")
    plen = int(plen_text or 32)
    head, tail = _delete_template(plen, route.table, route.metric)
    body = head + socket.inet_aton(addr) + tail if plen else head + tail
    return Request(nl.RTM_DELROUTE, nl.NLM_F_ACK, body)


@functools.lru_cache(maxsize=256)
def _delete_template(plen: int, table: int, metric: int) -> tuple[bytes, bytes]:
    """An RTM_DELROUTE body around its destination address (see ``_add_template``)."""
    tbl, tbl_attr = _table_fields(table)
    head = nl.RTMSG.pack(
        nl.AF_INET, plen, 0, 0, tbl, ROUTERD_PROTO, nl.RT_SCOPE_NOWHERE, nl.RTN_UNSPEC, 0
    )
    head += tbl_attr
    if plen:
        head += nl.NLA.pack(nl.NLA.size + 4, nl.RTA_DST)
    return head, nl.attr_u32(nl.RTA_PRIORITY, metric)


def decode(body: bytes, names: Callable[[int], str]) -> Route | None:
    """A Route from an RTM_NEWROUTE body (None for other families and cached clones)."""
    family, plen, _, _, tbl, _, _, rtype, flags = nl.RTMSG.unpack_from(body, 0)
    if family != nl.AF_INET or flags & RTM_F_CLONED:
        return None
    attrs = nl.parse_attrs(body, nl.RTMSG.size)
    table = nl.u32(attrs[nl.RTA_TABLE]) if nl.RTA_TABLE in attrs else tbl
    dst = nl.ip4(attrs[nl.RTA_DST]) if nl.RTA_DST in attrs else "0.0.0.0"
    oif = attrs.get(nl.RTA_OIF)
    gw = attrs.get(nl.RTA_GATEWAY)
    kind = {nl.RTN_UNICAST: "unicast", nl.RTN_BLACKHOLE: "blackhole"}.get(rtype, f"type{rtype}")
    return Route(
        dst=f"{dst}/{plen}",
        dev=names(nl.u32(oif)) if oif is not None else "",
        metric=nl.u32(attrs[nl.RTA_PRIORITY]) if nl.RTA_PRIORITY in attrs else 0,
        gateway=nl.ip4(gw) if gw is not None else "",
        table=table,
        type=kind,
    )


def key_of(body: bytes) -> Key | None:
    """The key of the IPv4 route an RTM_NEWROUTE/DELROUTE body names (None: not IPv4)."""
    family, plen, _, _, tbl, _, _, _, _ = nl.RTMSG.unpack_from(body, 0)
    if family != nl.AF_INET:
        return None
    attrs = nl.parse_attrs(body, nl.RTMSG.size)
    table = nl.u32(attrs[nl.RTA_TABLE]) if nl.RTA_TABLE in attrs else tbl
    dst = nl.ip4(attrs[nl.RTA_DST]) if nl.RTA_DST in attrs else "0.0.0.0"
    return ("route", str(table), f"{dst}/{plen}")


def dump_owned(sock: NetlinkSocket, names: Callable[[int], str]) -> list[Route]:
    """Every IPv4 route with routerd's protocol, in every table (filtered by the kernel)."""
    body = nl.RTMSG.pack(nl.AF_INET, 0, 0, 0, 0, ROUTERD_PROTO, 0, 0, 0)
    with sock.lock:
        msgs = sock.dump(nl.RTM_GETROUTE, body)
    out = []
    for msg in msgs:
        if msg.type != nl.RTM_NEWROUTE:
            continue
        route = decode(msg.body, names)
        # Kernels without strict dump filtering return everything: filter here too.
        if route is not None and msg.body[5] == ROUTERD_PROTO:
            out.append(route)
    return out


RT_TABLE_LOCAL = 255
RTPROT_KERNEL = 2


def dump_foreign_local(
    sock: NetlinkSocket, names: Callable[[int], str]
) -> list[tuple[str, str, int]]:
    """``local``-table /32 routes not made by the kernel for an address: (ip, dev, proto).

    The kernel adds a ``proto kernel`` local route for every local address (removing the
    address removes it); anything else (Google's guest agent uses proto 66 for alias IPs)
    makes an address local without assigning it, which the captured address's absence
    (D15) must also remove.
    """
    body = nl.RTMSG.pack(nl.AF_INET, 0, 0, 0, RT_TABLE_LOCAL, 0, 0, 0, 0)
    body += nl.attr_u32(nl.RTA_TABLE, RT_TABLE_LOCAL)
    with sock.lock:
        msgs = sock.dump(nl.RTM_GETROUTE, body)
    out = []
    for msg in msgs:
        if msg.type != nl.RTM_NEWROUTE:
            continue
        family, plen, _, _, tbl, proto, _, rtype, _ = nl.RTMSG.unpack_from(msg.body, 0)
        attrs = nl.parse_attrs(msg.body, nl.RTMSG.size)
        table = nl.u32(attrs[nl.RTA_TABLE]) if nl.RTA_TABLE in attrs else tbl
        if family != nl.AF_INET or rtype != nl.RTN_LOCAL or plen != 32 or table != RT_TABLE_LOCAL:
            continue
        if proto == RTPROT_KERNEL or nl.RTA_DST not in attrs:
            continue
        oif = attrs.get(nl.RTA_OIF)
        out.append((nl.ip4(attrs[nl.RTA_DST]), names(nl.u32(oif)) if oif else "", proto))
    return out


def encode_delete_local(address: str, ifindex: int | None, proto: int) -> Request:
    """RTM_DELROUTE for one foreign ``local`` /32 route found by ``dump_foreign_local``."""
    body = nl.RTMSG.pack(
        nl.AF_INET, 32, 0, 0, RT_TABLE_LOCAL, proto, nl.RT_SCOPE_NOWHERE, nl.RTN_LOCAL, 0
    )
    body += nl.attr_u32(nl.RTA_TABLE, RT_TABLE_LOCAL) + nl.attr_ip4(nl.RTA_DST, address)
    if ifindex is not None:
        body += nl.attr_u32(nl.RTA_OIF, ifindex)
    return Request(nl.RTM_DELROUTE, nl.NLM_F_ACK, body)


LOOKUP_HEAD = nl.RTMSG.pack(nl.AF_INET, 32, 0, 0, 0, 0, 0, 0, 0) + nl.NLA.pack(8, nl.RTA_DST)


def encode_lookup(address: str) -> Request:
    """RTM_GETROUTE for one destination (``ip route get ADDR``), answered with a route."""
    return Request(nl.RTM_GETROUTE, 0, LOOKUP_HEAD + socket.inet_aton(address))


ROUTE_TYPES = {
    nl.RTN_UNICAST: "unicast",
    nl.RTN_LOCAL: "local",
    3: "broadcast",
    5: "multicast",
    nl.RTN_BLACKHOLE: "blackhole",
    7: "unreachable",
    8: "prohibit",
    9: "throw",
}


def encode_input_lookup(address: str, source: str, iif: int) -> Request:
    """``ip route get ADDRESS from SOURCE iif DEV``: the input route a packet would take."""
    body = nl.RTMSG.pack(nl.AF_INET, 32, 32, 0, 0, 0, 0, 0, 0)
    body += nl.attr_ip4(nl.RTA_DST, address) + nl.attr_ip4(nl.RTA_SRC, source)
    body += nl.attr_u32(nl.RTA_IIF, iif)
    return Request(nl.RTM_GETROUTE, 0, body)


def input_lookups(
    sock: NetlinkSocket,
    asks: list[tuple[str, str, int]],
    names: Callable[[int], str],
) -> list[tuple[str, str, str]]:
    """Input routes for ``(address, source, iif)`` (pipelined), as ``(type, dev, error)``.

    This is the lookup the kernel's ARP code makes for a proxied target (the asker as the
    source, the capture interface as the input device): a ``unicast`` answer leaving by
    another device means the kernel answers ARP for the address there.
    """
    with sock.lock:
        replies = sock.transact([encode_input_lookup(*a) for a in asks])
    out = []
    for reply in replies:
        if not reply.ok or reply.body is None:
            out.append(("", "", reply.text or os.strerror(reply.errno)))
            continue
        rtype = nl.RTMSG.unpack_from(reply.body, 0)[7]
        attrs = nl.parse_attrs(reply.body, nl.RTMSG.size)
        oif = attrs.get(nl.RTA_OIF)
        dev = names(nl.u32(oif)) if oif is not None else ""
        out.append((ROUTE_TYPES.get(rtype, f"type{rtype}"), dev, ""))
    return out


def lookup_devices(
    sock: NetlinkSocket, addresses: list[str], names: Callable[[int], str]
) -> dict[str, str | None]:
    """The output device the kernel picks for each address (pipelined ``ip route get``).

    Only the output interface of each answer is read (``NetlinkSocket.lookup``); it is
    still the kernel's own answer to the lookup, one per address.
    """
    head = LOOKUP_HEAD
    aton = socket.inet_aton
    with sock.lock:
        found = sock.lookup(
            nl.RTM_GETROUTE, [head + aton(a) for a in addresses], nl.RTMSG.size, nl.RTA_OIF
        )
    devs: dict[bytes | None, str | None] = {None: None}
    for raw in set(found):  # a handful of devices: one name lookup each
        if raw is not None:
            devs[raw] = names(nl.u32(raw))
    return dict(zip(addresses, map(devs.__getitem__, found), strict=True))
