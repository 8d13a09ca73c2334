"""Azure double: ARM network interfaces plus the managed-identity token endpoint.

Follows the Microsoft.Network REST shapes azure-mgmt-network sends and parses (see
PROVENANCE.md): ``GET``/``PUT`` of one NIC, ``GET`` of every NIC in the subscription, and
the PUT's long-running operation (``Azure-AsyncOperation`` header, status ``InProgress``
then ``Succeeded``, then the final GET). ARM's address rule is enforced: a PUT whose
ipConfigurations name an address another NIC holds is ``400 PrivateIPAddressInUse``, and an
address outside the subnet is ``400 PrivateIPAddressNotInSubnet``.

The identity half of ``DefaultAzureCredential`` (managed identity through IMDS:
``GET /metadata/identity/oauth2/token`` with ``Metadata: true``) is served here too;
ARM requests must carry the bearer token it issued. Point the SDK at it with
``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (azure-identity's documented IMDS override).

Standalone: ``python -m tests.fakes.azure --host 127.0.0.1 --port 0`` prints its URL.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import re
import secrets
import threading
import time
import uuid
from typing import Any

from tests.fakes.common import FakeServer, Reply, Request, serve_forever

_NIC = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Network/networkInterfaces/(?P<name>[^/]+)",
    re.IGNORECASE,
)
_ALL = re.compile(r"/subscriptions/([^/]+)/providers/Microsoft\.Network/networkInterfaces", re.I)
_OP = re.compile(
    r"/subscriptions/[^/]+/providers/Microsoft\.Network/locations/[^/]+/operations/(.+)", re.I
)


def _arm_error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers=dict(headers))


class AzureFake:
    """A subscription with one subnet and NICs, behind an ARM-shaped HTTP API."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.subscription = str(uuid.uuid4())
        self.location = "japaneast"
        self.token = secrets.token_urlsafe(48)
        self.client_id = str(uuid.uuid4())
        self._nics: dict[str, dict[str, Any]] = {}
        self._subnets: dict[str, ipaddress.IPv4Network] = {}
        self._ops: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server = FakeServer(self._handle, self.holders, host=host, port=port, latency=latency)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.close()

    def seed(self) -> dict[str, Any]:
        """A subnet 10.1.1.0/24 and three NICs (router A, router B, VM) with primaries."""
        rg = "rg-sam"
        base = f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/Microsoft.Network"
        subnet = f"{base}/virtualNetworks/vnet-sam/subnets/snet-sam"
        self._subnets[subnet.lower()] = ipaddress.IPv4Network("10.1.1.0/24")
        nics = []
        for i, name in enumerate(("nic-rt-a", "nic-rt-b", "nic-vm")):
            nic_id = f"{base}/networkInterfaces/{name}"
            self._nics[nic_id.lower()] = {
                "id": nic_id,
                "name": name,
                "type": "Microsoft.Network/networkInterfaces",
                "location": self.location,
                "properties": {
                    "provisioningState": "Succeeded",
                    "enableIPForwarding": i < 2,
                    "ipConfigurations": [
                        self._ipconfig(nic_id, "ipconfig1", f"10.1.1.{10 + i}", subnet, True)
                    ],
                },
            }
            nics.append(nic_id)
        return {
            "subnet": subnet,
            "nics": nics,
            "vm_primary": "10.1.1.12",
            "subscription": self.subscription,
        }

    @staticmethod
    def _ipconfig(nic_id: str, name: str, ip: str, subnet: str, primary: bool) -> dict[str, Any]:
        return {
            "id": f"{nic_id}/ipConfigurations/{name}",
            "name": name,
            "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
            "properties": {
                "privateIPAddress": ip,
                "privateIPAllocationMethod": "Static",
                "privateIPAddressVersion": "IPv4",
                "subnet": {"id": subnet},
                "primary": primary,
                "provisioningState": "Succeeded",
            },
        }

    def holders(self) -> dict[str, str]:
        with self._lock:
            return {
                c["properties"]["privateIPAddress"]: nic["id"]
                for nic in self._nics.values()
                for c in nic["properties"]["ipConfigurations"]
            }

    def _view(self, nic: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(nic)
        out["etag"] = f'W/"{uuid.uuid4()}"'
        return out

    # -- HTTP -------------------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        if req.path == "/metadata/identity/oauth2/token":
            return self._token(req)
        if req.header("authorization") != f"Bearer {self.token}":
            return _arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if not req.arg("api-version"):
            return _arm_error(
                400, "MissingApiVersionParameter", "The api-version query parameter is required."
            )
        if m := _OP.fullmatch(req.path):
            return self._operation(m.group(1))
        if _ALL.fullmatch(req.path) and req.method == "GET":
            fault = self.server.faults.take("read")
            if fault and fault != "drop":
                return self._fault(fault, "Microsoft.Network/networkInterfaces/read")
            with self._lock:
                return Reply(200, {"value": [self._view(n) for n in self._nics.values()]})
        m = _NIC.fullmatch(req.path)
        if m is None:
            return _arm_error(404, "InvalidResourceType", f"no route for {req.path}")
        nic_id = req.path.lower()
        if req.method == "GET":
            fault = self.server.faults.take("read")
            if fault and fault != "drop":
                return self._fault(fault, "Microsoft.Network/networkInterfaces/read")
            with self._lock:
                nic = self._nics.get(nic_id)
                if nic is None:
                    return _arm_error(
                        404, "ResourceNotFound", f"The Resource '{m['name']}' was not found."
                    )
                return Reply(200, self._view(nic))
        if req.method == "PUT":
            return self._put(nic_id, req)
        return _arm_error(405, "MethodNotAllowed", req.method)

    def _token(self, req: Request) -> Reply:
        if req.header("metadata") != "true":
            return Reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Required metadata header not specified",
                },
            )
        now = int(time.time())
        return Reply(
            200,
            {
                "access_token": self.token,
                "client_id": self.client_id,
                "expires_in": "86399",
                "expires_on": str(now + 86399),
                "ext_expires_in": "86399",
                "not_before": str(now),
                "resource": req.arg("resource"),
                "token_type": "Bearer",
            },
        )

    def _fault(self, kind: str, action: str) -> Reply:
        if kind == "deny":
            return _arm_error(
                403,
                "AuthorizationFailed",
                f"The client '{self.client_id}' does not have authorization to "
                f"perform action '{action}' over scope '/subscriptions/{self.subscription}'.",
            )
        if kind == "throttle":
            return _arm_error(
                429, "TooManyRequests", "The request is being throttled.", **{"Retry-After": "1"}
            )
        return _arm_error(500, "InternalServerError", "An error occurred.")

    def _put(self, nic_id: str, req: Request) -> Reply:
        body = req.json()
        with self._lock:
            old = self._nics.get(nic_id)
            if old is None:
                return _arm_error(
                    404, "ResourceNotFound", "NIC creation is not part of this double"
                )
            old_ips = {
                c["properties"]["privateIPAddress"] for c in old["properties"]["ipConfigurations"]
            }
            configs = body.get("properties", {}).get("ipConfigurations", [])
            new_ips = {c.get("properties", {}).get("privateIPAddress") for c in configs}
            op = "assign" if new_ips - old_ips else "unassign"
            fault = self.server.faults.take(op)
            if fault and fault != "drop":
                return self._fault(fault, "Microsoft.Network/networkInterfaces/write")
            problem = self._validate(nic_id, old, configs)
            if problem is not None:
                return problem
            stored = copy.deepcopy(old)
            stored["properties"]["ipConfigurations"] = [
                self._ipconfig(
                    old["id"],
                    c["name"],
                    c["properties"]["privateIPAddress"],
                    c["properties"]["subnet"]["id"],
                    bool(c["properties"].get("primary")),
                )
                for c in configs
            ]
            self._nics[nic_id] = stored
            self.server.mutated(op)
            op_id = str(uuid.uuid4())
            self._ops[op_id] = 1
        if fault == "drop":
            return Reply(drop=True)
        view = self._view(stored)
        view["properties"]["provisioningState"] = "Updating"
        status_url = (
            f"{self.url}/subscriptions/{self.subscription}/providers/Microsoft.Network/"
            f"locations/{self.location}/operations/{op_id}?api-version={req.arg('api-version')}"
        )
        return Reply(200, view, headers={"Azure-AsyncOperation": status_url, "Retry-After": "0"})

    def _validate(
        self, nic_id: str, old: dict[str, Any], configs: list[dict[str, Any]]
    ) -> Reply | None:
        if not configs:
            return _arm_error(
                400, "NetworkInterfaceMustHaveAtLeastOneIpConfiguration", "at least one"
            )
        for c in configs:
            props = c.get("properties", {})
            ip = props.get("privateIPAddress")
            subnet = (props.get("subnet") or {}).get("id", "")
            net = self._subnets.get(subnet.lower())
            if net is None:
                return _arm_error(400, "InvalidResourceReference", f"subnet {subnet} not found")
            if ipaddress.IPv4Address(ip) not in net:
                return _arm_error(
                    400,
                    "PrivateIPAddressNotInSubnet",
                    f"Private static IP address {ip} does not belong to the range of "
                    f"subnet prefix {net}.",
                )
            for other_id, other in self._nics.items():
                if other_id == nic_id:
                    continue
                for oc in other["properties"]["ipConfigurations"]:
                    if oc["properties"]["privateIPAddress"] == ip:
                        return _arm_error(
                            400,
                            "PrivateIPAddressInUse",
                            f"IP configuration {c.get('name')} is using the private IP "
                            f"address {ip} which is already allocated to resource {oc['id']}.",
                        )
        return None

    def _operation(self, op_id: str) -> Reply:
        with self._lock:
            left = self._ops.get(op_id)
            if left is None:
                return _arm_error(404, "OperationNotFound", op_id)
            if left > 0:
                self._ops[op_id] = left - 1
                return Reply(200, {"status": "InProgress"}, headers={"Retry-After": "0"})
        return Reply(200, {"status": "Succeeded"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.azure", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    args = ap.parse_args(argv)
    fake = AzureFake(host=args.host, port=args.port, latency=args.latency)
    serve_forever("azure", fake.server, {"world": fake.seed()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
