"""Re-announce proxy-ARP captures when their interface's MAC address changes.

A Linux bridge without a fixed address takes the lowest MAC among its ports and changes it
silently whenever a port joins or leaves (a VM started or stopped on a hypervisor bridge).
Proxy-ARP answers carry the interface's MAC, so every host that cached the router's old MAC
for a captured address keeps sending to it; once that MAC belongs to nobody on the bridge
the frames vanish until the host re-probes (about 15 s with Linux defaults). The kernel
reports the change as an ``RTM_NEWLINK`` with a new ``IFLA_ADDRESS`` and announces nothing
for proxied addresses.

``MacWatch`` follows every link's address through the notifications the event thread
already reads; the backend announces every address it captures on a link whose address
changed (``garp.send_many``) straight from the notification, milliseconds after the change,
not after the engine's debounce and pass. A change missed while events were lost (a
receive-buffer overrun) is not announced: the doctor's bridge check says how to pin the MAC,
which removes the problem at its root.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.links import LinkInfo


class MacWatch:
    """The last known link-layer address of every link, by interface index."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._macs: dict[int, str] = {}

    def seed(self, links: Iterable[LinkInfo]) -> None:
        """Start from a link dump (taken after subscribing to link notifications)."""
        with self._lock:
            for info in links:
                self._macs.setdefault(info.index, info.mac.lower())

    def feed(self, msg: nl.Message) -> tuple[str, str, str] | None:
        """One rtnetlink notification; ``(ifname, old MAC, new MAC)`` when an address changed."""
        if msg.type not in (nl.RTM_NEWLINK, nl.RTM_DELLINK):
            return None
        _, _, index, _, _ = nl.IFINFOMSG.unpack_from(msg.body, 0)
        with self._lock:
            if msg.type == nl.RTM_DELLINK:
                self._macs.pop(index, None)
                return None
            attrs = nl.parse_attrs(msg.body, nl.IFINFOMSG.size)
            raw, name = attrs.get(nl.IFLA_ADDRESS), attrs.get(nl.IFLA_IFNAME)
            if raw is None or len(raw) != 6:
                return None
            mac = raw.hex(":")
            old = self._macs.get(index)
            self._macs[index] = mac
        if old is None or old == mac or name is None:
            return None
        return nl.cstr(name), old, mac
