"""Public keys of a config's WireGuard key files, for commands that only read them.

``routerd plan`` and ``routerctl doctor --local`` lower a config without a running daemon;
the lowering needs each interface's public key. A key file that does not exist (yet) is
left out rather than created: read-only commands never write keys.
"""

from __future__ import annotations

from routerd.core.config import RouterConfig
from routerd.core.lowering import key_file
from routerd.core.resources import WireGuardInterface
from routerd.core.wgkey import public_key
from routerd.keys import read_private_key


def existing_public_keys(
    config: RouterConfig, key_dir: str, *, in_key_dir: bool = False
) -> dict[str, str]:
    """Public keys of the key files that exist.

    Args:
        config: the (effective) config whose WireGuardInterfaces are read.
        key_dir: the state directory's key directory.
        in_key_dir: look for every key file in ``key_dir`` (the sim backend's layout).

    Returns:
        Interface name to base64 public key, for the readable key files only.
    """
    out = {}
    for wgi in config.of(WireGuardInterface):
        try:
            out[wgi.name] = public_key(
                read_private_key(key_file(wgi, key_dir, in_key_dir=in_key_dir))
            )
        except (OSError, ValueError):
            continue
    return out
