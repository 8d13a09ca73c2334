"""The internet namespace between the routers' public addresses, and OCI's narrower hop.

It is a plain forwarding router (203.0.113.1 toward the cloud, 198.51.100.1 toward
on-prem). On the OCI profile the hop toward the cloud is narrower, as OCI's underlay was
where the black hole was first seen (D16, docs/decisions.md):

* its interface toward the cloud has MTU 1452, so a veth drops longer frames as they
  arrive (a frame longer than the receiving device's MTU is not delivered), and longer
  packets sent toward the cloud need ICMP "fragmentation needed";
* that ICMP (type 3 code 4) is dropped here, in ``output`` and ``forward``, and packets
  longer than 1452 that still reach the forward hook (no DF: the hop does not fragment)
  are dropped too.

Together: a path MTU black hole. ping (84 bytes) passes; a TCP connection whose segments
make outer WireGuard packets longer than 1452 stalls, unless the routers clamp the MSS.
The forward chain also turns on connection tracking, so the smoke can show the WireGuard
underlay flow between the two public addresses is not translated either.
"""

from __future__ import annotations

from tests.support.netns import Netns

from .topology import INTERNET, OCI_UNDERLAY_MTU, Topology

TABLE = "internet"
TOWARD_CLOUD = "to-cloud"
EVIDENCE = f"""
table inet {TABLE} {{
  chain forward {{
    type filter hook forward priority filter; policy accept;
    ct state new counter comment "connection tracking on (no-NAT evidence)"
  }}
}}
"""
BLACK_HOLE = f"""
table inet oci_hop {{
  comment "OCI: narrower underlay hop, fragmentation-needed never delivered"
  chain forward {{
    type filter hook forward priority filter; policy accept;
    icmp type destination-unreachable icmp code frag-needed counter drop
    ip length > {OCI_UNDERLAY_MTU} counter drop
  }}
  chain output {{
    type filter hook output priority filter; policy accept;
    icmp type destination-unreachable icmp code frag-needed counter drop
  }}
}}
"""


class Internet:
    """The internet namespace of one run."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.black_hole = topo.provider == "oci"

    @property
    def ns(self) -> Netns:
        return self.topo.ns[INTERNET]

    def build(self) -> None:
        self.ns.exec("nft", "-f", "-", input=EVIDENCE)
        if self.black_hole:
            self.ns.ip("link", "set", TOWARD_CLOUD, "mtu", str(OCI_UNDERLAY_MTU))
            self.ns.exec("nft", "-f", "-", input=BLACK_HOLE)
