"""Names of the anycast-gateway device of a mobile domain (pure).

Every on-prem site of a mobility domain answers for the domain's gateway address with the
same IP and MAC, and captures the addresses homed elsewhere on that same device, so a VM
that moves between sites finds both its gateway and every proxied neighbour at the MAC it
already cached (EVPN's distributed anycast gateway, RFC 9135). The device is a child of the
capture interface that routerd owns; its name is derived from the domain so every component
(lowering, the backends, the doctor) agrees on it without a lookup.
"""

from __future__ import annotations

import hashlib

PREFIX = "rdgw-"
"""Every anycast-gateway device routerd creates starts with this (ownership by name)."""


def gateway_ifname(domain: str) -> str:
    """The gateway device of ``domain``: ``rdgw-`` and 8 hex digits (13 characters, within
    the kernel's 15-character limit; stable across restarts and routers)."""
    return PREFIX + hashlib.sha256(domain.encode()).hexdigest()[:8]
