"""The Linux engine asks the (fake) instance-metadata service before calling a capture done.

A cloud router namespace (capture NIC, a veth standing in for the tunnel) runs a real
Engine on the Linux backend with ``MetadataEvidence`` pointed at a fake AWS metadata
service on the namespace's loopback. While the fake lists no secondary IP on the claim's
ENI the claim stays ``pending`` with ``provider-ip-not-assigned`` naming AWS and the ENI
(everything on the host is in place: the route is installed); once the provider step is
done it verifies with nothing left unproven; undone, it degrades again.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.netns import engine_host as eh
from tests.netns.topology import router, routes

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

ENI = "eni-0a1b2c3d4e5f60789"
CLAIM = "onprem-vm-31"
CONFIG = """\
apiVersion: routerd.net/v1alpha1
kind: Router
metadata: {{name: cloud-rt-a}}
spec:
  resources:
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata: {{name: lan}}
      spec: {{ifname: {cap}, managed: false}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: OverlayPeer
      metadata: {{name: onprem-1}}
      spec:
        role: onprem
        nodeID: onprem-rt-1
        underlay: {{type: route, interface: {ov}}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: AddressMobilityDomain
      metadata: {{name: edge-lan}}
      spec: {{prefix: 10.40.8.0/24, mode: selective-address, peerRef: onprem-1}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: CloudProviderProfile
      metadata: {{name: aws-lab}}
      spec:
        provider: aws
        region: ap-northeast-1
        capabilities: [eni-secondary-ip, source-dest-check-disabled]
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {{name: {claim}}}
      spec:
        domainRef: edge-lan
        address: 10.40.8.31/32
        ownerSide: onprem
        capture:
          type: provider-secondary-ip
          providerRef: aws-lab
          providerMode: eni-secondary-ip
          nicRef: {eni}
          interface: lan
        delivery: {{peerRef: onprem-1, mode: route, tunnelInterface: {ov}}}
"""


def start(lab: Any, fixture: str) -> Any:
    r = router(lab)
    worker = lab.worker(r.ns)
    state = lab.tmp / "state"
    state.mkdir()
    log = lab.tmp / "routerd-engine.log"
    lab.logs.append(log)
    text = CONFIG.format(cap=r.cap, ov=r.ov, claim=CLAIM, eni=ENI)
    worker.call(eh.start, text, str(state), str(log), imds=("aws", fixture))
    lab.cleanup.push("engine", lambda: worker.call(eh.stop))
    return r, worker


def test_unassigned_secondary_ip_keeps_the_claim_pending_naming_provider_and_nic(lab):
    r, worker = start(lab, "imds-unprovisioned.json")
    state, reason, message = worker.call(eh.claim_after, CLAIM, "verified", 3.0)
    assert (state, reason) == ("pending", "provider-ip-not-assigned")
    assert message.startswith("AWS instance metadata: ") and ENI in message
    # the host side is complete: only the provider's word is missing
    assert ("10.40.8.31", r.ov, 120, "unicast") in routes(r.ns, "proto", "196")

    worker.call(eh.serve_metadata, "aws", "imds-secondary-ip.json")
    assert worker.call(eh.claim_after, CLAIM, "verified") == ("verified", "", "")

    worker.call(eh.serve_metadata, "aws", "imds-unprovisioned.json")
    state, reason, _ = worker.call(eh.claim_after, CLAIM, "degraded")
    assert (state, reason) == ("degraded", "provider-ip-not-assigned")


def test_unreachable_metadata_declares_the_capture_and_says_what_is_unproven(lab):
    _, worker = start(lab, "imds-secondary-ip.json")
    worker.call(eh.stop_metadata)
    state, reason, message = worker.call(eh.claim_after, CLAIM, "verified")
    assert (state, reason) == ("verified", "")
    assert message.startswith("capture declared, provider side unproven: ")
    assert "AWS" in message
