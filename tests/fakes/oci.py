"""OCI double: Core Services private IPs and VNICs plus instance-principal identity.

Follows the Core Services API 20160918 shapes the ``oci`` SDK sends and parses (see
PROVENANCE.md): ``GET /20160918/privateIps?subnetId=&ipAddress=`` (and ``?vnicId=``),
``POST /20160918/privateIps`` (with ``opc-retry-token`` replay), ``PUT
/20160918/privateIps/{id}`` (move to another VNIC of the subnet), ``DELETE
/20160918/privateIps/{id}`` and ``GET /20160918/vnics/{id}``. OCI's rule is enforced: an
address already in use in the subnet is ``409 Conflict``; a primary private IP cannot be
moved or deleted; an address outside the subnet is ``400 InvalidParameter``.

Identity: the instance-principal flow of the SDK runs unmodified against this double. The
metadata service (``/opc/v2/instance/region``, ``/opc/v2/identity/{cert,key,intermediate}.pem``
behind ``Authorization: Bearer Oracle``; point the SDK at it with ``OCI_METADATA_BASE_URL``)
hands out an instance certificate whose subject names the tenancy, and the federation
endpoint (``POST /v1/x509``) exchanges it for a session token. API requests must be signed
with ``keyId="ST$<that token>"``.

Standalone: ``python -m tests.fakes.oci --host 127.0.0.1 --port 0`` prints its URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import re
import secrets
import threading
import time
from typing import Any

from tests.fakes.common import FakeServer, Reply, Request, serve_forever

API = "/20160918"
_KEY_ID = re.compile(r'keyId="ST\$([^"]+)"')


def _ocid(kind: str) -> str:
    return f"ocid1.{kind}.oc1.ap-tokyo-1.{secrets.token_hex(20)}"


def _err(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(
        status,
        {"code": code, "message": message},
        headers={"opc-request-id": secrets.token_hex(8), **headers},
    )


def _identity() -> tuple[bytes, bytes, bytes, str]:
    """A CA, and an instance certificate and key whose subject carries the tenancy."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    tenancy = _ocid("tenancy").replace(".ap-tokyo-1", "")
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake OCI intermediate")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "ocid1.instance.oc1." + secrets.token_hex(8)),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "opc-certtype:instance"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"opc-tenant:{tenancy}"),
        ]
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return leaf.public_bytes(pem), key_pem, ca.public_bytes(pem), tenancy


class OciFake:
    """One subnet with VNICs and private-IP objects behind a Core-Services-shaped API."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        import jwt

        self.region = "ap-tokyo-1"
        self.cert, self.key, self.intermediate, self.tenancy = _identity()
        now = int(time.time())
        self.token = jwt.encode(
            {
                "sub": "instance",
                "iat": now,
                "exp": now + 3600,
                "tenant": self.tenancy,
                "nonce": secrets.token_hex(16),
            },
            secrets.token_bytes(32),
            algorithm="HS256",
        )
        self.compartment = _ocid("compartment").replace(".ap-tokyo-1", "")
        self._ips: dict[str, dict[str, Any]] = {}
        self._vnics: dict[str, dict[str, Any]] = {}
        self._subnets: dict[str, ipaddress.IPv4Network] = {}
        self._tokens: dict[str, tuple[bytes, Reply]] = {}
        self._lock = threading.Lock()
        self.server = FakeServer(self._handle, self.holders, host=host, port=port, latency=latency)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.close()

    def seed(self) -> dict[str, Any]:
        """A subnet 10.2.1.0/24 and three VNICs (router A, router B, VM) with primaries."""
        subnet = _ocid("subnet")
        self._subnets[subnet] = ipaddress.IPv4Network("10.2.1.0/24")
        nics = []
        for i in range(3):
            vnic = _ocid("vnic")
            self._vnics[vnic] = {
                "id": vnic,
                "subnetId": subnet,
                "compartmentId": self.compartment,
                "availabilityDomain": "Uocm:AP-TOKYO-1-AD-1",
                "lifecycleState": "AVAILABLE",
                "privateIp": f"10.2.1.{10 + i}",
                "isPrimary": True,
                "skipSourceDestCheck": i < 2,
                "macAddress": f"02:00:17:00:00:{10 + i:02x}",
                "timeCreated": "2026-01-01T00:00:00.000Z",
                "displayName": f"vnic{i}",
            }
            self._new_ip(vnic, subnet, f"10.2.1.{10 + i}", primary=True)
            nics.append(vnic)
        return {"subnet": subnet, "nics": nics, "vm_primary": "10.2.1.12", "region": self.region}

    def _new_ip(self, vnic: str, subnet: str, ip: str, *, primary: bool) -> dict[str, Any]:
        obj = {
            "id": _ocid("privateip"),
            "vnicId": vnic,
            "subnetId": subnet,
            "ipAddress": ip,
            "isPrimary": primary,
            "compartmentId": self.compartment,
            "availabilityDomain": "Uocm:AP-TOKYO-1-AD-1",
            "displayName": ip,
            "hostnameLabel": None,
            "timeCreated": "2026-01-01T00:00:00.000Z",
            "definedTags": {},
            "freeformTags": {},
            "ipState": "ASSIGNED",
            "lifetime": "EPHEMERAL",
        }
        self._ips[obj["id"]] = obj
        return obj

    def holders(self) -> dict[str, str]:
        with self._lock:
            return {o["ipAddress"]: o["vnicId"] for o in self._ips.values()}

    # -- HTTP -------------------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        if req.path.startswith("/opc/v2/"):
            return self._imds(req)
        if req.path == "/v1/x509" and req.method == "POST":
            doc = req.json() or {}
            if not doc.get("certificate") or not doc.get("publicKey"):
                return _err(400, "InvalidParameter", "certificate and publicKey are required")
            return Reply(200, {"token": self.token})
        m = _KEY_ID.search(req.header("authorization"))
        if m is None or m.group(1) != self.token:
            return _err(401, "NotAuthenticated", "The required authentication was not provided.")
        if req.path.startswith(f"{API}/privateIps"):
            return self._private_ips(req)
        if req.path.startswith(f"{API}/vnics/") and req.method == "GET":
            fault = self.server.faults.take("read")
            if fault and fault != "drop":
                return self._fault(fault)
            vnic = self._vnics.get(req.path.rsplit("/", 1)[1])
            if vnic is None:
                return _err(
                    404,
                    "NotAuthorizedOrNotFound",
                    "Authorization failed or requested resource not found.",
                )
            return Reply(200, vnic, headers={"etag": secrets.token_hex(8)})
        return _err(404, "NotAuthorizedOrNotFound", f"no route {req.method} {req.path}")

    def _private_ips(self, req: Request) -> Reply:
        if req.path == f"{API}/privateIps":
            if req.method == "GET":
                return self._list(req)
            if req.method == "POST":
                return self._create(req)
        pid = req.path.rsplit("/", 1)[1]
        if req.method == "PUT":
            return self._update(pid, req)
        if req.method == "DELETE":
            return self._delete(pid)
        if req.method == "GET":
            return self._get_ip(pid)
        return _err(405, "MethodNotAllowed", req.method)

    def _imds(self, req: Request) -> Reply:
        if req.header("authorization") != "Bearer Oracle":
            return Reply(401, "", content_type="text/plain")
        files = {
            "/opc/v2/instance/region": self.region.encode(),
            "/opc/v2/identity/cert.pem": self.cert,
            "/opc/v2/identity/key.pem": self.key,
            "/opc/v2/identity/intermediate.pem": self.intermediate,
        }
        body = files.get(req.path.rstrip("/"))
        if body is None:
            return Reply(404, "", content_type="text/plain")
        return Reply(200, body, content_type="text/plain")

    def _fault(self, kind: str) -> Reply:
        if kind == "deny":
            return _err(
                404,
                "NotAuthorizedOrNotFound",
                "Authorization failed or requested resource not found.",
            )
        if kind == "throttle":
            return _err(429, "TooManyRequests", "Too many requests for the tenancy.")
        return _err(500, "InternalServerError", "Internal error.")

    def _list(self, req: Request) -> Reply:
        fault = self.server.faults.take("read")
        if fault and fault != "drop":
            return self._fault(fault)
        subnet, vnic, ip = req.arg("subnetId"), req.arg("vnicId"), req.arg("ipAddress")
        if not subnet and not vnic:
            return _err(400, "MissingParameter", "subnetId or vnicId is required")
        with self._lock:
            found = [
                o
                for o in self._ips.values()
                if (not subnet or o["subnetId"] == subnet)
                and (not vnic or o["vnicId"] == vnic)
                and (not ip or o["ipAddress"] == ip)
            ]
        return Reply(200, found)

    def _get_ip(self, pid: str) -> Reply:
        with self._lock:
            obj = self._ips.get(pid)
        if obj is None:
            return _err(
                404,
                "NotAuthorizedOrNotFound",
                "Authorization failed or requested resource not found.",
            )
        return Reply(200, obj)

    def _create(self, req: Request) -> Reply:
        doc = req.json() or {}
        token = req.header("opc-retry-token")
        with self._lock:
            if token and token in self._tokens:
                body, reply = self._tokens[token]
                if body != req.body:
                    return _err(
                        409, "IdempotencyTokenConflict", "retry token reused with another request"
                    )
                return reply
            fault = self.server.faults.take("assign")
            if fault and fault != "drop":
                return self._fault(fault)
            vnic = self._vnics.get(doc.get("vnicId", ""))
            if vnic is None:
                return _err(404, "NotAuthorizedOrNotFound", "VNIC not found")
            ip = doc.get("ipAddress", "")
            net = self._subnets[vnic["subnetId"]]
            if ipaddress.IPv4Address(ip) not in net:
                return _err(
                    400, "InvalidParameter", f"IP address {ip} is not within the subnet CIDR {net}"
                )
            if any(
                o["ipAddress"] == ip and o["subnetId"] == vnic["subnetId"]
                for o in self._ips.values()
            ):
                return _err(409, "Conflict", f"IP address {ip} is already assigned in the subnet")
            obj = self._new_ip(vnic["id"], vnic["subnetId"], ip, primary=False)
            self.server.mutated("assign")
            reply = Reply(200, dict(obj), headers={"etag": secrets.token_hex(8)})
            if token:
                self._tokens[token] = (req.body, reply)
        return Reply(drop=True) if fault == "drop" else reply

    def _update(self, pid: str, req: Request) -> Reply:
        doc = req.json() or {}
        with self._lock:
            fault = self.server.faults.take("assign")
            if fault and fault != "drop":
                return self._fault(fault)
            obj = self._ips.get(pid)
            vnic = self._vnics.get(doc.get("vnicId", "")) if doc.get("vnicId") else None
            if obj is None or (doc.get("vnicId") and vnic is None):
                return _err(
                    404,
                    "NotAuthorizedOrNotFound",
                    "Authorization failed or requested resource not found.",
                )
            if obj["isPrimary"]:
                return _err(
                    400,
                    "InvalidParameter",
                    "A primary private IP cannot be updated with this operation",
                )
            if vnic is not None:
                if vnic["subnetId"] != obj["subnetId"]:
                    return _err(
                        400, "InvalidParameter", "The VNIC must be in the private IP's subnet"
                    )
                obj["vnicId"] = vnic["id"]
                self.server.mutated("assign")
            reply = Reply(200, dict(obj), headers={"etag": secrets.token_hex(8)})
        return Reply(drop=True) if fault == "drop" else reply

    def _delete(self, pid: str) -> Reply:
        with self._lock:
            fault = self.server.faults.take("unassign")
            if fault and fault != "drop":
                return self._fault(fault)
            obj = self._ips.get(pid)
            if obj is None:
                return _err(
                    404,
                    "NotAuthorizedOrNotFound",
                    "Authorization failed or requested resource not found.",
                )
            if obj["isPrimary"]:
                return _err(400, "InvalidParameter", "A primary private IP cannot be deleted")
            del self._ips[pid]
            self.server.mutated("unassign")
        return Reply(drop=True) if fault == "drop" else Reply(204)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.oci", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    args = ap.parse_args(argv)
    fake = OciFake(host=args.host, port=args.port, latency=args.latency)
    serve_forever(
        "oci",
        fake.server,
        {
            "world": fake.seed(),
            "metadata": fake.url + "/opc/v2",
            "federation": fake.url + "/v1/x509",
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
