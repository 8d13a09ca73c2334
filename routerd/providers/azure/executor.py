"""Azure executor: secondary ipConfigurations on NICs through azure-mgmt-network.

``pip install routerd[azure]``. A NIC is one ARM resource: adding or removing an address
is a read of the NIC, an edit of its ``ipConfigurations`` and a ``begin_create_or_update``
(a PUT and a long-running operation) of the whole NIC. The secondary ipConfig is named
``routerd-<address with dashes>``, static, in the subnet of the NIC's primary ipConfig.

**Reassignment is not atomic on Azure**: ARM refuses an address another NIC holds, so a
move is two operations, remove there, then add here. Between them the address is on no
NIC (packets to it are dropped), and if the add fails the address stays unassigned: the
result says so and its undo puts it back on the old NIC.

Holder and inventory reads list every NIC of the subscription (``list_all``) and match
the address or subnet: ARM has no "who holds this IP" query. Because a NIC is updated whole,
``run_many`` adds (or removes) all of a run's addresses of one NIC in one PUT, and one
listing finds all their holders; a batched move removes the addresses from each old NIC in
one PUT per NIC first. Credentials come from
``DefaultAzureCredential`` (on a VM: the managed identity through IMDS) with the
developer-tool credentials that shell out to a CLI excluded. azure-core's retries are off:
the shared executor retries with its bounded policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routerd.providers.azure.action import ip_config_name
from routerd.providers.azure.profile import PROVIDER
from routerd.providers.execution import AccessFinding, CallFailure, Holding
from routerd.providers.executor import Executor

ROLE = (
    "the 'Network Contributor' role (or Microsoft.Network/networkInterfaces/read, "
    "Microsoft.Network/networkInterfaces/write and "
    "Microsoft.Network/virtualNetworks/subnets/join/action) to the router's managed identity "
    "on the resource group of the NICs and the virtual network"
)
_RETRYABLE_CODES = {"AnotherOperationInProgress", "RetryableError", "Conflict", "TooManyRequests"}
_DENIED_CODES = {"AuthorizationFailed", "LinkedAuthorizationFailed", "InvalidAuthenticationToken"}


class AzureExecutor(Executor):
    """Add and remove NIC ipConfigurations with azure-mgmt-network."""

    provider = PROVIDER
    sdk_loggers = ("azure", "msal", "urllib3")
    batch_limit = 255
    """Addresses per NIC update: a NIC holds at most 256 ipConfigurations, its primary one."""

    def __init__(self, config: Any, *, subscription: str, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        from azure.core.pipeline.policies import SansIOHTTPPolicy
        from azure.identity import DefaultAzureCredential
        from azure.mgmt.network import NetworkManagementClient

        endpoint = config.checked_endpoint("Azure Resource Manager")
        self._credential = DefaultAzureCredential(
            exclude_cli_credential=True,
            exclude_powershell_credential=True,
            exclude_developer_cli_credential=True,
            exclude_visual_studio_code_credential=True,
        )
        extra: dict[str, Any] = {}
        if endpoint and endpoint.lower().startswith("http://"):

            class _AllowHttp(SansIOHTTPPolicy):  # type: ignore[type-arg]
                def on_request(self, request: Any) -> None:
                    request.context["enforce_https"] = False

            extra["per_call_policies"] = [_AllowHttp()]
        self._client = NetworkManagementClient(
            self._credential,
            subscription,
            base_url=endpoint or "https://management.azure.com",
            credential_scopes=["https://management.azure.com/.default"],
            retry_total=0,
            connection_timeout=config.timeout,
            read_timeout=config.timeout,
            polling_interval=config.poll_interval,
            **extra,
        )
        self._nics = self._client.network_interfaces

    def _all_nics(self) -> list[Any]:
        return list(self._nics.list_all())

    def _read_holder(self, address: str) -> Holding | None:
        for nic in self._all_nics():
            for cfg in nic.ip_configurations or []:
                if cfg.private_ip_address == address:
                    return Holding(str(nic.id), primary=bool(cfg.primary), ref=str(cfg.name))
        return None

    def _read_holders(self, addresses: Sequence[str]) -> dict[str, Holding | None]:
        found: dict[str, Holding | None] = dict.fromkeys(addresses)
        for nic in self._all_nics():
            for cfg in nic.ip_configurations or []:
                ip = cfg.private_ip_address
                if ip in found:
                    found[ip] = Holding(str(nic.id), primary=bool(cfg.primary), ref=str(cfg.name))
        return found

    def _read_subnet(self, subnet: str) -> tuple[dict[str, str], frozenset[str]]:
        holders: dict[str, str] = {}
        primary: set[str] = set()
        for nic in self._all_nics():
            for cfg in nic.ip_configurations or []:
                sub = (cfg.subnet.id if cfg.subnet else "") or ""
                if sub.lower() != subnet.lower() or not cfg.private_ip_address:
                    continue
                holders[cfg.private_ip_address] = str(nic.id)
                if cfg.primary:
                    primary.add(cfg.private_ip_address)
        return holders, frozenset(primary)

    def _get(self, nic: str) -> tuple[dict[str, str], Any]:
        parts = self.provider.parse_nic_ref(nic)
        return parts, self._nics.get(parts["resourceGroup"], parts["nic"])

    def _put(self, parts: dict[str, str], body: Any) -> None:
        self._nics.begin_create_or_update(parts["resourceGroup"], parts["nic"], body).result()

    def _write_assign(self, nic: str, address: str, moving_from: Holding | None, key: str) -> str:
        return self._write_assign_many(nic, {address: moving_from})

    def _write_assign_many(self, nic: str, moving_from: Mapping[str, Holding | None]) -> str:
        from azure.mgmt.network.models import NetworkInterfaceIPConfiguration, Subnet

        calls = []
        taken: dict[str, list[str]] = {}
        for ip, held in moving_from.items():
            if held is not None:
                taken.setdefault(held.nic, []).append(ip)
        for old, ips in taken.items():  # not atomic: remove there (one PUT per NIC), then add
            calls.append(self._remove(old, ips))
        parts, body = self._get(nic)
        primary = next((c for c in body.ip_configurations if c.primary), body.ip_configurations[0])
        have = {c.private_ip_address for c in body.ip_configurations}
        added = [ip for ip in moving_from if ip not in have]
        for address in added:
            body.ip_configurations.append(
                # The SDK's typed overloads omit the flattened properties its models still
                # accept as keywords (they land under ``properties``); the keywords work on
                # every version.
                NetworkInterfaceIPConfiguration(  # type: ignore[call-overload]
                    name=ip_config_name(address),
                    private_ip_address=address,
                    private_ip_allocation_method="Static",
                    subnet=Subnet(id=primary.subnet.id),
                    primary=False,
                )
            )
        self._put(parts, body)
        configs = " ".join(f"{ip_config_name(ip)} ({ip})" for ip in added)
        calls.append(f"PUT {parts['nic']} +ipConfig {configs}")
        return "; ".join(calls)

    def _remove(self, nic: str, addresses: Sequence[str]) -> str:
        parts, body = self._get(nic)
        gone = set(addresses)
        keep = [c for c in body.ip_configurations if c.private_ip_address not in gone]
        if len(keep) == len(body.ip_configurations):
            return f"{' '.join(addresses)} already gone from {parts['nic']}"
        body.ip_configurations = keep
        self._put(parts, body)
        return f"PUT {parts['nic']} -ipConfig ({' '.join(addresses)})"

    def _write_unassign(self, nic: str, address: str, holding: Holding, key: str) -> str:
        return self._remove(nic, [address])

    def _write_unassign_many(self, nic: str, addresses: Sequence[str]) -> str:
        return self._remove(nic, addresses)

    def _classify(self, exc: BaseException, operation: str) -> CallFailure:
        from azure.core import exceptions as ax

        if isinstance(exc, ax.ClientAuthenticationError):
            return CallFailure(
                "CredentialUnavailable",
                "no Azure credential from the default chain (managed identity via IMDS): "
                + str(exc.message if hasattr(exc, "message") else exc).splitlines()[0],
                False,
                "assign a managed identity to the router VM",
            )
        if isinstance(exc, ax.HttpResponseError):
            status = exc.status_code or 0
            code = (exc.error.code if exc.error is not None else None) or str(status)
            message = (exc.error.message if exc.error is not None else None) or exc.reason or ""
            retry_after = _retry_after(exc)
            if status == 403 or code in _DENIED_CODES:
                return CallFailure(code, message, False, ROLE)
            retryable = status == 429 or status >= 500 or code in _RETRYABLE_CODES
            return CallFailure(code, message, retryable, retry_after=retry_after)
        if isinstance(exc, ax.ServiceRequestError | ax.ServiceResponseError):
            return CallFailure(type(exc).__name__, str(exc).splitlines()[0], True)
        return CallFailure(type(exc).__name__, str(exc), False)

    def _check_access(self, nic: str | None) -> list[AccessFinding]:
        try:
            self._credential.get_token("https://management.azure.com/.default")
        except Exception as e:
            f = self._classify(e, "credentials")
            return [AccessFinding("credentials", "fail", f.message, f.grant)]
        found = [AccessFinding("credentials", "pass", "token from DefaultAzureCredential")]
        try:
            if nic is not None:
                self._get(nic)
            else:
                next(iter(self._nics.list_all()), None)
        except Exception as e:
            f = self._classify(e, "read")
            found.append(AccessFinding("read", "fail", f"{f.code}: {f.message}", f.grant or ROLE))
        else:
            found.append(AccessFinding("read", "pass", "network interfaces readable"))
        found.append(
            AccessFinding(
                "write",
                "skip",
                "Azure Resource Manager has no dry run for NIC writes; the first action proves it",
                ROLE,
            )
        )
        return found


def _retry_after(exc: Any) -> float | None:
    try:
        value = exc.response.headers.get("Retry-After")
        return float(value) if value else None
    except (AttributeError, ValueError):
        return None
