"""Start every once-per-run host read of ``doctor hybrid`` side by side, before the claims.

After the per-claim probes became table dumps, batches and sweeps (``kernel_tables``,
``route_lookup``, ``arp``), a claim check is dictionary look-ups, and the run's wall time is
the slowest of a dozen reads: the ARP sweeps (~1.5 s each), ``--probe``'s DF pings, a cloud
metadata read. Those are I/O waits, so they run here in parallel threads; every read lands in
``Host.once`` and the checks find it there. This is the one place the hybrid area still
needs the worker pool; the per-claim checks themselves are CPU work that threads cannot
speed up.

A read that raises is left in its ``once`` slot: the checks that need it report the
exception as their finding (``run_checks``), exactly as if they had called it first.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Callable
from functools import partial

from routerd.core.resources import OverlayPeer
from routerd.doctor import (
    capture_route,
    firewall_sources,
    forward_policy,
    kernel_tables,
    mss,
    mtu_probe,
    provider,
    responder,
    route_lookup,
    wireguard,
)
from routerd.doctor.inputs import Inputs

WORKERS = 8


def reads(inputs: Inputs) -> list[Callable[[], object]]:
    """Every read the hybrid area's live checks will make, as callables."""
    # the sweeps first: at ~1.5 s each they are the longest reads and set the run's pace
    todo: list[Callable[[], object]] = [
        partial(responder.sweep_of, inputs, i) for i in responder.capture_interfaces(inputs)
    ]
    todo += [
        lambda: kernel_tables.routes_to(inputs, "default"),
        lambda: kernel_tables.proxy_entries(inputs),
        lambda: kernel_tables.addresses_of(inputs, ""),
        lambda: kernel_tables.link(inputs, "lo"),
        lambda: route_lookup.lookups(inputs),
        lambda: capture_route.lookups(inputs),
        lambda: firewall_sources.gather(inputs),
        lambda: mss.installed_clamps(inputs),
        lambda: forward_policy.forward_chains(inputs),
    ]
    tunnels = {c.tunnel for c in inputs.intents.values() if c.tunnel}
    todo += [partial(wireguard.allowed_index, inputs, t) for t in sorted(tunnels)]
    for peer in inputs.config.of(OverlayPeer):
        if peer.spec.underlay.type == "wireguard" and peer.spec.underlay.interface:
            tunnel = peer.spec.underlay.interface
            todo.append(partial(wireguard.show, inputs, tunnel, "latest-handshakes"))
    todo += [partial(provider.metadata, inputs, p) for p in provider.in_use(inputs)]
    if inputs.ctx.probe:
        todo += [partial(mtu_probe.measure, inputs, *path) for path in mtu_probe.paths(inputs)]
    return todo


def warm(inputs: Inputs) -> None:
    """Run every read once, in parallel; failures stay in ``once`` for the checks to report."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for fut in [pool.submit(read) for read in reads(inputs)]:
            with contextlib.suppress(Exception):
                fut.result()
