"""A hybrid run asks the host the same questions for one claim as for fifty.

The fifty-claim config is the healthy recording's plus 49 more proxy-ARP claims on the same
bridge. Every table dump and sweep comes from the recording; only the two batches differ
(their input lists every claim): the route lookups, built from the recorded one, and the
exact proxy look-ups for the 49 entries the dump lacks (none exists: "not found").
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
    recorded = s.host.answers[next(k for k in s.host.answers if "-batch" in k)]
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
    missing = sorted(EXTRA)
    s.host.with_command(
        {
            "argv": list(BATCH),
            "input": "".join(f"neigh get proxy {ip} dev {br}\n" for ip in missing),
            "rc": 1,
            "stdout": "",
            "stderr": "".join(
                f"Error: Proxy neighbour entry not found.\nCommand failed -:{n}\n"
                for n in range(1, len(missing) + 1)
            ),
            "failure": "error",
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
    assert s.host.calls.count(BATCH) == 2  # route lookups, plus the 49 absent proxy entries
    others = [c for c in s.host.calls if c != BATCH]
    assert len(set(others)) == len(others)  # nothing asked twice
    extra = [f for f in report.findings if f.claim in {f"vm{ip.rsplit('.', 1)[1]}" for ip in EXTRA}]
    delivery = [f for f in extra if f.name.endswith("route get")]
    assert len(delivery) == 49 and all(f.status is Status.PASS for f in delivery)
    # no proxy entry is installed for the extra claims: the summary names them
    neighbor = next(f for f in report.findings if f.name == "proxy neighbor (all claims)")
    assert neighbor.status is Status.WARN and neighbor.detail.startswith("1 pass, 49 warn (vm100,")
