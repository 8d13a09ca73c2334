"""OCI executor: secondary private IPs on VNICs through the ``oci`` SDK (``routerd[oci]``).

Calls (Core Services API 20160918, ``VirtualNetworkClient``):

* holder: ``ListPrivateIps(subnetId, ipAddress)`` - OCI looks an address up per subnet,
  so the executor needs the subnet (``ExecutorConfig.subnet``);
* assign: ``CreatePrivateIp(vnicId, ipAddress)`` with ``opc-retry-token`` derived from the
  idempotency key (OCI replays the first answer for a repeated token, server side);
* reassign: ``UpdatePrivateIp(privateIpId, vnicId)`` on the existing private-IP object,
  which OCI documents as *the* way to move a secondary private IP to another VNIC in the
  same subnet: one call, no moment without a holder (the CLI's
  ``--unassign-if-already-assigned`` does the same);
* unassign: ``DeletePrivateIp(privateIpId)``; inventory: ``ListPrivateIps(subnetId)``.

Credentials: instance principals only (``InstancePrincipalsSecurityTokenSigner``: the
instance certificate from the metadata service, exchanged for a session token at the
region's auth service). The SDK's own retries and its circuit breaker are off: the shared
executor retries with its bounded policy, and a breaker that refuses calls for a while
after failures would hide the provider's real state from it. OCI answers ``404
NotAuthorizedOrNotFound`` both for a missing object and a missing permission, so that
code is reported as "not found, or not allowed".
"""

from __future__ import annotations

import hashlib
from typing import Any

from routerd.providers.execution import AccessFinding, CallFailure, Holding
from routerd.providers.executor import Executor
from routerd.providers.oci.profile import PROVIDER

POLICY = (
    "an IAM policy for the router's dynamic group: 'Allow dynamic-group <routers> to manage "
    "private-ips in compartment <c>', '... to use vnics in compartment <c>' and '... to use "
    "subnets in compartment <c>'"
)
_RETRYABLE_CODES = {"TooManyRequests", "InternalServerError", "ServiceUnavailable", "Conflict"}


def retry_token(key: str, step: str) -> str:
    """An ``opc-retry-token`` (at most 64 characters) derived from the idempotency key."""
    return hashlib.sha256(f"{key}\0{step}".encode()).hexdigest()[:48]


class OciExecutor(Executor):
    """Create, move and delete private-IP objects with the oci SDK."""

    provider = PROVIDER
    sdk_loggers = ("oci", "urllib3")

    def __init__(self, config: Any, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import oci

        endpoint = config.checked_endpoint("OCI Core Services")
        self._signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner(
            federation_endpoint=config.auth_endpoint or None,
            federation_client_retry_strategy=oci.retry.NoneRetryStrategy(),
            federation_client_circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
        )
        self._models = oci.core.models
        self._client = oci.core.VirtualNetworkClient(
            {"region": config.region or self._signer.region},
            signer=self._signer,
            service_endpoint=endpoint,
            retry_strategy=oci.retry.NoneRetryStrategy(),
            circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
            timeout=(config.timeout, config.timeout),
        )

    def _subnet(self) -> str:
        if not self.config.subnet:
            from routerd.core.errors import ProviderError

            raise ProviderError("OCI looks addresses up per subnet: set the executor's subnet")
        return self.config.subnet

    def _list(self, **filters: Any) -> list[Any]:
        # paged by hand: oci.pagination's helpers retry with the SDK's default strategy
        out: list[Any] = []
        page = None
        while True:
            resp = self._client.list_private_ips(**filters, **({"page": page} if page else {}))
            out.extend(resp.data)
            page = resp.next_page
            if not page:
                return out

    def _read_holder(self, address: str) -> Holding | None:
        for pip in self._list(subnet_id=self._subnet(), ip_address=address):
            if pip.ip_address == address and pip.vnic_id:
                return Holding(pip.vnic_id, primary=bool(pip.is_primary), ref=pip.id)
        return None

    def _read_subnet(self, subnet: str) -> tuple[dict[str, str], frozenset[str]]:
        holders: dict[str, str] = {}
        primary: set[str] = set()
        for pip in self._list(subnet_id=subnet):
            if not pip.vnic_id:
                continue
            holders[pip.ip_address] = pip.vnic_id
            if pip.is_primary:
                primary.add(pip.ip_address)
        return holders, frozenset(primary)

    def _write_assign(self, nic: str, address: str, moving_from: Holding | None, key: str) -> str:
        if moving_from is not None and moving_from.ref:
            self._client.update_private_ip(
                moving_from.ref, self._models.UpdatePrivateIpDetails(vnic_id=nic)
            )
            return f"UpdatePrivateIp {moving_from.ref} vnicId={nic}"
        self._client.create_private_ip(
            self._models.CreatePrivateIpDetails(vnic_id=nic, ip_address=address),
            opc_retry_token=retry_token(key, "create"),
        )
        return f"CreatePrivateIp {nic} {address}"

    def _write_unassign(self, nic: str, address: str, holding: Holding, key: str) -> str:
        ref = holding.ref
        if not ref:
            held = self._read_holder(address)
            ref = held.ref if held is not None else ""
        if not ref:
            return f"{address} already gone"
        self._client.delete_private_ip(ref)
        return f"DeletePrivateIp {ref}"

    def _classify(self, exc: BaseException, operation: str) -> CallFailure:
        import oci

        if isinstance(exc, oci.exceptions.ServiceError):
            status = int(exc.status or 0)
            code = str(exc.code or status)
            message = str(exc.message or "")
            if status in (401, 403) or code in ("NotAuthenticated", "NotAuthorized"):
                return CallFailure(code, message, False, POLICY)
            if status == 404 and code == "NotAuthorizedOrNotFound":
                return CallFailure(code, f"not found, or not allowed: {message}", False, POLICY)
            retryable = status == 429 or status >= 500 or code in _RETRYABLE_CODES
            return CallFailure(code, message, retryable)
        if isinstance(exc, oci.exceptions.RequestException | oci.exceptions.ConnectTimeout):
            return CallFailure(type(exc).__name__, str(exc).splitlines()[0], True)
        name = type(exc).__name__
        if "Connection" in name or "Timeout" in name:
            return CallFailure(name, str(exc).splitlines()[0] if str(exc) else name, True)
        return CallFailure(name, str(exc), False)

    def _check_access(self, nic: str | None) -> list[AccessFinding]:
        try:
            self._signer.refresh_security_token()
        except Exception as e:
            return [
                AccessFinding(
                    "credentials",
                    "fail",
                    f"no instance-principal session token: {type(e).__name__}",
                    "run the router on an OCI instance in a dynamic group",
                )
            ]
        found = [AccessFinding("credentials", "pass", "instance-principal session token issued")]
        try:
            if nic is not None:
                self._client.get_vnic(nic)
            else:
                self._list(subnet_id=self._subnet())
        except Exception as e:
            f = self._classify(e, "read")
            found.append(AccessFinding("read", "fail", f"{f.code}: {f.message}", f.grant or POLICY))
        else:
            found.append(AccessFinding("read", "pass", "VNIC and private IPs readable"))
        found.append(
            AccessFinding(
                "write",
                "skip",
                "OCI has no dry run for private-IP writes; the first action proves it",
                POLICY,
            )
        )
        return found
