"""AWS executor: secondary private IPs on ENIs through boto3 (``pip install routerd[aws]``).

Calls: ``AssignPrivateIpAddresses`` (with ``AllowReassignment`` for a move: AWS takes the
address from the other ENI itself, asynchronously, so the executor waits until a read shows
it), ``UnassignPrivateIpAddresses`` and ``DescribeNetworkInterfaces`` filtered by
``addresses.private-ip-address`` (holder) or ``subnet-id`` (inventory). The two writes take
a list of addresses of one ENI, so ``run_many`` moves up to 49 addresses per call, and one
filtered read finds the holders of up to 200. ``check_access``
proves read permission with ``DescribeNetworkInterfaces(DryRun=True)`` (AWS answers
``DryRunOperation`` when allowed, ``UnauthorizedOperation`` when not). The two write
actions take no ``DryRun`` parameter, so their permission is reported as unproven, with
what to grant.

Credentials come from boto3's default chain only (on EC2: the instance profile through
IMDSv2); nothing here accepts a key. botocore's own retries are off: the shared executor
retries, once, with its bounded policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routerd.providers.aws.profile import PROVIDER
from routerd.providers.execution import AccessFinding, CallFailure, Holding
from routerd.providers.executor import Executor

GRANTS = {
    "assign": "ec2:AssignPrivateIpAddresses on the router's ENI",
    "unassign": "ec2:UnassignPrivateIpAddresses on the router's ENI",
    "read": "ec2:DescribeNetworkInterfaces",
}
_RETRYABLE = {
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ServiceUnavailable",
    "Unavailable",
    "InternalError",
    "InternalFailure",
    "IncorrectState",
}
_DENIED = {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure"}


_FILTER_VALUES = 200
"""Values per ``DescribeNetworkInterfaces`` filter that one read sends."""


class AwsExecutor(Executor):
    """Assign, unassign and read ENI secondary private IPs with boto3."""

    provider = PROVIDER
    sdk_loggers = ("botocore", "boto3", "urllib3")
    batch_limit = 49
    """Addresses per Assign/Unassign call: an ENI holds at most 50 private IPv4 addresses
    on any instance type, its primary one of them, so a longer list could never succeed."""

    def __init__(self, config: Any, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import boto3
        from botocore.config import Config

        endpoint = config.checked_endpoint("EC2")
        self._session = boto3.session.Session()
        self._ec2 = self._session.client(
            "ec2",
            region_name=config.region or None,
            endpoint_url=endpoint,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=config.timeout,
                read_timeout=config.timeout,
            ),
        )

    def _describe(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        pages = self._ec2.get_paginator("describe_network_interfaces").paginate(Filters=filters)
        return [eni for page in pages for eni in page.get("NetworkInterfaces", [])]

    def _read_holder(self, address: str) -> Holding | None:
        enis = self._describe([{"Name": "addresses.private-ip-address", "Values": [address]}])
        for eni in enis:
            for entry in eni.get("PrivateIpAddresses", []):
                if entry.get("PrivateIpAddress") == address:
                    return Holding(eni["NetworkInterfaceId"], primary=bool(entry.get("Primary")))
        return None

    def _read_holders(self, addresses: Sequence[str]) -> dict[str, Holding | None]:
        wanted = list(dict.fromkeys(addresses))
        found: dict[str, Holding | None] = dict.fromkeys(wanted)
        for start in range(0, len(wanted), _FILTER_VALUES):
            part = wanted[start : start + _FILTER_VALUES]
            for eni in self._describe([{"Name": "addresses.private-ip-address", "Values": part}]):
                for entry in eni.get("PrivateIpAddresses", []):
                    ip = entry.get("PrivateIpAddress")
                    if ip in found:
                        primary = bool(entry.get("Primary"))
                        found[ip] = Holding(eni["NetworkInterfaceId"], primary=primary)
        return found

    def _read_subnet(self, subnet: str) -> tuple[dict[str, str], frozenset[str]]:
        holders: dict[str, str] = {}
        primary: set[str] = set()
        for eni in self._describe([{"Name": "subnet-id", "Values": [subnet]}]):
            for entry in eni.get("PrivateIpAddresses", []):
                ip = entry["PrivateIpAddress"]
                holders[ip] = eni["NetworkInterfaceId"]
                if entry.get("Primary"):
                    primary.add(ip)
        return holders, frozenset(primary)

    def _write_assign(self, nic: str, address: str, moving_from: Holding | None, key: str) -> str:
        move = moving_from is not None
        self._ec2.assign_private_ip_addresses(
            NetworkInterfaceId=nic, PrivateIpAddresses=[address], AllowReassignment=move
        )
        return f"AssignPrivateIpAddresses {nic} {address}" + (" AllowReassignment" if move else "")

    def _write_unassign(self, nic: str, address: str, holding: Holding, key: str) -> str:
        self._ec2.unassign_private_ip_addresses(
            NetworkInterfaceId=nic, PrivateIpAddresses=[address]
        )
        return f"UnassignPrivateIpAddresses {nic} {address}"

    def _write_assign_many(self, nic: str, moving_from: Mapping[str, Holding | None]) -> str:
        addresses = list(moving_from)
        move = any(held is not None for held in moving_from.values())
        self._ec2.assign_private_ip_addresses(
            NetworkInterfaceId=nic, PrivateIpAddresses=addresses, AllowReassignment=move
        )
        listed = " ".join(addresses)
        return f"AssignPrivateIpAddresses {nic} {listed}" + (" AllowReassignment" if move else "")

    def _write_unassign_many(self, nic: str, addresses: Sequence[str]) -> str:
        self._ec2.unassign_private_ip_addresses(
            NetworkInterfaceId=nic, PrivateIpAddresses=list(addresses)
        )
        return f"UnassignPrivateIpAddresses {nic} {' '.join(addresses)}"

    def _classify(self, exc: BaseException, operation: str) -> CallFailure:
        from botocore import exceptions as bx

        if isinstance(exc, bx.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "ClientError"))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            message = str(err.get("Message", ""))
            if code in _DENIED:
                return CallFailure(code, message, False, GRANTS.get(operation, GRANTS["read"]))
            return CallFailure(code, message, code in _RETRYABLE or status >= 500)
        if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
            return CallFailure(
                "NoCredentials",
                "no AWS credentials from the default chain (instance profile via IMDS)",
                False,
                "attach an IAM instance profile to the router's instance",
            )
        if isinstance(
            exc, bx.EndpointConnectionError | bx.ConnectionClosedError | bx.HTTPClientError
        ):
            return CallFailure(type(exc).__name__, str(exc), True)
        if isinstance(exc, bx.ReadTimeoutError | bx.ConnectTimeoutError):
            return CallFailure("Timeout", str(exc), True)
        return CallFailure(type(exc).__name__, str(exc), False)

    def _check_access(self, nic: str | None) -> list[AccessFinding]:
        from botocore import exceptions as bx

        creds = self._session.get_credentials()
        if creds is None:
            return [
                AccessFinding(
                    "credentials",
                    "fail",
                    "boto3's default chain found no credentials",
                    "attach an IAM instance profile to the router's instance",
                )
            ]
        found = [AccessFinding("credentials", "pass", f"credentials from {creds.method}")]
        try:
            self._ec2.describe_network_interfaces(MaxResults=5, DryRun=True)
        except bx.ClientError as e:
            if e.response.get("Error", {}).get("Code") == "DryRunOperation":
                found.append(
                    AccessFinding("read", "pass", "DryRun DescribeNetworkInterfaces allowed")
                )
            else:
                f = self._classify(e, "read")
                found.append(
                    AccessFinding("read", "fail", f"{f.code}: {f.message}", GRANTS["read"])
                )
        except Exception as e:
            f = self._classify(e, "read")
            found.append(AccessFinding("read", "fail", f"{f.code}: {f.message}", f.grant))
        else:
            found.append(
                AccessFinding("read", "warn", "DryRun DescribeNetworkInterfaces not refused")
            )
        found.append(
            AccessFinding(
                "write",
                "skip",
                "AssignPrivateIpAddresses and UnassignPrivateIpAddresses take no DryRun; "
                "the first action proves the permission",
                f"{GRANTS['assign']} and {GRANTS['unassign']}",
            )
        )
        return found
