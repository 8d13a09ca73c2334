"""The OCI image's default host firewall and the documented host rule that opens it.

OCI's Ubuntu images load ``/etc/iptables/rules.v4`` through iptables-nft: INPUT accepts
established traffic, ICMP, loopback, NTP replies and new SSH, then rejects everything else;
FORWARD rejects everything. On a SAM cloud router that means no WireGuard handshake (the
on-prem side dials in to UDP 51820: a new flow, rejected) and no forwarding between the VNIC
and the tunnel. ``IMAGE_DEFAULT`` is that file (without the 169.254 InstanceServices chain,
which only concerns the router's own metadata traffic).

routerd does not open host firewalls (D17 in docs/decisions.md: it warns, the operator decides);
``routerctl doctor hybrid`` must WARN about this one. ``open_documented`` then applies the rule
``docs/providers.md`` documents for OCI: UDP to the listen port in INPUT, FORWARD between the
VNIC interface and the tunnel in both directions.
"""

from __future__ import annotations

from tests.support.netns import Netns

IPTABLES = "iptables-nft"
IMAGE_DEFAULT = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p udp --sport 123 -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""


def load_image_default(ns: Netns) -> None:
    """Load the image's rules.v4 into ``ns`` (as ``netfilter-persistent`` does at boot)."""
    ns.exec(f"{IPTABLES}-restore", input=IMAGE_DEFAULT)


def documented_rules(listen_port: int, capture_if: str, tunnel: str) -> list[list[str]]:
    """The host rule of docs/providers.md for OCI, as iptables argv lists."""
    return [
        ["-I", "INPUT", "1", "-p", "udp", "--dport", str(listen_port), "-j", "ACCEPT"],
        ["-I", "FORWARD", "1", "-i", capture_if, "-o", tunnel, "-j", "ACCEPT"],
        ["-I", "FORWARD", "1", "-i", tunnel, "-o", capture_if, "-j", "ACCEPT"],
    ]


def open_documented(ns: Netns, listen_port: int, capture_if: str, tunnel: str) -> list[str]:
    """Apply the documented rule; returns the commands run (for the report)."""
    done = []
    for rule in documented_rules(listen_port, capture_if, tunnel):
        ns.exec(IPTABLES, *rule)
        done.append(" ".join([IPTABLES, *rule]))
    return done


def save(ns: Netns) -> str:
    return ns.exec(f"{IPTABLES}-save", check=False)
