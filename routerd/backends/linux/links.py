"""Network links through pyroute2: the name/index table, state, MTU, create and delete.

A router has a handful of links, so pyroute2's per-message cost (~0.5 ms, "Netlink" in
docs/background.md) does not matter here and its link API is the convenient choice. The bulk
paths that need interface indexes (routes, proxy neighbours, addresses) read them from the
snapshot this module keeps, refreshed once per observe/apply instead of once per object.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from routerd.core.errors import DataplaneError

LOG = logging.getLogger(__name__)

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
MACVLAN_MODE = ("IFLA_LINKINFO", "IFLA_INFO_DATA", "IFLA_MACVLAN_MODE")


@dataclass(frozen=True, slots=True)
class LinkInfo:
    index: int
    name: str
    up: bool
    mtu: int
    kind: str
    mac: str
    flags: int = 0
    parent: int = 0
    """``IFLA_LINK``: the lower device of a macvlan (a veth's peer; 0 when none)."""
    alias: str = ""
    mode: str = ""
    """A macvlan's mode (``bridge``, ``private`` ...); "" for other kinds."""


class LinkTable:
    """A snapshot of the links in this network namespace plus the operations on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ipr: Any = None
        self.by_name: dict[str, LinkInfo] = {}
        self.by_index: dict[int, LinkInfo] = {}

    def _api(self) -> Any:
        if self._ipr is None:
            self._ipr = IPRoute()
        return self._ipr

    def close(self) -> None:
        with self._lock:
            if self._ipr is not None:
                self._ipr.close()
                self._ipr = None

    def refresh(self) -> None:
        with self._lock:
            msgs = self._api().get_links()
        by_name: dict[str, LinkInfo] = {}
        for m in msgs:
            info = LinkInfo(
                index=int(m["index"]),
                name=str(m.get("ifname")),
                up=bool(m["flags"] & IFF_UP),
                mtu=int(m.get("mtu") or 0),
                kind=str(m.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") or ""),
                mac=str(m.get("address") or ""),
                flags=int(m["flags"]),
                parent=int(m.get("IFLA_LINK") or 0),
                alias=str(m.get("IFLA_IFALIAS") or ""),
                mode=str(m.get_nested(*MACVLAN_MODE) or ""),
            )
            by_name[info.name] = info
        self.by_name = by_name
        self.by_index = {i.index: i for i in by_name.values()}

    def name(self, index: int) -> str:
        info = self.by_index.get(index)
        return info.name if info is not None else f"if{index}"

    def index(self, name: str) -> int | None:
        info = self.by_name.get(name)
        return info.index if info is not None else None

    def set_state(self, name: str, *, up: bool = True, mtu: int = 0) -> None:
        """Bring a link up and set its MTU (0 leaves the MTU alone); no-op when already so.

        Raises:
            DataplaneError: the link is missing or the kernel refused.
        """
        self.refresh()
        info = self.by_name.get(name)
        if info is None:
            raise DataplaneError(f"link set {name}", "no such interface", errno=19)
        args: dict[str, Any] = {}
        if mtu and info.mtu != mtu:
            args["mtu"] = mtu
        if up and not info.up:
            args["state"] = "up"
        if args:
            self._call("set", f"link set {name}", index=info.index, **args)

    def create(self, name: str, kind: str) -> None:
        self._call("add", f"link add {name} type {kind}", ifname=name, kind=kind)

    def delete(self, name: str) -> None:
        index = self.index(name)
        if index is not None:
            self._call("del", f"link del {name}", index=index)

    def _call(self, command: str, op: str, **kwargs: Any) -> None:
        try:
            with self._lock:
                self._api().link(command, **kwargs)
        except NetlinkError as exc:
            raise DataplaneError(op, str(exc), errno=exc.code) from exc
