"""AWS double: moto in server mode behind a thin layer that enforces EC2's address rules.

moto 5.2 accepts one address on two ENIs, does not move an address on
``AllowReassignment``, accepts an unassign of an address the ENI does not hold and
addresses outside the subnet, and does not filter ``DescribeNetworkInterfaces`` by
secondary address. This layer sits in front of a moto server and fixes exactly that, in
EC2's own Query-API error format (see PROVENANCE.md):

* ``AssignPrivateIpAddresses``: an address on another ENI is ``PrivateIpAddressInUse``
  unless ``AllowReassignment``, which *moves* it (unassigned there first); a primary
  address never moves; an address outside the ENI's subnet is ``InvalidParameterValue``;
  a request of many addresses is checked whole before anything changes (one refused
  address refuses the call and changes nothing);
* ``UnassignPrivateIpAddresses`` of an address the ENI does not hold is
  ``InvalidParameterValue``;
* ``DryRun=true`` answers ``DryRunOperation`` (412) or ``UnauthorizedOperation`` (403);
* the ``addresses.private-ip-address`` / ``private-ip-address`` filters match secondary
  addresses too.

It also serves the instance-identity half of boto3's default credential chain (IMDSv2
token and ``iam/security-credentials``; under ``/instance/<n>/`` as the instance owning
the n-th seeded ENI, so two routers can each read their own metadata) and refuses API
calls not signed with the key it issued. Everything else goes to moto unchanged.

Standalone: ``python -m tests.fakes.aws --host 127.0.0.1 --port 0`` prints its URL.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import logging
import re
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.fakes.common import FakeServer, Reply, Request, serve_forever

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
ROLE = "routerd-router"
MD = "/latest/meta-data"
_ADDRESS_FILTERS = ("addresses.private-ip-address", "private-ip-address")
_CRED = re.compile(r"Credential=([^/]+)/")
_EACH_INSTANCE = re.compile(r"/instance/(\d+)(/latest/.*)")


def _error(status: int, code: str, message: str) -> Reply:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        f"<RequestID>{secrets.token_hex(8)}</RequestID></Response>"
    )
    return Reply(status, body, content_type="text/xml")


def _ok(action: str) -> Reply:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS}">'
        f"<requestId>{secrets.token_hex(8)}</requestId><return>true</return></{action}Response>"
    )
    return Reply(200, body, content_type="text/xml")


class AwsFake:
    """moto server plus the enforcing layer plus an IMDS credential endpoint.

    Attributes:
        access_key, secret_key, session_token: the credentials IMDS hands out (tests scan
            logs and results for them).
        server: the front ``FakeServer`` (faults, applied counts, control API).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        mhost, mport = self._moto.get_host_and_port()
        self.moto_url = f"http://{mhost}:{mport}"
        self._moto_addr = (mhost, mport)
        # moto keeps its backends per process: start every double from an empty account
        reset = http.client.HTTPConnection(mhost, mport, timeout=30)
        reset.request("POST", "/moto-api/reset")
        reset.getresponse().read()
        reset.close()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.region = "us-east-1"
        self.access_key = "ASIA" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.session_token = secrets.token_urlsafe(60)
        self._imds_tokens: set[str] = set()
        self._lock = threading.Lock()
        self.direct = boto3.session.Session(
            aws_access_key_id="direct", aws_secret_access_key="direct", region_name=self.region
        ).client("ec2", endpoint_url=self.moto_url)
        self.server = FakeServer(
            self._handle,
            self.holders,
            host=host,
            port=port,
            latency=latency,
            controls={"/_fake/release": self.release},
        )
        self.instance: tuple[str, str] | None = None
        self.seeded_nics: list[str] = []

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.close()
        self._moto.stop()

    # -- world ------------------------------------------------------------------------

    def seed(
        self,
        cidr: str = "10.0.1.0/24",
        primaries: tuple[str, ...] = ("10.0.1.10", "10.0.1.11", "10.0.1.12"),
    ) -> dict[str, Any]:
        """A VPC, a subnet and one ENI per primary address (default: router A, B, a VM)."""
        net = ipaddress.IPv4Network(cidr)
        vpc_cidr = str(net.supernet(new_prefix=min(16, net.prefixlen)))
        vpc = self.direct.create_vpc(CidrBlock=vpc_cidr)["Vpc"]["VpcId"]
        subnet = self.direct.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]
        nics = [
            self.direct.create_network_interface(SubnetId=subnet["SubnetId"], PrivateIpAddress=ip)[
                "NetworkInterface"
            ]["NetworkInterfaceId"]
            for ip in primaries
        ]
        self.seeded_nics = nics
        return {"subnet": subnet["SubnetId"], "nics": nics, "vm_primary": primaries[-1]}

    def serve_instance(self, eni: str, instance_id: str = "i-0routerd0lab0001") -> None:
        """Answer IMDS instance metadata as the instance whose (only) NIC is ``eni``.

        ``network/interfaces/macs/<mac>/local-ipv4s`` lists the ENI's addresses as moto
        holds them now, primary first, so a routerd reading this metadata sees every
        assignment as soon as the API made it.
        """
        self.instance = (eni, instance_id)

    def release(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Take ``doc["address"]`` off whichever ENI holds it (an operator, not routerd)."""
        address = str(doc["address"])
        with self._lock:
            held = self._lookup(address)
            if held is None or held[1]:
                raise ValueError(f"{address} is not a secondary address of any ENI")
            self.direct.unassign_private_ip_addresses(
                NetworkInterfaceId=held[0], PrivateIpAddresses=[address]
            )
        return {"address": address, "from": held[0]}

    def _enis(self) -> list[dict[str, Any]]:
        return list(self.direct.describe_network_interfaces()["NetworkInterfaces"])

    def holders(self) -> dict[str, str]:
        return {
            e["PrivateIpAddress"]: eni["NetworkInterfaceId"]
            for eni in self._enis()
            for e in eni.get("PrivateIpAddresses", [])
        }

    def _lookup(self, address: str) -> tuple[str, bool] | None:
        return self._held().get(address)

    def _held(self) -> dict[str, tuple[str, bool]]:
        """address -> (ENI, primary), from one read: a request's checks cost one read."""
        return {
            e["PrivateIpAddress"]: (eni["NetworkInterfaceId"], bool(e.get("Primary")))
            for eni in self._enis()
            for e in eni.get("PrivateIpAddresses", [])
        }

    def _subnet_cidr(self, eni_id: str) -> ipaddress.IPv4Network | None:
        enis = [e for e in self._enis() if e["NetworkInterfaceId"] == eni_id]
        if not enis:
            return None
        sub = self.direct.describe_subnets(SubnetIds=[enis[0]["SubnetId"]])["Subnets"][0]
        return ipaddress.IPv4Network(sub["CidrBlock"])

    # -- HTTP -------------------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        if req.path.startswith("/latest/"):
            return self._imds(req, self.instance)
        each = _EACH_INSTANCE.fullmatch(req.path)
        if each:  # /instance/<n>/latest/...: IMDS as the instance owning seeded ENI n
            nics = self.seeded_nics
            n = int(each.group(1))
            instance = (nics[n], f"i-0routerd0lab{n + 1:04d}") if n < len(nics) else None
            return self._imds(replace(req, path=each.group(2)), instance)
        form = {k: v[0] for k, v in parse_qs(req.body.decode(), keep_blank_values=True).items()}
        creds = _CRED.search(req.header("authorization"))
        if creds is None or creds.group(1) != self.access_key:
            return _error(
                401, "AuthFailure", "AWS was not able to validate the provided access credentials"
            )
        if req.header("x-amz-security-token") != self.session_token:
            return _error(
                401, "AuthFailure", "The security token included in the request is invalid"
            )
        action = form.get("Action", "")
        op = {
            "AssignPrivateIpAddresses": "assign",
            "UnassignPrivateIpAddresses": "unassign",
            "DescribeNetworkInterfaces": "read",
        }.get(action, action)
        fault = self.server.faults.take(op)
        if fault == "deny":
            return _error(
                403,
                "UnauthorizedOperation",
                f"You are not authorized to perform this operation. User: "
                f"arn:aws:sts::123456789012:assumed-role/{ROLE}/i-0 is not authorized "
                f"to perform: ec2:{action}",
            )
        if form.get("DryRun") == "true":
            return _error(
                412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."
            )
        if fault == "throttle":
            return _error(503, "RequestLimitExceeded", "Request limit exceeded.")
        if fault == "error":
            return _error(500, "InternalError", "An internal error has occurred")
        if action == "AssignPrivateIpAddresses":
            return self._assign(req, form, drop=fault == "drop")
        if action == "UnassignPrivateIpAddresses":
            return self._unassign(req, form, drop=fault == "drop")
        if action == "DescribeNetworkInterfaces":
            return self._describe(req, form)
        return self._forward(req, req.body)

    def _imds(self, req: Request, instance: tuple[str, str] | None) -> Reply:
        if req.path == "/latest/api/token" and req.method == "PUT":
            if not req.header("x-aws-ec2-metadata-token-ttl-seconds"):
                return Reply(400, "", content_type="text/plain")
            token = secrets.token_urlsafe(32)
            self._imds_tokens.add(token)
            return Reply(200, token, content_type="text/plain")
        if req.header("x-aws-ec2-metadata-token") not in self._imds_tokens:
            return Reply(401, "", content_type="text/plain")
        if req.path.startswith(MD) and not req.path.startswith(MD + "/iam/"):
            return self._instance_metadata(req.path[len(MD) :], instance)
        base = "/latest/meta-data/iam/security-credentials/"
        if req.path == base:
            return Reply(200, ROLE, content_type="text/plain")
        if req.path == base + ROLE:
            now = datetime.now(UTC)
            return Reply(
                200,
                {
                    "Code": "Success",
                    "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": self.access_key,
                    "SecretAccessKey": self.secret_key,
                    "Token": self.session_token,
                    "Expiration": (now + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )
        return Reply(404, "", content_type="text/plain")

    def _instance_metadata(self, path: str, instance: tuple[str, str] | None) -> Reply:
        text = "text/plain"
        if instance is None:
            return Reply(404, "", content_type=text)
        eni_id, instance_id = instance
        enis = [e for e in self._enis() if e["NetworkInterfaceId"] == eni_id]
        if path == "/instance-id":
            return Reply(200, instance_id, content_type=text)
        if not enis:
            return Reply(404, "", content_type=text)
        eni = enis[0]
        mac = str(eni.get("MacAddress", "02:00:00:00:00:01")).lower()
        base = f"/network/interfaces/macs/{mac}"
        ips = sorted(
            eni.get("PrivateIpAddresses", []),
            key=lambda e: (not e.get("Primary"), e["PrivateIpAddress"]),
        )
        answers = {
            "/network/interfaces/macs/": f"{mac}/",
            f"{base}/interface-id": eni_id,
            f"{base}/local-ipv4s": "\n".join(e["PrivateIpAddress"] for e in ips),
            f"{base}/device-number": "0",
        }
        if path not in answers:
            return Reply(404, "", content_type=text)
        return Reply(200, answers[path], content_type=text)

    def _assign(self, req: Request, form: dict[str, str], *, drop: bool) -> Reply:
        eni = form.get("NetworkInterfaceId", "")
        wanted = [v for k, v in sorted(form.items()) if k.startswith("PrivateIpAddress.")]
        move = form.get("AllowReassignment") == "true"
        with self._lock:
            cidr = self._subnet_cidr(eni)
            if cidr is None:
                return _error(
                    400,
                    "InvalidNetworkInterfaceID.NotFound",
                    f"The networkInterface ID '{eni}' does not exist",
                )
            holders = self._held()
            taking: dict[str, list[str]] = {}
            for ip in wanted:
                if ipaddress.IPv4Address(ip) not in cidr:
                    return _error(
                        400,
                        "InvalidParameterValue",
                        f"Address {ip} does not fall within the subnet's address range",
                    )
                held = holders.get(ip)
                if held is None:
                    continue
                if held[0] == eni:
                    return _error(
                        400, "InvalidParameterValue", f"Address {ip} is already assigned to {eni}"
                    )
                if held[1]:
                    return _error(
                        400,
                        "InvalidParameterValue",
                        f"Address {ip} is the primary address of {held[0]}",
                    )
                if not move:
                    return _error(
                        400, "PrivateIpAddressInUse", f"Address {ip} is in use by {held[0]}"
                    )
                taking.setdefault(held[0], []).append(ip)
            for eni_id, ips in taking.items():  # checked all first: a refusal changes nothing
                self.direct.unassign_private_ip_addresses(
                    NetworkInterfaceId=eni_id, PrivateIpAddresses=ips
                )
            reply = self._forward(req, req.body)
            if reply.status == 200:
                self.server.mutated("assign")
        return Reply(drop=True) if drop else reply

    def _unassign(self, req: Request, form: dict[str, str], *, drop: bool) -> Reply:
        eni = form.get("NetworkInterfaceId", "")
        wanted = [v for k, v in sorted(form.items()) if k.startswith("PrivateIpAddress.")]
        with self._lock:
            holders = self._held()
            for ip in wanted:
                held = holders.get(ip)
                if held is None or held[0] != eni:
                    return _error(
                        400,
                        "InvalidParameterValue",
                        f"Some of the specified addresses are not assigned to interface {eni}",
                    )
                if held[1]:
                    return _error(
                        400,
                        "InvalidParameterValue",
                        f"Address {ip} is the primary address of {eni}",
                    )
            reply = self._forward(req, req.body)
            if reply.status == 200:
                self.server.mutated("unassign")
        return Reply(drop=True) if drop else reply

    def _describe(self, req: Request, form: dict[str, str]) -> Reply:
        wanted: set[str] = set()
        kept: list[tuple[str, str]] = []
        index = 0
        names = {k: v for k, v in form.items() if re.fullmatch(r"Filter\.\d+\.Name", k)}
        for name_key, name in sorted(names.items()):
            n = name_key.split(".")[1]
            values = [v for k, v in form.items() if k.startswith(f"Filter.{n}.Value.")]
            if name in _ADDRESS_FILTERS:
                wanted.update(values)
                continue
            index += 1
            kept.append((f"Filter.{index}.Name", name))
            kept += [(f"Filter.{index}.Value.{i + 1}", v) for i, v in enumerate(values)]
        rest = [(k, v) for k, v in form.items() if not k.startswith("Filter.")]
        reply = self._forward(req, urlencode(rest + kept).encode())
        if not wanted or reply.status != 200:
            return reply
        root = ET.fromstring(reply.encoded())
        items = root.find(f"{{{NS}}}networkInterfaceSet")
        for item in list(items if items is not None else []):
            ips = {e.text for e in item.iter(f"{{{NS}}}privateIpAddress")}
            if not ips & wanted and items is not None:
                items.remove(item)
        ET.register_namespace("", NS)
        return Reply(
            200, ET.tostring(root, xml_declaration=True, encoding="UTF-8"), content_type="text/xml"
        )

    def _forward(self, req: Request, body: bytes) -> Reply:
        conn = http.client.HTTPConnection(*self._moto_addr, timeout=30)
        headers = {k: v for k, v in req.headers.items() if k not in ("content-length", "host")}
        headers["Content-Length"] = str(len(body))
        try:
            conn.request(req.method, req.path or "/", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            ctype = resp.getheader("Content-Type", "text/xml")
        finally:
            conn.close()
        return Reply(resp.status, data, content_type=ctype)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.aws", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    ap.add_argument("--subnet", default="10.0.1.0/24", help="the seeded subnet's CIDR")
    ap.add_argument(
        "--primaries",
        default="10.0.1.10,10.0.1.11,10.0.1.12",
        help="comma-separated primary addresses, one ENI each",
    )
    ap.add_argument(
        "--instance-nic",
        type=int,
        default=None,
        metavar="INDEX",
        help="serve IMDS instance metadata as the instance owning this ENI (0-based)",
    )
    args = ap.parse_args(argv)
    fake = AwsFake(host=args.host, port=args.port, latency=args.latency)
    world = fake.seed(args.subnet, tuple(args.primaries.split(",")))
    if args.instance_nic is not None:
        fake.serve_instance(world["nics"][args.instance_nic])
    serve_forever(
        "aws",
        fake.server,
        {"world": world, "region": fake.region, "imds": fake.url, "moto": fake.moto_url},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
