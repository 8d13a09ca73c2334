"""``verified`` in the simulated lab: neither a false negative nor a false positive.

Both routers run real engines on the example pair (the demo's lab). A config whose overlay
addresses are only descriptive must still reach ``verified`` (traffic needs no overlay
address, so ``verified`` must not either), and a cloud claim whose provider never assigned
the secondary IP must not (see also ``test_reasons`` for the provider-side reasons).
"""

from __future__ import annotations

import pytest

from routerd.backends.sim import ManualClock
from routerd.backends.sim import lab as L
from routerd.cli.demo_lab import build
from tools.labkit.config import descriptive_overlay

PROVIDERS = ["azure", "aws", "oci", "gcp"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_800_000_000.0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_descriptive_overlay_addresses_reach_verified_with_traffic_flowing(
    provider: str, clock: ManualClock
) -> None:
    demo = build(provider, clock=clock, firewall="opened", transform=descriptive_overlay)
    try:
        for router in (L.CLOUD_ROUTER, L.ONPREM_ROUTER):
            tunnel = demo.lab.world.hosts[router].interfaces.get(L.TUNNEL)
            assert tunnel is None or not tunnel.addresses  # nothing assigns an overlay address
        assert demo.settle(), demo.claims()
        assert {c["state"] for c in demo.claims()} == {"verified"}
        there = demo.lab.world.ping(L.CLOUD_VM, L.ONPREM_VM_IP)
        back = demo.lab.world.ping(L.ONPREM_VM, L.CLOUD_VM_IP)
        assert there.ok and back.ok, (there.summary(), back.summary())
        assert there.source_seen == L.CLOUD_VM_IP and back.source_seen == L.ONPREM_VM_IP
        host = demo.lab.world.hosts[L.CLOUD_ROUTER]
        assert not host.interfaces[L.TUNNEL].addresses  # verified without one
    finally:
        demo.close()


def test_the_path_trace_still_decides_without_a_probe(clock: ManualClock) -> None:
    """No overlay probe is possible, so the traced packet must catch a broken path."""
    demo = build("azure", clock=clock, transform=descriptive_overlay, provider_evidence=False)
    try:
        assert demo.settle()
        with demo.lab.world.lock:
            demo.lab.fabric.unassign(L.ONPREM_VM_IP)
        demo.lab.world.notify(L.CLOUD_ROUTER)
        for _ in range(3):
            clock.advance(61.0)  # past verify_interval: the path is checked again
            demo.pass_all()
        states = {(c["name"], c["state"], c["reason"]) for c in demo.claims()}
        assert ("onprem-vm-31", "degraded", "overlay-probe-failed") in states
    finally:
        demo.close()
