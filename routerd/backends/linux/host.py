"""The handles and bookkeeping one Linux backend shares between observing and applying.

``Host`` is deliberately a plain bag: the command netlink socket, the link table, the
sysctl keeper, the nft table, the WireGuard devices, plus what observation learned that
apply needs (duplicate routes to clean up). Ownership of proxy entries (which routerd no
longer makes, but removes where an earlier version left them) is their protocol number;
on kernels that cannot label them it falls back to records in the state store (kind
``pneigh``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routerd.backends.linux.links import LinkTable
from routerd.backends.linux.neighbours import ProxyEntry
from routerd.backends.linux.netlink_socket import NetlinkSocket
from routerd.backends.linux.nftables import MssTable
from routerd.backends.linux.routes import ROUTERD_PROTO
from routerd.backends.linux.sysctl import SysctlKeeper
from routerd.backends.linux.wgdevice import WireGuardDevices
from routerd.core.desired import Key, Route
from routerd.state.store import Store

PNEIGH_KIND = "pneigh"


@dataclass
class Host:
    store: Store
    sock: NetlinkSocket
    links: LinkTable
    sysctls: SysctlKeeper
    nft: MssTable
    wg: WireGuardDevices
    pneigh_labels: bool = True
    route_duplicates: dict[Key, list[Route]] = field(default_factory=dict)
    wanted_memo: tuple[object, object] | None = None
    """The last desired mapping observed and what it says to read (``observer._wanted``)."""

    def pneigh_records(self) -> set[tuple[str, str]]:
        if self.pneigh_labels:
            return set()
        return {tuple(k.split(" ", 1)) for k in self.store.owned(PNEIGH_KIND)}  # type: ignore[misc]

    def pneigh_is_ours(self, entry: ProxyEntry, dev: str, records: set[tuple[str, str]]) -> bool:
        if entry.protocol:
            return entry.protocol == ROUTERD_PROTO
        return (entry.address, dev) in records

    def pneigh_added(self, address: str, dev: str) -> None:
        if not self.pneigh_labels:
            self.store.set_owned(PNEIGH_KIND, f"{address} {dev}", "")

    def pneigh_removed(self, address: str, dev: str) -> None:
        if not self.pneigh_labels:
            self.store.drop_owned(PNEIGH_KIND, f"{address} {dev}")
