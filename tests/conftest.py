"""Suite-wide pytest configuration.

* ``netns`` / ``lab`` tests need root, network namespaces and the tools routerd drives; they
  are skipped with the reason (naming the missing piece) otherwise.
* Every test runs with the transitions library's per-model warnings silenced, as the daemon
  does (routerd.core.lifecycle binds no per-model methods on purpose).
"""

from __future__ import annotations

import os
import shutil

import pytest

NETNS_TOOLS = ("ip", "nft", "wg", "wireguard-go")


def netns_skip_reason() -> str | None:
    """Why netns tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, netlink, nftables)"
    missing = [t for t in NETNS_TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (run tools/bootstrap)"
    if not os.path.exists("/var/run/netns") and not os.access("/var/run", os.W_OK):
        return "cannot create /var/run/netns"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = netns_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "netns" in item.keywords or "lab" in item.keywords:
            item.add_marker(skip)
