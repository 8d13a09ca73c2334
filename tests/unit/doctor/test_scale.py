"""A hybrid run asks the host the same questions for one claim as for fifty.

The fifty-claim config is the healthy recording's plus 49 more proxy-ARP claims on the same
bridge. Every table dump and sweep comes from the recording; only the two batches differ
(their input lists every claim), each built from the recorded one-claim answer: the route
lookups, and the capture check's input-route lookups (``route get A from S iif br``).
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import Status
from routerd.doctor.ip_batch import BATCH
from tests.unit.doctor.kit import Scene, config_of

Recorded = Callable[[str], Scene]
EXTRA = [f"10.40.8.{100 + i}" for i in range(49)]
CLAIM = """    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata:
        name: vm{n}
      spec:
        domainRef: edge-lan
        address: {ip}/32
        ownerSide: cloud
        capture:
          type: proxy-arp
          interface: lan
        delivery:
          peerRef: cloud
"""


def fifty(s: Scene) -> None:
    """Answer the 50-address lookup batch from the recorded one-address answer."""
    recorded = s.host.answers[next(k for k in s.host.answers if "-batch" in k and "iif" not in k)]
    first, endpoint = recorded.stdout.splitlines()
    # claims in name order: vm100 .. vm148, then vm31
    lines = [first.replace("10.40.8.31", ip) for ip in EXTRA] + [first, endpoint]
    order = [*EXTRA, "10.40.8.31", "192.0.2.2"]
    s.host.with_command(
        {
            "argv": list(BATCH),
            "input": "".join(f"route get {ip}\n" for ip in order),
            "rc": 0,
            "stdout": "\n".join(lines) + "\n",
            "stderr": "",
        }
    )
    br = s.names["br"]
    captured = s.host.answers[next(k for k in s.host.answers if "iif" in k)].stdout.strip()
    s.host.with_command(
        {
            "argv": list(BATCH),
            "input": "".join(f"route get {ip} from 10.40.8.254 iif {br}\n" for ip in order[:-1]),
            "rc": 0,
            "stdout": "".join(f"{captured.replace('10.40.8.31', ip)}\n" for ip in order[:-1]),
            "stderr": "",
        }
    )


def test_fifty_claims_cost_the_same_host_questions_as_one(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.doctor()
    one_claim = sorted(s.host.calls)
    s.host.calls.clear()

    text = s.rec["topology"]["config"]
    text += "".join(CLAIM.format(n=ip.rsplit(".", 1)[1], ip=ip) for ip in EXTRA)
    fifty(s)
    report = s.doctor(startup=config_of(text))

    assert sorted(c for c in s.host.calls if c != BATCH) == [c for c in one_claim if c != BATCH]
    assert s.host.calls.count(BATCH) == 2  # route lookups, capture input routes
    others = [c for c in s.host.calls if c != BATCH]
    assert len(set(others)) == len(others)  # nothing asked twice
    extra = [f for f in report.findings if f.claim in {f"vm{ip.rsplit('.', 1)[1]}" for ip in EXTRA}]
    delivery = [f for f in extra if f.name.endswith("route get")]
    assert len(delivery) == 49 and all(f.status is Status.PASS for f in delivery)
    capture = next(f for f in report.findings if f.name == "capture route (all claims)")
    assert (capture.status, capture.detail) == (Status.PASS, "50 pass")
