"""Which router each WireGuard peer stands for, and the keys that make the pair talk.

A router config names its WireGuard peer by public key, which nobody knows before the
simulated routers have generated their keys. So the world pairs them: it decides which
router (and which of its WireGuard interfaces) each ``WireGuardPeer`` stands for, creates
each router's key in that router's key directory, and writes the other side's public key
into every peer — what an operator does by copying keys from ``routerctl describe``.

A peer's router is, in order: the one ``routers[].peers`` names; the one whose uplink holds
the peer's ``endpoint`` address; in a world of two routers, the other one; the only router
whose own peers point at this one. Anything else is ambiguous and an error that says what to
add. The interface on that router is the one listening on the endpoint's port, else the one
of the same name, else its only WireGuard interface.

``peers: {PEER: reflector}`` says a peer is the tunnel to the BGP route reflector (address
mobility): the world's reflector needs no tunnel, so that peer is left as written.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.lowering import default_key_file
from routerd.core.resources import WireGuardInterface, WireGuardPeer
from routerd.keys import ensure_private_key

from ..bgp.reflector import REFLECTOR
from .findings import Findings
from .spec import RouterSpec, WorldSpec

Pairs = dict[tuple[str, str], tuple[str, str]]


def _uplink_owner(spec: WorldSpec, address: str) -> str | None:
    for r in spec.spec.routers:
        if r.uplink is not None and r.uplink.address.split("/")[0] == address:
            return r.name
    return None


def _first_pass(spec: WorldSpec, configs: dict[str, RouterConfig]) -> dict[tuple[str, str], str]:
    """Peers resolved by name, endpoint or a two-router world."""
    names = [r.name for r in spec.spec.routers]
    out: dict[tuple[str, str], str] = {}
    for router in spec.spec.routers:
        cfg = configs.get(router.name)
        for peer in cfg.of(WireGuardPeer) if cfg else ():
            target = router.peers.get(peer.name)
            if target is None and peer.spec.endpoint:
                target = _uplink_owner(spec, peer.spec.endpoint.rpartition(":")[0].strip("[]"))
            if target is None and len(names) == 2:
                target = next(n for n in names if n != router.name)
            if target is not None:
                out[(router.name, peer.name)] = target
    return out


def _reverse(router: str, resolved: dict[tuple[str, str], str]) -> str | None:
    """The only router with a peer pointing at ``router`` that ``router`` does not pair yet."""
    mine = {t for (r, _), t in resolved.items() if r == router}
    pointing = {r for (r, _), t in resolved.items() if t == router and r not in mine}
    return next(iter(pointing)) if len(pointing) == 1 else None


def _interface(cfg: RouterConfig, peer: WireGuardPeer) -> str | None:
    wgs = list(cfg.of(WireGuardInterface))
    port = peer.spec.endpoint.rpartition(":")[2] if peer.spec.endpoint else ""
    for wg in wgs:
        if port and str(wg.spec.listen_port) == port:
            return wg.name
    same = next((wg.name for wg in wgs if wg.name == peer.spec.interface), None)
    return same or (wgs[0].name if len(wgs) == 1 else None)


def resolve_peers(spec: WorldSpec, configs: dict[str, RouterConfig], found: Findings) -> Pairs:
    """(router, peer name) -> (router, WireGuard interface) for every peer; errors recorded."""
    resolved = _first_pass(spec, configs)
    pairs: Pairs = {}
    for i, router in enumerate(spec.spec.routers):
        cfg = configs.get(router.name)
        for peer in cfg.of(WireGuardPeer) if cfg else ():
            at = (*found.item("routers", i), "peers")
            target = resolved.get((router.name, peer.name)) or _reverse(router.name, resolved)
            if target == REFLECTOR:
                continue
            if target is not None:
                resolved[(router.name, peer.name)] = target
            problem = _problem(spec, router, peer, target)
            if problem:
                found.issue(f"Router/{router.name}", at, problem)
                continue
            if target not in configs:
                continue  # its config is invalid: that error is reported already
            wg = _interface(configs[target], peer)
            if wg is None:
                found.issue(
                    f"Router/{router.name}",
                    at,
                    f"WireGuardPeer/{peer.name}: Router/"
                    f"{target} has no WireGuard interface this peer can be (none listens "
                    "on the endpoint's port, none has the same name, it has not exactly "
                    "one)",
                )
                continue
            pairs[(router.name, peer.name)] = (target, wg)
    return pairs


def _problem(
    spec: WorldSpec,
    router: RouterSpec,
    peer: WireGuardPeer,
    target: str | None,
) -> str:
    if target is None:
        return (
            f"cannot tell which router WireGuardPeer/{peer.name} stands for; add "
            f"'{peer.name}: ROUTER' under peers ('{peer.name}: {REFLECTOR}' when it is the "
            "tunnel to the BGP route reflector)"
        )
    if spec.router(target) is None:
        known = ", ".join(r.name for r in spec.spec.routers)
        return f"{peer.name}: no router {target!r} (routers: {known})"
    if target == router.name:
        return f"{peer.name}: a router cannot be its own WireGuard peer"
    return ""


def paired_document(
    router: str, doc: Any, pairs: Pairs, key_dirs: dict[str, Path]
) -> tuple[Any, dict[str, str]]:
    """``doc`` with every peer's ``publicKey`` set to its router's key (keys created 0600).

    Args:
        router: whose document this is.
        doc: the Router document (left unchanged; a changed copy is returned).
        pairs: from ``resolve_peers``.
        key_dirs: router name -> its key directory.

    Returns:
        The paired document and this router's public keys by WireGuard interface name.
    """
    out = copy.deepcopy(doc)
    resources = out.get("spec", {}).get("resources", []) if isinstance(out, dict) else []
    mine: dict[str, str] = {}
    for res in resources:
        if not isinstance(res, dict):
            continue
        name = (res.get("metadata") or {}).get("name", "")
        if res.get("kind") == "WireGuardInterface":
            mine[name] = public_key(key_dirs[router], name)
        elif res.get("kind") == "WireGuardPeer" and (router, name) in pairs:
            target, wg = pairs[(router, name)]
            if target in key_dirs:
                res.setdefault("spec", {})["publicKey"] = public_key(key_dirs[target], wg)
    return out, mine


def public_key(key_dir: Path, interface: str) -> str:
    """The public key of ``interface``'s key in ``key_dir`` (created when absent)."""
    key, _ = ensure_private_key(default_key_file(str(key_dir), interface))
    return key
