"""routerd: Selective Address Mobility (SAM) daemon and CLI.

Selected IPv4 /32 addresses are captured on one side (a cloud provider's secondary IP, or
proxy-ARP on-prem) and delivered as /32 routes over a router-to-router WireGuard overlay,
with source and destination preserved and no client gateway changed.
"""

__version__ = "0.1.0"
