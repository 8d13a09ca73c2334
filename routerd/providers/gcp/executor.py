"""GCP executor: alias IP ranges through google-cloud-compute (``routerd[gcp]``).

An address is held as the alias IP range ``<address>/32`` of an instance's network
interface. Writes are ``instances.updateNetworkInterface`` with the interface's
``fingerprint`` (optimistic concurrency: a concurrent change makes GCE answer ``412
conditionNotMet``, classified retryable, and the retry re-reads the interface) and a
``requestId`` derived from the idempotency key (GCE ignores a repeated request id); the
returned zone operation is awaited with ``zoneOperations.wait``.

The interface's alias ranges are written whole, so ``run_many`` adds (or removes) all of a
run's addresses of one interface in one update, and one ``aggregatedList`` finds all their
holders.

**Reassignment is two operations on GCP**: GCE refuses an alias range another interface
holds, so a move removes the range there, then adds it here; in between the address is on
no interface. Holder and inventory reads use ``instances.aggregatedList`` (every zone of the
project: a subnet is regional). ``check_access`` asks ``instances.testIamPermissions``.

Credentials come from ``google.auth.default()`` (on GCE: the instance's service account
through the metadata server). google-api-core retries are off (``retry=None``): the shared
executor retries with its bounded policy.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from routerd.providers.execution import AccessFinding, CallFailure, Holding
from routerd.providers.executor import Executor
from routerd.providers.gcp.profile import PROVIDER

SCOPE = "https://www.googleapis.com/auth/compute"
PERMISSIONS = ("compute.instances.get", "compute.instances.updateNetworkInterface")
GRANT = (
    "compute.instances.get, compute.instances.list, compute.instances.updateNetworkInterface, "
    "compute.zoneOperations.get and compute.subnetworks.use to the router's service account "
    "(roles/compute.networkAdmin includes them)"
)
_REQUEST_NS = uuid.UUID("5f1d7a52-3c55-4b8e-9a43-0c5b7f2a9d61")


class OperationFailed(Exception):
    """A zone operation that finished with errors."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _batch_key(addresses: Mapping[str, Any] | Sequence[str]) -> str:
    """The request-id seed of a batch: its addresses (each still has its own key)."""
    return "batch:" + ",".join(sorted(addresses))


def _tail(url: str, marker: str) -> str:
    """``https://.../projects/p/regions/r/subnetworks/s`` -> ``projects/p/.../s``."""
    at = url.find(marker)
    return url[at:] if at >= 0 else url


class GcpExecutor(Executor):
    """Add and remove /32 alias IP ranges with google-cloud-compute."""

    provider = PROVIDER
    batch_limit = 100
    """Addresses per ``updateNetworkInterface``: the most alias IP ranges GCE allows on one
    interface (a longer list fails, and each address then goes alone)."""
    sdk_loggers = ("google", "urllib3")

    def __init__(self, config: Any, *, project: str, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import google.auth
        from google.api_core.client_options import ClientOptions
        from google.cloud import compute_v1

        endpoint = config.checked_endpoint("Compute Engine")
        self._credentials, _ = google.auth.default(scopes=[SCOPE])
        options = ClientOptions(api_endpoint=endpoint) if endpoint else None
        self._instances = compute_v1.InstancesClient(
            credentials=self._credentials, client_options=options
        )
        self._operations = compute_v1.ZoneOperationsClient(
            credentials=self._credentials, client_options=options
        )
        self._compute = compute_v1
        self.project = project

    def _every_interface(self) -> list[tuple[str, Any]]:
        out = []
        pager = self._instances.aggregated_list(
            project=self.project, retry=None, timeout=self.config.timeout
        )
        for _, scoped in pager:
            for inst in scoped.instances:
                zone = inst.zone.rsplit("/", 1)[-1]
                for ni in inst.network_interfaces:
                    path = f"projects/{self.project}/zones/{zone}/instances/{inst.name}"
                    out.append((f"{path}/networkInterfaces/{ni.name}", ni))
        return out

    def _read_holder(self, address: str) -> Holding | None:
        return self._read_holders([address])[address]

    def _read_holders(self, addresses: Sequence[str]) -> dict[str, Holding | None]:
        found: dict[str, Holding | None] = dict.fromkeys(addresses)
        ips = {a: ipaddress.IPv4Address(a) for a in addresses}
        for nic, ni in self._every_interface():
            nets = [ipaddress.ip_network(r.ip_cidr_range, strict=False) for r in ni.alias_ip_ranges]
            for address, ip in ips.items():
                if found[address] is not None:
                    continue
                if ni.network_i_p == address:
                    found[address] = Holding(nic, primary=True)
                    continue
                net = next((n for n in nets if ip in n), None)
                if net is not None:
                    found[address] = Holding(nic, partial=net.prefixlen != 32)
        return found

    def _read_subnet(self, subnet: str) -> tuple[dict[str, str], frozenset[str]]:
        want = _tail(subnet, "projects/")
        holders: dict[str, str] = {}
        primary: set[str] = set()
        for nic, ni in self._every_interface():
            if _tail(ni.subnetwork, "projects/") != want:
                continue
            holders[ni.network_i_p] = nic
            primary.add(ni.network_i_p)
            for rng in ni.alias_ip_ranges:
                net = ipaddress.ip_network(rng.ip_cidr_range, strict=False)
                if net.prefixlen == 32:
                    holders[str(net.network_address)] = nic
        return holders, frozenset(primary)

    def _update(self, nic: str, addresses: Sequence[str], *, add: bool, key: str) -> str:
        p = self.provider.parse_nic_ref(nic)
        inst = self._instances.get(
            project=p["project"],
            zone=p["zone"],
            instance=p["instance"],
            retry=None,
            timeout=self.config.timeout,
        )
        ni = next((n for n in inst.network_interfaces if n.name == p["nic"]), None)
        if ni is None:
            raise OperationFailed(
                "NOT_FOUND", f"{p['instance']} has no network interface {p['nic']}"
            )
        wanted = [f"{a}/32" for a in addresses]
        ranges = [r for r in ni.alias_ip_ranges if r.ip_cidr_range not in wanted]
        if add:
            ranges += [self._compute.AliasIpRange(ip_cidr_range=rng) for rng in wanted]
        step = "add" if add else "remove"
        request_id = str(uuid.uuid5(_REQUEST_NS, f"{key}/{nic}/{step}/{ni.fingerprint}"))
        op = self._instances.update_network_interface_unary(
            request={
                "project": p["project"],
                "zone": p["zone"],
                "instance": p["instance"],
                "network_interface": p["nic"],
                "network_interface_resource": self._compute.NetworkInterface(
                    alias_ip_ranges=ranges, fingerprint=ni.fingerprint
                ),
                "request_id": request_id,
            },
            retry=None,
            timeout=self.config.timeout,
        )
        self._wait(p["project"], p["zone"], op)
        sign = "+" if add else "-"
        listed = " ".join(f"{sign}{rng}" for rng in wanted)
        return f"updateNetworkInterface {p['instance']}/{p['nic']} {listed}"

    def _wait(self, project: str, zone: str, op: Any) -> None:
        done = self._compute.Operation.Status.DONE
        for _ in range(60):
            if op.status == done:
                break
            op = self._operations.wait(
                project=project,
                zone=zone,
                operation=op.name,
                retry=None,
                timeout=self.config.timeout,
            )
        errors = list(op.error.errors) if op.error else []
        if errors:
            raise OperationFailed(errors[0].code, errors[0].message)

    def _write_assign(self, nic: str, address: str, moving_from: Holding | None, key: str) -> str:
        calls = []
        if moving_from is not None:
            calls.append(self._update(moving_from.nic, [address], add=False, key=key))
        calls.append(self._update(nic, [address], add=True, key=key))
        return "; ".join(calls)

    def _write_unassign(self, nic: str, address: str, holding: Holding, key: str) -> str:
        return self._update(nic, [address], add=False, key=key)

    def _write_assign_many(self, nic: str, moving_from: Mapping[str, Holding | None]) -> str:
        key = _batch_key(moving_from)
        taken: dict[str, list[str]] = {}
        for ip, held in moving_from.items():
            if held is not None:
                taken.setdefault(held.nic, []).append(ip)
        calls = [self._update(old, ips, add=False, key=key) for old, ips in taken.items()]
        calls.append(self._update(nic, list(moving_from), add=True, key=key))
        return "; ".join(calls)

    def _write_unassign_many(self, nic: str, addresses: Sequence[str]) -> str:
        return self._update(nic, addresses, add=False, key=_batch_key(addresses))

    def _classify(self, exc: BaseException, operation: str) -> CallFailure:
        from google.api_core import exceptions as gx
        from google.auth import exceptions as ax

        if isinstance(exc, OperationFailed):
            return CallFailure(
                exc.code, exc.message, exc.code in ("RESOURCE_NOT_READY", "INTERNAL_ERROR")
            )
        if isinstance(exc, gx.PermissionDenied | gx.Forbidden | gx.Unauthorized):
            return CallFailure(type(exc).__name__, exc.message, False, GRANT)
        if isinstance(exc, gx.PreconditionFailed):
            return CallFailure("conditionNotMet", exc.message, True)
        if isinstance(exc, gx.TooManyRequests | gx.ServerError | gx.ServiceUnavailable):
            return CallFailure(type(exc).__name__, exc.message, True)
        if isinstance(exc, gx.GoogleAPICallError):
            return CallFailure(type(exc).__name__, exc.message, False)
        if isinstance(exc, ax.DefaultCredentialsError | ax.RefreshError):
            return CallFailure(
                "NoCredentials",
                f"no Google credentials from the default chain: {type(exc).__name__}",
                False,
                "give the router instance a service account",
            )
        name = type(exc).__name__
        if "Connection" in name or "Timeout" in name or isinstance(exc, ax.TransportError):
            return CallFailure(name, str(exc).splitlines()[0] if str(exc) else name, True)
        return CallFailure(name, str(exc), False)

    def _check_access(self, nic: str | None) -> list[AccessFinding]:
        import google.auth.transport.requests

        try:
            # google-auth leaves Credentials.refresh unannotated.
            self._credentials.refresh(  # type: ignore[no-untyped-call]
                google.auth.transport.requests.Request()
            )
        except Exception as e:
            f = self._classify(e, "credentials")
            return [AccessFinding("credentials", "fail", f.message, f.grant)]
        found = [AccessFinding("credentials", "pass", "access token from google.auth.default()")]
        found.append(self._probe_read())
        if nic is None:
            found.append(AccessFinding("write", "skip", "no NIC given for testIamPermissions"))
            return found
        p = self.provider.parse_nic_ref(nic)
        try:
            granted = set(
                self._instances.test_iam_permissions(
                    project=p["project"],
                    zone=p["zone"],
                    resource=p["instance"],
                    test_permissions_request_resource=self._compute.TestPermissionsRequest(
                        permissions=list(PERMISSIONS)
                    ),
                    retry=None,
                    timeout=self.config.timeout,
                ).permissions
            )
        except Exception as e:
            f = self._classify(e, "write")
            return [*found, AccessFinding("write", "fail", f"{f.code}: {f.message}", GRANT)]
        missing = [perm for perm in PERMISSIONS if perm not in granted]
        if missing:
            return [*found, AccessFinding("write", "fail", f"missing {', '.join(missing)}", GRANT)]
        return [*found, AccessFinding("write", "pass", f"{', '.join(PERMISSIONS)} granted")]

    def _probe_read(self) -> AccessFinding:
        try:
            self._every_interface()
        except Exception as e:
            f = self._classify(e, "read")
            return AccessFinding("read", "fail", f"{f.code}: {f.message}", GRANT)
        return AccessFinding("read", "pass", "instances.aggregatedList answered")
