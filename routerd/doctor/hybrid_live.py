"""Live per-claim checks of ``doctor hybrid``, against the resolved intent.

The order is the one of the Go implementation routerd succeeds, so operators' muscle memory
and evidence logs still line up: ip_forward, delivery route, route get, MSS clamp, host
firewall, then the capture-type specific checks (for proxy-ARP, the kernel's own capture
rule: ``capture_route``), then the checks it lacked (WireGuard
coverage, duplicate responders, the provider's view, the ``--probe`` MTU measurement). The
tunnel is always the one lowering resolved from the peer (D7 in docs/decisions.md), never a
placeholder.

The small kernel checks live here; the bigger ones have their own modules. None of them
starts a process of its own: they answer from the run's table dumps (``kernel_tables``),
the batched route lookups (``route_lookup``) and ``/proc/sys`` values read once per run, so
a check costs dictionary look-ups and 10,000 claims cost about what one did.
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.doctor import (
    capture_route,
    forward_policy,
    host_firewall,
    kernel_tables,
    mss,
    provider,
    responder,
    route_lookup,
    wireguard,
)
from routerd.doctor.inputs import Inputs, claim_name

AREA = "hybrid"
ClaimCheck = Callable[[Inputs, ClaimIntent], Finding | None]


def _f(c: ClaimIntent, check: str, status: Status, detail: str, remedy: str = "") -> Finding:
    return Finding(AREA, claim_name(c.name, check), status, detail, remedy, claim=c.name)


def ip_forward(inputs: Inputs, c: ClaimIntent) -> Finding:
    value = inputs.host.cached_sysctl("net/ipv4/ip_forward")
    if value == "1":
        return _f(c, "ip_forward", Status.PASS, "net.ipv4.ip_forward=1")
    return _f(
        c,
        "ip_forward",
        Status.WARN,
        f"net.ipv4.ip_forward={value if value is not None else 'unreadable'}",
        "routerd sets it on reconcile; if it flips back, another tool (a sysctl.d file, "
        "Docker, a cloud agent) owns it: sysctl -w net.ipv4.ip_forward=1",
    )


def delivery_route(inputs: Inputs, c: ClaimIntent) -> Finding:
    routes = kernel_tables.routes_to(inputs, c.address)
    fix = f"routerd installs `{c.address} dev {c.tunnel} metric 120`; check the daemon log"
    if routes is None:
        why = kernel_tables.dump(inputs, *kernel_tables.ROUTES).describe()
        return _f(c, "delivery route", Status.WARN, why, fix)
    if not routes:
        return _f(c, "delivery route", Status.WARN, f"no route for {c.address}", fix)
    best = min(routes, key=lambda r: int(r.get("metric", 0)))
    devs = ", ".join(f"dev {r.get('dev', '?')} metric {r.get('metric', 0)}" for r in routes)
    if best.get("dev") == c.tunnel:
        return _f(c, "delivery route", Status.PASS, f"{c.address} {devs}")
    return _f(c, "delivery route", Status.WARN, f"{c.address} {devs}; expected dev {c.tunnel}", fix)


def route_get(inputs: Inputs, c: ClaimIntent) -> Finding:
    got = route_lookup.lookup(inputs, c.ip)
    if got.route is None:
        return _f(c, "route get", Status.WARN, f"route lookup failed: {got.error}")
    dev = got.route.get("dev", "")
    detail = f"{c.ip} via dev {dev or '?'}" + (
        f" src {got.route['prefsrc']}" if got.route.get("prefsrc") else ""
    )
    if dev == c.tunnel:
        return _f(c, "route get", Status.PASS, detail)
    fix = (
        "a more specific or lower-metric route, or a policy rule, wins: `ip route get " + c.ip + "`"
    )
    return _f(c, "route get", Status.WARN, f"{detail}; expected dev {c.tunnel}", fix)


def capture_interface(inputs: Inputs, c: ClaimIntent) -> Finding:
    check = "proxy-arp interface"
    if not c.capture_interface:
        return _f(c, check, Status.SKIP, "capture.interface is empty")
    if kernel_tables.link(inputs, c.capture_interface):
        return _f(c, check, Status.PASS, f"{c.capture_interface} exists")
    return _f(
        c,
        check,
        Status.FAIL,
        f"{c.capture_interface} is missing: routerd cannot set proxy_arp on a missing interface",
        "fix spec.capture.interface (or the Interface ifname it names)",
    )


def tunnel_link(inputs: Inputs, c: ClaimIntent) -> Finding:
    """``… tunnel``: the delivery device exists and is up (``tunnel-missing``/``tunnel-down``)."""
    link = kernel_tables.link(inputs, c.tunnel)
    if not link:
        return _f(
            c,
            "tunnel",
            Status.FAIL,
            f"{c.tunnel or 'the tunnel'} does not exist",
            "see docs/troubleshooting.md#tunnel-missing",
        )
    state = str(link.get("operstate", "UNKNOWN"))
    detail = f"{c.tunnel} mtu {link.get('mtu')} state {state}"
    if "UP" not in link.get("flags", []) or state in ("DOWN", "LOWERLAYERDOWN"):
        fix = f"ip link set {c.tunnel} up; see docs/troubleshooting.md#tunnel-down"
        return _f(c, "tunnel", Status.FAIL, detail + ": down", fix)
    return _f(c, "tunnel", Status.PASS, detail)


def rp_filter(inputs: Inputs, c: ClaimIntent, ifname: str) -> Finding:
    check = f"rp_filter {ifname}"
    if not ifname:
        return _f(c, check, Status.SKIP, "no interface")
    own = inputs.host.cached_sysctl("net/ipv4/conf", ifname, "rp_filter")
    every = inputs.host.cached_sysctl("net/ipv4/conf/all/rp_filter")
    if own is None or not own.isdigit() or not (every or "0").isdigit():
        return _f(c, check, Status.SKIP, f"net.ipv4.conf.{ifname}.rp_filter unreadable")
    effective = max(int(own), int(every or 0))
    detail = f"{ifname}={own}, all={every}: effective {effective} (the kernel uses the maximum)"
    if effective == 1:
        return _f(
            c,
            check,
            Status.WARN,
            detail + " strict",
            f"consider net.ipv4.conf.{ifname}.rp_filter=2 and net.ipv4.conf.all.rp_filter<=2 "
            "(loose): strict reverse-path filtering drops asymmetric SAM traffic",
        )
    return _f(c, check, Status.PASS, detail)


def local_os_address(inputs: Inputs, c: ClaimIntent) -> Finding:
    check = "local OS address"
    where = kernel_tables.addresses_of(inputs, c.ip)
    if where is None:
        why = kernel_tables.dump(inputs, *kernel_tables.ADDRESSES).describe()
        return _f(c, check, Status.WARN, why)
    if not where:
        return _f(c, check, Status.PASS, f"{c.ip} absent from local interfaces")
    return _f(
        c,
        check,
        Status.WARN,
        f"{c.ip} is assigned locally ({', '.join(where)}): the kernel consumes it instead of "
        "forwarding",
        "routerd enforces OS-absence and removes this address during reconcile when present; "
        "if it keeps reappearing, disable the guest cloud-init/netplan config for that IP",
    )


def claim_findings(inputs: Inputs, c: ClaimIntent) -> list[Finding]:
    """Every live finding for one claim, in the reference's order plus the new checks."""
    steps: list[ClaimCheck] = [
        ip_forward,
        delivery_route,
        route_get,
        mss.check,
        host_firewall.check,
    ]
    if c.capture_type == "proxy-arp":
        steps += [
            capture_interface,
            capture_route.forwarding,
            capture_route.proxy_arp,
            capture_route.check,
            lambda i, cl: rp_filter(i, cl, cl.capture_interface),
            forward_policy.check,
        ]
    steps += [tunnel_link, lambda i, cl: rp_filter(i, cl, cl.tunnel)]
    if c.capture_type == "provider-secondary-ip":
        steps += [local_os_address, forward_policy.check, provider.check]
    steps += [wireguard.coverage, responder.check]
    out = []
    for step in steps:
        f = step(inputs, c)
        if f is not None:
            out.append(f)
    return out


def hybrid_route_installed(inputs: Inputs, name: str, cidr: str, device: str) -> Finding:
    """``HybridRoute/<n> route <cidr>``: the destination is routed via the peer's tunnel."""
    check = f"HybridRoute/{name} route {cidr}"
    routes = kernel_tables.routes_to(inputs, cidr)
    if not routes:
        return Finding(
            AREA, check, Status.WARN, f"no route for {cidr}", "wait for the route install"
        )
    devs = ", ".join(str(r.get("dev", "?")) for r in routes)
    if device and all(r.get("dev") != device for r in routes):
        return Finding(AREA, check, Status.WARN, f"{cidr} dev {devs}; expected dev {device}")
    return Finding(AREA, check, Status.PASS, f"{cidr} dev {devs}")
