"""The half of the ``capture`` item that runs *inside* the router namespace (a NetnsWorker).

Three ways to make the kernel answer ARP for N captured addresses on the capture interface,
each with the ``/32`` delivery route every capture needs anyway:

* ``entries``: the Linux backend given one proxy entry per address besides the route
  (routerd's earlier mechanism, kept as the comparison; the backend still applies proxy
  entries, it is lowering that no longer asks for them);
* ``route``: the Linux backend with what lowering asks for today: no per-address entry,
  ``proxy_arp=1``, ``forwarding=1`` and ``proxy_delay=0`` on the capture interface
  (``routerd.core.capture``), and the route makes the kernel answer;
* ``nft``: no backend mode exists for it; routes go out through the backend's own netlink
  encoding and socket, and a netdev-ingress nftables responder answers ARP requests for the
  addresses in a hash set (``proxy_arp`` stays 0), through one persistent libnftables context.

The desired state is the shape lowering produces for a proxy-ARP claim (``/32`` route to the
tunnel, ``ip_forward``, the capture interface's sysctls and a loose ``rp_filter`` on the
tunnel; the ``entries`` mode adds the proxy entries), built directly: lowering 100,000
claims is the engine's cost, measured by the kernel item.
"""

from __future__ import annotations

import gc
import socket
import time
from pathlib import Path
from typing import Any

from bench.claims import claim_address
from bench.kernel_worker import GcClock
from routerd.backends.linux import routes
from routerd.backends.linux.backend import LinuxBackend
from routerd.backends.linux.netlink_socket import NetlinkSocket
from routerd.core.capture import capture_sysctls
from routerd.core.desired import (
    DELIVERY_METRIC,
    DesiredBuilder,
    DesiredState,
    ObserveScope,
    ProxyNeighbour,
    Route,
    Sysctl,
)
from routerd.core.plan import diff
from routerd.state.store import Store
from tests.support.netns import STATE

NFT_TABLE = "routerd_capture"


def address(i: int) -> str:
    """The i-th captured address, i >= 1 (10.16.0.1 upwards: never the subnet's first)."""
    return claim_address(i)


def desired(cap: str, tun: str, indices: range | list[int], mode: str) -> DesiredState:
    """The lowered form of proxy-ARP claims ``indices`` on ``cap`` delivered to ``tun``."""
    out = DesiredBuilder(generation=1)
    out.add(Sysctl("net.ipv4.ip_forward", "1"), "bench")
    if mode == "nft":
        out.add(Sysctl(f"net.ipv4.conf.{cap}.proxy_arp", "0"), "bench")
    else:
        for s in capture_sysctls(cap):
            out.add(s, "bench")
    out.add(Sysctl(f"net.ipv4.conf.{tun}.rp_filter", "2", frozenset({"0", "2"})), "bench")
    for i in indices:
        a = address(i)
        if mode == "entries":
            out.add(ProxyNeighbour(a, cap), "bench")
        out.add(Route(f"{a}/32", tun, DELIVERY_METRIC), "bench")
    return out.build()


def _scope(want: DesiredState, cap: str, tun: str) -> ObserveScope:
    sysctls = {k[1] for k in want.objects if k[0] == "sysctl"}
    return ObserveScope(sysctls=sysctls, links={cap, tun}, desired=want)


# -- entries and route: the Linux backend ---------------------------------------------------------


def open_backend(mode: str, n: int, cap: str, tun: str, state_dir: str) -> None:
    """Build the backend (no event thread: every observe is a full read) and the states."""
    store = Store.open(state_dir)
    backend = LinuxBackend(store, state_dir=Path(state_dir), wireguard_go=None)
    STATE.update(backend=backend, store=store, cap=cap, tun=tun, gc=GcClock())
    STATE["states"] = {
        "cold": desired(cap, tun, range(1, n + 1), mode),
        "add": desired(cap, tun, range(1, n + 2), mode),
        "remove": desired(cap, tun, range(2, n + 2), mode),
    }


def backend_pass(which: str) -> dict[str, Any]:
    """Observe, diff and apply one prepared state; each step timed, failures counted.

    ``apply_gc`` is the part of the apply spent in Python's cyclic garbage collector. The
    process holds three N-claim states, so one full collection takes tens of milliseconds
    at 100,000; a collection runs before the pass (untimed) so that one falling into a
    one-claim apply by chance does not stand in for the capture mechanism's cost.
    """
    backend: LinuxBackend = STATE["backend"]
    want = STATE["states"][which]
    scope = _scope(want, STATE["cap"], STATE["tun"])
    gc.collect()
    t0 = time.perf_counter()
    observed = backend.observe(scope)
    t1 = time.perf_counter()
    changes = diff(want, observed)
    gc_mark = STATE["gc"].seconds
    t2 = time.perf_counter()
    results = backend.apply(changes)
    t3 = time.perf_counter()
    failed = [r.error for r in results if not r.ok]
    return {
        "seconds": t3 - t0,
        "observe": t1 - t0,
        "diff": t2 - t1,
        "apply": t3 - t2,
        "apply_gc": STATE["gc"].since(gc_mark),
        "changes": len(changes),
        "failed": len(failed),
        "first_failure": failed[0] if failed else "",
    }


def poll() -> float:
    """One proxy-entry drift poll, as the backend's background tick runs it."""
    backend: LinuxBackend = STATE["backend"]
    t0 = time.perf_counter()
    backend.cache.poll_proxies()
    return time.perf_counter() - t0


def close_backend() -> None:
    STATE["backend"].close(cleanup=False)
    STATE["store"].close()


# -- nft: routes through the backend's netlink encoding, a netdev ARP responder -------------------


def nft_ruleset(cap: str, mac: str, addresses: list[str]) -> str:
    """An ARP responder on ``cap``'s ingress for ``addresses``: the request turned into a reply.

    The reply is the request rewritten in place and sent back out of ``cap``: operation 2,
    sender and target swapped (the asker's address parked in the target hardware field
    while the addresses move), the router's MAC as sender. Requests from 0.0.0.0 (address
    conflict probes) are left alone, as the kernel does for proxied addresses.
    """
    elements = f"elements = {{ {', '.join(addresses)} }}" if addresses else ""
    return f"""table netdev {NFT_TABLE} {{
  set claims {{ type ipv4_addr; {elements} }}
  chain ingress {{
    type filter hook ingress device "{cap}" priority 0; policy accept;
    arp htype 1 arp ptype 0x0800 arp operation request arp saddr ip != 0.0.0.0 \\
      arp daddr ip @claims jump reply
  }}
  chain reply {{
    @nh,144,32 set @nh,112,32
    @nh,112,32 set @nh,192,32
    @nh,192,32 set @nh,144,32
    arp daddr ether set arp saddr ether
    arp saddr ether set {mac}
    ether daddr set ether saddr
    ether saddr set {mac}
    arp operation set reply
    fwd to "{cap}"
  }}
}}
"""


def _nft(text: str) -> None:
    rc, _, err = STATE["nft"].cmd(text)
    if rc != 0:
        raise RuntimeError(f"nft: {err.strip()}")


def _routes(indices: list[int], op: str) -> int:
    """Add or delete the delivery routes of ``indices`` in one batch; failures counted."""
    tun = STATE["tun"]
    ifindex = socket.if_nametoindex(tun)
    reqs = []
    for i in indices:
        r = Route(f"{address(i)}/32", tun, DELIVERY_METRIC)
        reqs.append(routes.encode_add(r, ifindex) if op == "add" else routes.encode_delete(r))
    sock: NetlinkSocket = STATE["sock"]
    with sock.lock:
        replies = sock.transact(reqs)
    return sum(1 for r in replies if r.errno)


def nft_open(cap: str, tun: str, mac: str) -> None:
    import nftables

    STATE.update(cap=cap, tun=tun, mac=mac, sock=NetlinkSocket(), nft=nftables.Nftables())
    for name, value in (("ip_forward", "1"), (f"conf.{tun}.rp_filter", "2")):
        Path("/proc/sys/net/ipv4", *name.split(".")).write_text(value + "\n")


def nft_cold(n: int) -> dict[str, Any]:
    """N routes plus the responder with N addresses (one nft transaction)."""
    t0 = time.perf_counter()
    failed = _routes(list(range(1, n + 1)), "add")
    t1 = time.perf_counter()
    _nft(nft_ruleset(STATE["cap"], STATE["mac"], [address(i) for i in range(1, n + 1)]))
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "apply": t2 - t0, "routes": t1 - t0, "nft": t2 - t1,
            "failed": failed, "changes": 2 * n}  # fmt: skip


def nft_one(i: int, op: str) -> dict[str, Any]:
    """One claim's route and set element added (``add``) or removed (``remove``)."""
    verb = "add" if op == "add" else "delete"
    t0 = time.perf_counter()
    failed = _routes([i], "add" if op == "add" else "delete")
    _nft(f"{verb} element netdev {NFT_TABLE} claims {{ {address(i)} }}")
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "apply": seconds, "failed": failed, "changes": 2}


def nft_close() -> None:
    STATE["sock"].close()
