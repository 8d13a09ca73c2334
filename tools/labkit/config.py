"""The two routers' configs for one run: the shipped example pair, rewired for this run.

The lab runs exactly ``examples/<provider>/{cloud,onprem}.yaml`` with two changes an
operator would also make:

* keys: each side gets a fresh key file and the other side's public key
  (``routerd.backends.sim.pairing.pair_configs``, the step an operator does by copying the
  key from ``routerctl describe``);
* the tunnel name: wireguard-go's UAPI socket ``/var/run/wireguard/<ifname>.sock`` lives
  on the filesystem every namespace shares, so two routers (or two runs) each with a
  ``wg-sam`` would collide. Each side's tunnel becomes ``wg<run><c|o>`` (<= 15 chars):
  every string value equal to the old name is replaced (the WireGuardInterface itself, the
  peer's and the overlay address's ``interface``, ``underlay.interface``,
  ``delivery.tunnelInterface``), so the key file path, which merely contains it, is kept.

Pairing happens before renaming because ``pair_configs`` matches the two sides' devices by
name.

Variants (``VARIANTS``) change the pair the way some operators write it, to prove routerd
copes: ``descriptive-overlay`` drops the ``IPv4StaticAddress`` that puts each side's
``OverlayPeer`` address on its tunnel, leaving the addresses only descriptive (as the examples of
the Go implementation routerd succeeds are written). Traffic needs no overlay address;
``verified`` must not need one either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from routerd.backends.sim.pairing import pair_configs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_TUNNEL = "wg-sam"
SIDES = ("cloud", "onprem")
VARIANTS = ("", "descriptive-overlay")


def tunnel_names(run_id: str) -> dict[str, str]:
    """Per-side WireGuard interface names, unique across namespaces and runs."""
    names = {side: f"wg{run_id}{side[0]}" for side in SIDES}
    for name in names.values():
        if len(name) > 15:
            raise ValueError(f"tunnel name {name!r} is longer than 15 characters")
    return names


def example_text(provider: str, side: str) -> str:
    return (EXAMPLES / provider / f"{side}.yaml").read_text()


def rename(value: Any, old: str, new: str) -> Any:
    """``value`` with every string equal to ``old`` replaced by ``new`` (recursively)."""
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [rename(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: rename(v, old, new) for k, v in value.items()}
    return value


def without_overlay_addresses(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without the IPv4StaticAddress that assigns an OverlayPeer's own address."""
    resources = doc["spec"]["resources"]
    own = {
        (r["spec"]["underlay"].get("interface", ""), r["spec"]["underlay"].get("address", ""))
        for r in resources
        if r["kind"] == "OverlayPeer"
    }

    def assigns_overlay(r: dict[str, Any]) -> bool:
        if r["kind"] != "IPv4StaticAddress":
            return False
        return (r["spec"]["interface"], r["spec"]["address"].split("/")[0]) in own

    kept = [r for r in resources if not assigns_overlay(r)]
    if len(kept) == len(resources):
        raise ValueError("the config assigns no OverlayPeer address: nothing to make descriptive")
    return {**doc, "spec": {**doc["spec"], "resources": kept}}


def descriptive_overlay(text: str) -> str:
    """A config text with its overlay addresses left descriptive (see the module docstring)."""
    return yaml.safe_dump(without_overlay_addresses(yaml.safe_load(text)), sort_keys=False)


def render_pair(
    provider: str, key_dir: Path, tunnels: dict[str, str], *, variant: str = ""
) -> dict[str, str]:
    """``{"cloud": yaml, "onprem": yaml}`` for this run (keys created under ``key_dir``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown lab variant {variant!r}: one of {', '.join(VARIANTS[1:])}")
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cloud, onprem = pair_configs(
        example_text(provider, "cloud"), example_text(provider, "onprem"), key_dir
    )
    out = {}
    for side, text in zip(SIDES, (cloud, onprem), strict=True):
        doc = rename(yaml.safe_load(text), EXAMPLE_TUNNEL, tunnels[side])
        if variant == "descriptive-overlay":
            doc = without_overlay_addresses(doc)
        out[side] = yaml.safe_dump(doc, sort_keys=False)
    return out
