"""The cloud fabric follows the provider double: each address goes to the NIC that holds it.

Runs inside the fabric namespace (``ip netns exec <fab> python -m tools.labkit.fabric_sync``)
next to a cloud double (``tests/fakes``). Every ``--interval`` it reads the double's
``GET /_fake/holders`` (address -> NIC ID) and reprograms the fabric the way ``Fabric.assign``
does: a ``/32`` route and a permanent neighbour entry to the port of the NIC that holds the
address, and the ``held`` set of the source/destination check. An address held by a NIC the
lab has no port for, or by none, is delivered nowhere. So a missing or wrong provider action
shows up as lost packets, exactly as on a real cloud, not as a log line.

Each change is appended to ``--log`` as one JSON line (``{"at": epoch, "address",
"from", "to"}``): the lab reads when the fabric started delivering an address.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TABLE = "fabric"


def read_holders(url: str, timeout: float = 2.0) -> dict[str, str]:
    with urllib.request.urlopen(f"{url}/_fake/holders", timeout=timeout) as resp:
        data = json.loads(resp.read())
    return {str(k): str(v) for k, v in data.items()}


def wanted(
    holders: dict[str, str], ports: dict[str, tuple[str, str]], subnet: ipaddress.IPv4Network
) -> dict[str, str]:
    """address -> fabric port, for addresses in the subnet held by a NIC with a port."""
    out = {}
    for ip, nic in holders.items():
        if nic in ports and ipaddress.IPv4Address(ip) in subnet:
            out[ip] = ports[nic][0]
    return out


def apply(changes: list[tuple[str, str | None, str | None]], macs: dict[str, str]) -> None:
    """Move each ``(address, old port, new port)`` in one ``ip -batch`` and one ``nft -f``."""
    ip_lines, nft_lines = [], []
    for address, old, new in changes:
        if old is not None:
            ip_lines += [f"route del {address}/32 dev {old}", f"neigh del {address} dev {old}"]
            nft_lines.append(f'delete element inet {TABLE} held {{ "{old}" . {address} }}')
        if new is not None:
            ip_lines += [
                f"route replace {address}/32 dev {new}",
                f"neigh replace {address} lladdr {macs[new]} dev {new} nud permanent",
            ]
            nft_lines.append(f'add element inet {TABLE} held {{ "{new}" . {address} }}')
    subprocess.run(
        ["ip", "-force", "-batch", "-"],
        input="\n".join(ip_lines) + "\n",
        text=True,
        check=False,
        capture_output=True,
    )
    subprocess.run(
        ["nft", "-f", "-"],
        input="\n".join(nft_lines) + "\n",
        text=True,
        check=False,
        capture_output=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.labkit.fabric_sync", description=__doc__)
    ap.add_argument("--url", required=True, help="the cloud double's base URL")
    ap.add_argument("--subnet", required=True, help="the fabric's subnet (CIDR)")
    ap.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="NIC=PORT=MAC",
        help="a NIC ID, the fabric port it sits behind and its MAC (repeatable)",
    )
    ap.add_argument(
        "--current",
        action="append",
        default=[],
        metavar="ADDRESS=PORT",
        help="what the fabric delivers already (repeatable)",
    )
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--log", required=True)
    args = ap.parse_args(argv)
    ports = {}
    macs = {}
    for spec in args.port:
        nic, port, mac = spec.split("=")
        ports[nic] = (port, mac)
        macs[port] = mac
    current: dict[str, str] = dict(s.split("=") for s in args.current)
    subnet = ipaddress.IPv4Network(args.subnet)
    log = Path(args.log)
    while True:
        try:
            holders = read_holders(args.url)
        except OSError:
            time.sleep(args.interval)
            continue
        want = wanted(holders, ports, subnet)
        changes = [
            (ip, current.get(ip), want.get(ip))
            for ip in sorted(set(current) | set(want))
            if current.get(ip) != want.get(ip)
        ]
        if changes:
            apply(changes, macs)
            now = time.time()
            with log.open("a") as out:
                for ip, old, new in changes:
                    out.write(json.dumps({"at": now, "address": ip, "from": old, "to": new}))
                    out.write("\n")
            current = want
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
