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


def render_pair(provider: str, key_dir: Path, tunnels: dict[str, str]) -> dict[str, str]:
    """``{"cloud": yaml, "onprem": yaml}`` for this run (keys created under ``key_dir``)."""
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cloud, onprem = pair_configs(
        example_text(provider, "cloud"), example_text(provider, "onprem"), key_dir
    )
    out = {}
    for side, text in zip(SIDES, (cloud, onprem), strict=True):
        doc = rename(yaml.safe_load(text), EXAMPLE_TUNNEL, tunnels[side])
        out[side] = yaml.safe_dump(doc, sort_keys=False)
    return out
