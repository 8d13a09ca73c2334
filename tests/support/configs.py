"""Load the shipped example configs for tests, with key files redirected into a temp dir.

Examples name /etc/routerd/keys/...; a test must never create files there, so the text is
rewritten before loading. ``pair`` returns both routers' configs with each side's peer
``publicKey`` set to the other side's real public key, so a WireGuard handshake can happen.
"""

from __future__ import annotations

import re
from pathlib import Path

from routerd.core.config import RouterConfig
from routerd.core.loader import load_text
from routerd.keys import ensure_private_key

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PLACEHOLDER_KEY = re.compile(r"publicKey: \S+")


def example_text(provider: str, side: str) -> str:
    return (EXAMPLES / provider / f"{side}.yaml").read_text()


def load(text: str) -> RouterConfig:
    result = load_text(text)
    assert result.config is not None, [e.render() for e in result.errors]
    return result.config


def with_keys(text: str, key_dir: Path, *, peer_public_key: str | None = None) -> str:
    text = text.replace("/etc/routerd/keys", str(key_dir))
    if peer_public_key is not None:
        text = PLACEHOLDER_KEY.sub(f"publicKey: {peer_public_key}", text)
    return text


def pair(provider: str, tmp: Path) -> tuple[RouterConfig, RouterConfig]:
    """(cloud, onprem) configs of one example pair with matching real keys."""
    cloud_dir, onprem_dir = tmp / "cloud-keys", tmp / "onprem-keys"
    cloud_pub, _ = ensure_private_key(cloud_dir / "wg-sam.key")
    onprem_pub, _ = ensure_private_key(onprem_dir / "wg-sam.key")
    cloud = with_keys(example_text(provider, "cloud"), cloud_dir, peer_public_key=onprem_pub)
    onprem = with_keys(example_text(provider, "onprem"), onprem_dir, peer_public_key=cloud_pub)
    return load(cloud), load(onprem)


def single(provider: str, side: str, tmp: Path) -> RouterConfig:
    """One example config with its key in ``tmp`` (peer key left as the placeholder)."""
    return load(with_keys(example_text(provider, side), tmp))


def without_gateway(text: str) -> str:
    """A mobility example (``examples/mobility/site-*.yaml``) without its ``gateway:`` block:
    derived claims then capture on the capture interface itself, as on a site without an
    anycast gateway (the simulator keeps no ARP caches, so the gateway changes nothing there).
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("gateway:"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and len(lines[end]) - len(lines[end].lstrip()) > indent:
        end += 1
    return "\n".join(lines[:start] + lines[end:]) + "\n"
