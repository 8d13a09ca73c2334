"""WireGuard interfaces: create (kernel module or wireguard-go), configure, read, remove.

The kernel module is tried first (``ip link add IF type wireguard`` through pyroute2); when
the kernel refuses, routerd falls back to a detached wireguard-go (``wgsupervisor``) and
remembers the answer. A device routerd created is recorded in the state store (kind ``wg``
with its mode) and only such devices are ever removed. An interface that already exists is
configured, never recreated: this is how a restarted routerd adopts the wireguard-go it
started before.

Configuration always starts from a fresh read of the device (a daemon may have been
restarted since the engine's observation), then sends only the difference over UAPI, or a
full ``wg syncconf`` from stdin for the kernel module.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from routerd.backends.linux import wgtool
from routerd.backends.linux.links import LinkTable
from routerd.backends.linux.wgsupervisor import WireGuardGo
from routerd.backends.linux.wguapi import RUN_DIR, UapiClient, socket_path
from routerd.backends.linux.wireguard import (
    DeviceState,
    b64_to_hex,
    parse_uapi_get,
    parse_wg_dump,
    render_wg_config,
    uapi_set_lines,
)
from routerd.core.desired import WireGuardDevice
from routerd.core.errors import DataplaneError
from routerd.keys import ensure_private_key, read_private_key
from routerd.state.store import Store

LOG = logging.getLogger(__name__)

STORE_KIND = "wg"


class WireGuardDevices:
    """The WireGuard interfaces of this namespace, as routerd manages them."""

    def __init__(
        self,
        store: Store,
        links: LinkTable,
        *,
        wireguard_go: str | None,
        state_dir: Path,
        run_dir: Path = RUN_DIR,
    ) -> None:
        self.store = store
        self.links = links
        self.run_dir = run_dir
        self.go = (
            WireGuardGo(
                store, binary=wireguard_go, log_dir=state_dir / "wireguard-go", run_dir=run_dir
            )
            if wireguard_go
            else None
        )
        self._kernel: bool | None = None
        self.wanted: set[str] = set()
        self.last: dict[str, WireGuardDevice] = {}

    def owned(self) -> dict[str, str]:
        """Interface -> mode (``kernel`` or ``userspace``) for devices routerd created."""
        return {k: json.loads(v)["mode"] for k, v in self.store.owned(STORE_KIND).items()}

    def _uapi(self, ifname: str) -> UapiClient | None:
        if not socket_path(ifname, self.run_dir).exists():
            return None
        return UapiClient(ifname, run_dir=self.run_dir)

    def read(self, ifname: str) -> DeviceState | None:
        """The device as it is now; None when absent or not a WireGuard interface."""
        info = self.links.by_name.get(ifname)
        if info is None:
            return None
        client = self._uapi(ifname)
        if client is not None and client.available():
            return parse_uapi_get(ifname, client.get(), mtu=info.mtu)
        if info.kind == "wireguard":
            return parse_wg_dump(ifname, wgtool.show_dump(ifname), mtu=info.mtu)
        return None

    def apply(self, want: WireGuardDevice) -> None:
        """Create the device when missing, configure it, set its MTU and bring it up.

        Raises:
            DataplaneError: the device cannot be created or configured.
        """
        self._ensure(want.ifname)
        self.configure(want)
        self.links.set_state(want.ifname, up=True, mtu=want.mtu)
        self.wanted.add(want.ifname)
        self.last[want.ifname] = want

    def _ensure(self, ifname: str) -> None:
        self.links.refresh()
        info = self.links.by_name.get(ifname)
        if info is not None:
            client = self._uapi(ifname)
            if client is not None and client.available():
                if self.owned().get(ifname) == "userspace" and self.go is not None:
                    self.go.adopt(ifname)
                return
            if info.kind == "wireguard":
                return
            raise DataplaneError(
                f"wireguard {ifname}",
                f"{ifname} exists and is a {info.kind or 'non-WireGuard'} link",
            )
        if self._kernel is not False and self._create_kernel(ifname):
            return
        if self.go is None:
            raise DataplaneError(
                f"wireguard {ifname}", "no WireGuard kernel module and no wireguard-go"
            )
        # Recorded first: a crash right after the start must not leave a daemon nobody owns.
        self._record(ifname, "userspace")
        try:
            self.go.start(ifname)
        except DataplaneError:
            self.store.drop_owned(STORE_KIND, ifname)
            raise
        self.links.refresh()

    def _create_kernel(self, ifname: str) -> bool:
        try:
            self.links.create(ifname, "wireguard")
        except DataplaneError as exc:
            if self.go is None:
                raise
            LOG.info("kernel WireGuard unavailable (%s); using wireguard-go", exc)
            self._kernel = False
            return False
        self._kernel = True
        self._record(ifname, "kernel")
        self.links.refresh()
        return True

    def _record(self, ifname: str, mode: str) -> None:
        self.store.set_owned(STORE_KIND, ifname, json.dumps({"mode": mode}))

    def configure(self, want: WireGuardDevice) -> None:
        """Send the difference between the device's current config and ``want``."""
        state = self.read(want.ifname)
        have = state.device if state is not None else None
        wanted_pub = want.public_key
        if want.private_key_file and (
            not wanted_pub or have is None or have.public_key != wanted_pub
        ):
            wanted_pub, created = ensure_private_key(want.private_key_file)
            if created:
                LOG.info("generated WireGuard key %s for %s", want.private_key_file, want.ifname)
        needs_key = have is None or have.public_key != wanted_pub
        if needs_key and not want.private_key_file:
            raise DataplaneError(
                f"wireguard {want.ifname}", "no private key file configured", retryable=False
            )
        psk = {
            p.public_key: _read_key(p.preshared_key_file)
            for p in want.peers
            if p.preshared_key_file
        }
        client = self._uapi(want.ifname)
        if client is not None:
            private_hex = b64_to_hex(_read_key(want.private_key_file)) if needs_key else ""
            psk_hex = {k: b64_to_hex(v) for k, v in psk.items()}
            client.set(uapi_set_lines(want, have, private_hex=private_hex, psk_hex=psk_hex))
        else:
            config = render_wg_config(want, _read_key(want.private_key_file), psk)
            wgtool.syncconf(want.ifname, config)

    def remove(self, ifname: str) -> None:
        """Stop/delete a device routerd created; a device it did not create is left alone."""
        self.wanted.discard(ifname)
        self.last.pop(ifname, None)
        mode = self.owned().get(ifname)
        if mode == "userspace" and self.go is not None:
            self.go.stop(ifname)
        elif mode == "kernel":
            self.links.refresh()
            self.links.delete(ifname)
        self.store.drop_owned(STORE_KIND, ifname)

    def supervise(self) -> list[str]:
        """Restart wanted wireguard-go daemons that died and reconfigure them at once.

        Returns:
            The interfaces restarted (their routes and addresses went with the old TUN
            device, so the caller asks the engine for a pass).
        """
        if self.go is None:
            return []
        userspace = {k for k, m in self.owned().items() if m == "userspace"}
        restarted = self.go.check(self.wanted & userspace)
        for ifname in restarted:
            self.links.refresh()
            want = self.last.get(ifname)
            try:
                if want is not None:
                    self.configure(want)
                self.links.set_state(ifname, up=True, mtu=want.mtu if want else 0)
            except DataplaneError as exc:
                LOG.warning("reconfiguring restarted %s failed: %s", ifname, exc)
        return restarted


def _read_key(path: str) -> str:
    try:
        return read_private_key(path)
    except OSError as exc:
        raise DataplaneError(
            "read WireGuard key", f"{path}: {exc.strerror}", errno=exc.errno
        ) from exc
