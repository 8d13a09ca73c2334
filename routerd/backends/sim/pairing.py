"""Pair a cloud and an on-prem config for the lab: key files and each other's public keys.

The example configs (``examples/<provider>/{cloud,onprem}.yaml``) carry placeholder peer
keys and a system key path, because a real operator copies the peer's key from
``routerctl describe``. The lab and the demo do that step here: each side gets a fresh key
file under ``key_dir`` and every WireGuardPeer gets the other side's public key for the
device of the same name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from routerd.keys import ensure_private_key


def pair_configs(cloud_yaml: str, onprem_yaml: str, key_dir: Path) -> tuple[str, str]:
    """Return both configs rewired to talk to each other.

    Args:
        cloud_yaml / onprem_yaml: Router documents as text.
        key_dir: where to create ``cloud-<if>.key`` and ``onprem-<if>.key`` (0600; existing
            keys are reused, never overwritten).

    Returns:
        ``(cloud_yaml, onprem_yaml)`` with ``privateKeyFile`` and peer ``publicKey`` set.
    """
    docs = {"cloud": yaml.safe_load(cloud_yaml), "onprem": yaml.safe_load(onprem_yaml)}
    keys = {side: _set_key_files(doc, key_dir, side) for side, doc in docs.items()}
    _set_peer_keys(docs["cloud"], keys["onprem"])
    _set_peer_keys(docs["onprem"], keys["cloud"])
    return (
        yaml.safe_dump(docs["cloud"], sort_keys=False),
        yaml.safe_dump(docs["onprem"], sort_keys=False),
    )


def _resources(doc: Any, kind: str) -> list[dict[str, Any]]:
    return [r for r in doc["spec"]["resources"] if r.get("kind") == kind]


def _set_key_files(doc: Any, key_dir: Path, side: str) -> dict[str, str]:
    public: dict[str, str] = {}
    for wg in _resources(doc, "WireGuardInterface"):
        name = wg["metadata"]["name"]
        path = key_dir / f"{side}-{name}.key"
        wg.setdefault("spec", {})["privateKeyFile"] = str(path)
        public[name], _ = ensure_private_key(path)
    return public


def _set_peer_keys(doc: Any, other: dict[str, str]) -> None:
    for peer in _resources(doc, "WireGuardPeer"):
        key = other.get(peer["spec"].get("interface", ""))
        if key:
            peer["spec"]["publicKey"] = key
