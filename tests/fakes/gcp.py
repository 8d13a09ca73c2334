"""GCP double: Compute Engine v1 instances and zone operations plus the metadata server.

Follows the Compute v1 REST shapes google-cloud-compute sends and parses (see
PROVENANCE.md): ``GET .../zones/{z}/instances/{i}``, ``GET
.../aggregated/instances``, ``PATCH .../instances/{i}/updateNetworkInterface`` (with the
interface ``fingerprint``: a stale one is ``412 conditionNotMet``; a repeated ``requestId``
returns the first operation without acting again), ``POST
.../zones/{z}/operations/{op}/wait`` and ``POST .../instances/{i}/testIamPermissions``.
GCE's rule is enforced: an alias range that overlaps an address or alias of another
interface in the network is ``400`` and nothing changes.

The metadata server half of ``google.auth.default()`` (``Metadata-Flavor: Google`` on
every request and answer; ``instance/service-accounts/default/token``,
``project/project-id``, ``universe/universe-domain``) is served here too; point the SDK at
it with ``GCE_METADATA_HOST`` and ``GCE_METADATA_IP``. Compute calls must carry the
bearer token it issued.

Standalone: ``python -m tests.fakes.gcp --host 127.0.0.1 --port 0`` prints its URL.
"""

from __future__ import annotations

import argparse
import base64
import copy
import ipaddress
import re
import secrets
import threading
from typing import Any

from tests.fakes.common import FakeServer, Reply, Request, serve_forever

V1 = "/compute/v1/projects/"
BASE = "https://www.googleapis.com/compute/v1/"
_INSTANCE = re.compile(r"/compute/v1/projects/([^/]+)/zones/([^/]+)/instances/([^/]+)(/[A-Za-z]+)?")
_OPERATION = re.compile(r"/compute/v1/projects/([^/]+)/zones/([^/]+)/operations/([^/]+)(/wait)?")
_FLAVOR = {"Metadata-Flavor": "Google"}


def _gerr(status: int, reason: str, message: str) -> Reply:
    return Reply(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"reason": reason, "domain": "global", "message": message}],
            }
        },
    )


def _fp() -> str:
    return base64.b64encode(secrets.token_bytes(8)).decode()


class GcpFake:
    """One project, one zone, one subnetwork and instances with nic0."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.project = "sam-lab-project"
        self.zone = "asia-northeast1-a"
        self.token = "ya29." + secrets.token_urlsafe(48)
        self.granted = {"compute.instances.get", "compute.instances.updateNetworkInterface"}
        self._instances: dict[str, dict[str, Any]] = {}
        self._ops: dict[str, dict[str, Any]] = {}
        self._requests: dict[str, str] = {}
        self._lock = threading.Lock()
        self.server = FakeServer(self._handle, self.holders, host=host, port=port, latency=latency)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def metadata_host(self) -> str:
        return self.url.removeprefix("http://")

    def close(self) -> None:
        self.server.close()

    def seed(self) -> dict[str, Any]:
        """Subnetwork 10.3.1.0/24 and instances rt-a, rt-b, vm (nic0 each)."""
        subnet = f"projects/{self.project}/regions/asia-northeast1/subnetworks/sam"
        self.cidr = ipaddress.IPv4Network("10.3.1.0/24")
        nics = []
        for i, name in enumerate(("rt-a", "rt-b", "vm")):
            self._instances[name] = {
                "kind": "compute#instance",
                "id": str(1000 + i),
                "name": name,
                "zone": f"{BASE}projects/{self.project}/zones/{self.zone}",
                "status": "RUNNING",
                "canIpForward": i < 2,
                "fingerprint": _fp(),
                "selfLink": f"{BASE}projects/{self.project}/zones/{self.zone}/instances/{name}",
                "networkInterfaces": [
                    {
                        "kind": "compute#networkInterface",
                        "name": "nic0",
                        "network": f"{BASE}projects/{self.project}/global/networks/sam",
                        "subnetwork": f"{BASE}{subnet}",
                        "networkIP": f"10.3.1.{10 + i}",
                        "aliasIpRanges": [],
                        "fingerprint": _fp(),
                    }
                ],
            }
            nics.append(
                f"projects/{self.project}/zones/{self.zone}/instances/{name}/networkInterfaces/nic0"
            )
        return {"subnet": subnet, "nics": nics, "vm_primary": "10.3.1.12", "project": self.project}

    def _path(self, name: str) -> str:
        return f"projects/{self.project}/zones/{self.zone}/instances/{name}"

    def holders(self) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._lock:
            for name, inst in self._instances.items():
                for ni in inst["networkInterfaces"]:
                    path = f"{self._path(name)}/networkInterfaces/{ni['name']}"
                    out[ni["networkIP"]] = path
                    for r in ni["aliasIpRanges"]:
                        out[r["ipCidrRange"].split("/")[0]] = path
        return out

    # -- HTTP -------------------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        if req.path == "/" or req.path.startswith("/computeMetadata/"):
            return self._metadata(req)
        if req.header("authorization") != f"Bearer {self.token}":
            return _gerr(401, "authError", "Request had invalid authentication credentials.")
        if req.path == f"{V1}{self.project}/aggregated/instances" and req.method == "GET":
            fault = self.server.faults.take("read")
            if fault and fault != "drop":
                return self._fault(fault, "compute.instances.list")
            with self._lock:
                items = {
                    f"zones/{self.zone}": {
                        "instances": copy.deepcopy(list(self._instances.values()))
                    }
                }
            return Reply(
                200, {"kind": "compute#instanceAggregatedList", "id": "agg", "items": items}
            )
        if m := _OPERATION.fullmatch(req.path):
            with self._lock:
                op = self._ops.get(m.group(3))
            if op is None:
                return _gerr(
                    404, "notFound", f"The resource operation '{m.group(3)}' was not found"
                )
            op["status"] = "DONE"
            op["progress"] = 100
            return Reply(200, op)
        m = _INSTANCE.fullmatch(req.path)
        if m is None or m.group(1) != self.project:
            return _gerr(404, "notFound", f"no route {req.path}")
        return self._instance(req, m.group(3), m.group(4))

    def _instance(self, req: Request, name: str, verb: str | None) -> Reply:
        if name not in self._instances:
            return _gerr(404, "notFound", f"The resource '{self._path(name)}' was not found")
        if verb is None and req.method == "GET":
            fault = self.server.faults.take("read")
            if fault and fault != "drop":
                return self._fault(fault, "compute.instances.get")
            with self._lock:
                return Reply(200, copy.deepcopy(self._instances[name]))
        if verb == "/updateNetworkInterface" and req.method == "PATCH":
            return self._update(name, req)
        if verb == "/testIamPermissions" and req.method == "POST":
            asked = (req.json() or {}).get("permissions", [])
            return Reply(200, {"permissions": [p for p in asked if p in self.granted]})
        return _gerr(400, "badRequest", f"unsupported {req.method} {req.path}")

    def _metadata(self, req: Request) -> Reply:
        if req.header("metadata-flavor") != "Google":
            return Reply(403, "Missing Metadata-Flavor:Google header.", _FLAVOR, "text/plain")
        md = "/computeMetadata/v1/"
        paths: dict[str, Any] = {
            "/": "computeMetadata/",
            md + "project/project-id": self.project,
            md + "universe/universe-domain": "googleapis.com",
            md + "instance/service-accounts/default/token": {
                "access_token": self.token,
                "expires_in": 3599,
                "token_type": "Bearer",
            },
            md + "instance/service-accounts/default/": {
                "aliases": ["default"],
                "email": f"router@{self.project}.iam.gserviceaccount.com",
                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            },
        }
        body = paths.get(req.path)
        if body is None:
            return Reply(404, "", _FLAVOR, "text/plain")
        if isinstance(body, str):
            return Reply(200, body, _FLAVOR, "application/text")
        return Reply(200, body, _FLAVOR)

    def _fault(self, kind: str, permission: str) -> Reply:
        if kind == "deny":
            return _gerr(
                403,
                "forbidden",
                f"Required '{permission}' permission for 'projects/{self.project}'",
            )
        if kind == "throttle":
            return _gerr(429, "rateLimitExceeded", "Rate Limit Exceeded")
        return _gerr(503, "backendError", "Backend Error")

    def _update(self, name: str, req: Request) -> Reply:
        body = req.json() or {}
        request_id = req.arg("requestId")
        with self._lock:
            if request_id and request_id in self._requests:
                return Reply(200, self._ops[self._requests[request_id]])
            inst = self._instances[name]
            ni = next(
                (n for n in inst["networkInterfaces"] if n["name"] == req.arg("networkInterface")),
                None,
            )
            if ni is None:
                return _gerr(
                    400, "invalid", f"network interface {req.arg('networkInterface')} not found"
                )
            new = [r["ipCidrRange"] for r in body.get("aliasIpRanges", [])]
            old = [r["ipCidrRange"] for r in ni["aliasIpRanges"]]
            op_kind = "assign" if set(new) - set(old) else "unassign"
            fault = self.server.faults.take(op_kind)
            if fault and fault != "drop":
                return self._fault(fault, "compute.instances.updateNetworkInterface")
            if body.get("fingerprint") != ni["fingerprint"]:
                return _gerr(
                    412,
                    "conditionNotMet",
                    "Supplied fingerprint does not match current fingerprint.",
                )
            for rng in set(new) - set(old):
                conflict = self._overlap(name, ipaddress.ip_network(rng, strict=False))
                if conflict:
                    return _gerr(
                        400,
                        "invalid",
                        f"Invalid value for field 'resource.aliasIpRanges': "
                        f"'{rng}'. IP alias range conflicts with {conflict}.",
                    )
            ni["aliasIpRanges"] = [{"ipCidrRange": r} for r in new]
            ni["fingerprint"] = _fp()
            self.server.mutated(op_kind)
            op_name = f"operation-{secrets.token_hex(8)}"
            self._ops[op_name] = {
                "kind": "compute#operation",
                "id": str(secrets.randbits(48)),
                "name": op_name,
                "zone": inst["zone"],
                "operationType": "updateNetworkInterface",
                "targetLink": inst["selfLink"],
                "status": "RUNNING",
                "progress": 0,
                "selfLink": f"{inst['zone']}/operations/{op_name}",
            }
            if request_id:
                self._requests[request_id] = op_name
            reply = Reply(200, dict(self._ops[op_name]))
        return Reply(drop=True) if fault == "drop" else reply

    def _overlap(self, name: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
        if not net.subnet_of(self.cidr):  # type: ignore[arg-type]
            return f"the subnetwork range {self.cidr}"
        for other, inst in self._instances.items():
            for ni in inst["networkInterfaces"]:
                used = [ni["networkIP"] + "/32"] + [r["ipCidrRange"] for r in ni["aliasIpRanges"]]
                if other == name:
                    used = used[:1]
                for u in used:
                    if net.overlaps(ipaddress.ip_network(u, strict=False)):
                        return f"{u} of instance {other}"
        return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.gcp", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    args = ap.parse_args(argv)
    fake = GcpFake(host=args.host, port=args.port, latency=args.latency)
    serve_forever("gcp", fake.server, {"world": fake.seed(), "metadataHost": fake.metadata_host})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
