"""The one port every dataplane backend implements (``sim`` and ``linux``).

The engine never knows which backend it drives. It asks the backend to *observe* the host,
*apply* a list of changes, and *verify* delivery paths; the backend calls ``on_change``
when it notices drift (a netlink event, a fault injected into the simulation) so the
engine can react within a second instead of waiting for the periodic resync, and
``drain`` then says *what* drifted, so the engine's next pass handles those keys and not
the whole host.

Contract (tested for both backends):

* ``apply`` is idempotent; EEXIST on add and ENOENT on remove count as success.
* ``apply`` never stops at the first failure: every change gets its own ``ChangeResult``
  so one failing claim never blocks the others.
* A backend only removes objects it owns (route protocol, table comment, its own records);
  foreign objects are never touched.
* ``close(cleanup=False)`` leaves the dataplane in place (traffic keeps flowing across a
  daemon restart); ``close(cleanup=True)`` removes everything routerd owns.
* ``drain`` names every key whose object changed behind routerd's back since the last
  drain, except the ``POLLED_KINDS`` (no host reports those changes: the engine reads them
  on every pass); when a backend cannot tell (lost events, a restart), it says
  ``everything`` and the engine runs a full pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from routerd.core import desired as d
from routerd.core.desired import DataplaneObject, Key, Observed, ObserveScope

POLLED_KINDS = frozenset({"sysctl", "wg"})
"""Kinds whose changes no backend reports: nothing notifies a sysctl write, and WireGuard
handshake ages are runtime state. The engine reads every desired key of these kinds (a
handful of sysctls and devices) on every pass instead."""

ChangeOp = Literal["add", "replace", "remove", "announce"]


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan.

    Attributes:
        op: add (absent), replace (present but different), remove (owned, undesired),
            announce (an action such as a gratuitous ARP: sent, never observed).
        key: the object's identity.
        new: the desired object (add/replace).
        old: the observed object (replace/remove).
        owners: who needs it (``RemoteAddressClaim/x`` ...), for error attribution.
    """

    op: ChangeOp
    key: Key
    new: DataplaneObject | None = None
    old: DataplaneObject | None = None
    owners: tuple[str, ...] = ()

    def describe(self) -> str:
        obj = self.new if self.new is not None else self.old
        return f"{self.op} {describe_object(obj)}" if obj is not None else f"{self.op} {self.key}"


@dataclass(frozen=True, slots=True)
class ChangeResult:
    change: Change
    ok: bool
    error: str = ""
    errno: int | None = None
    retryable: bool = True


class PathCheck(NamedTuple):
    """End-to-end evidence wanted for one claim (the ``verified`` state); a tuple, since a
    full pass asks for one per claim.

    Attributes:
        claim: claim name.
        address: bare IPv4 being delivered.
        tunnel: delivery device.
        peer_public_key: the WireGuard peer carrying it ("" when the tunnel is not WireGuard).
        local_overlay / peer_overlay: overlay addresses; the probe runs only when both are
            set. The engine sets ``local_overlay`` only when it observed that address
            assigned on the tunnel (``assess.path_check``): an overlay address that is only
            descriptive cannot source a probe, and probing from it would fail forever.
        capture_interface: where captured traffic enters (sim traces from there).
        capture_source: for a proxy-ARP claim, an address of the capture segment to look
            the claim up from as an input route (``ip route get ADDRESS from SOURCE iif
            CAPTURE``, the lookup the kernel's ARP code makes); "" asks for none.
    """

    claim: str
    address: str
    tunnel: str
    peer_public_key: str = ""
    local_overlay: str = ""
    peer_overlay: str = ""
    capture_interface: str = ""
    capture_source: str = ""


@dataclass(frozen=True, slots=True)
class InputRoute:
    """The kernel's input-route lookup for a captured address (``PathCheck.capture_source``).

    Attributes:
        source: the address the lookup was made from.
        type: the route type the kernel found (``unicast``, ``unreachable``, ...), "" on error.
        dev: the device the route leaves by ("" when none).
        error: why the kernel gave no route ("" when it did).
    """

    source: str
    type: str = ""
    dev: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class PathEvidence:
    """What the backend found for a PathCheck.

    ``route_dev`` is the device the kernel's route lookup picks for the address (None when
    the lookup fails). ``probe_ok`` is None when no probe ran: either none was possible (no
    overlay address on one end), which never blocks ``verified``, or the first probe of the
    pair has not answered yet (``probe_pending``), which does: an unfinished probe is no
    evidence. ``capture`` is the input-route lookup a ``capture_source`` asked for (None
    when none was asked).
    """

    route_dev: str | None
    probe_ok: bool | None = None
    detail: str = ""
    probe_pending: bool = False
    capture: InputRoute | None = None


@dataclass(frozen=True, slots=True)
class Drift:
    """What changed on the host behind routerd's back since the last ``drain``.

    Attributes:
        keys: keys whose object appeared, disappeared or changed (owned or not).
        everything: the backend cannot say what changed (events were lost, it restarted):
            the engine must look at the whole host.
    """

    keys: frozenset[Key] = frozenset()
    everything: bool = False


NO_DRIFT = Drift()


@runtime_checkable
class DataplaneBackend(Protocol):
    """What the reconcile engine needs from a dataplane."""

    name: str

    def start(self, on_change: Callable[[], None]) -> None:
        """Begin watching the host; call ``on_change`` (from any thread) on drift."""

    def drain(self) -> Drift:
        """What drifted since the last call (see ``Drift``); called at the start of a pass."""

    def observe(self, scope: ObserveScope) -> Observed:
        """Report owned objects plus everything the scope asks for (only ``scope.keys``,
        when set, among the objects)."""

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        """Apply changes (batched where possible), one result per change, in order."""

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        """Route lookups and probes for claims that are delivering; keyed by claim."""

    def close(self, *, cleanup: bool = False) -> None:
        """Stop watching; with ``cleanup`` remove everything routerd owns."""


def describe_object(obj: DataplaneObject) -> str:
    """One-line human form used in plans, logs and errors."""
    if isinstance(obj, d.Route):
        via = f" via {obj.gateway}" if obj.gateway else ""
        dev = f" dev {obj.dev}" if obj.dev else ""
        table = "" if obj.table == d.MAIN_TABLE else f" table {obj.table}"
        metric = f" metric {obj.metric}" if obj.metric else ""
        kind = "blackhole " if obj.type == "blackhole" else ""
        return f"route {kind}{obj.dst}{via}{dev}{metric}{table}"
    if isinstance(obj, d.ProxyNeighbour):
        return f"proxy neighbour {obj.address} dev {obj.dev}"
    if isinstance(obj, d.Sysctl):
        return f"sysctl {obj.name}={obj.value}"
    if isinstance(obj, d.Address):
        return f"address {obj.cidr} dev {obj.dev}"
    if isinstance(obj, d.AbsentAddress):
        where = [f"{c} dev {dev}" for dev, c in obj.present_on]
        where += [f"local route dev {dev} proto {p}" for dev, p in obj.local_routes]
        present = ", ".join(where)
        return f"absence of {obj.address}" + (f" (present: {present})" if present else "")
    if isinstance(obj, d.WireGuardDevice):
        return f"wireguard {obj.ifname} ({len(obj.peers)} peers)"
    if isinstance(obj, d.GatewayDevice):
        state = "" if obj.up else ", down"
        addresses = " ".join(obj.addresses) or "no address"
        return (
            f"anycast gateway {obj.ifname} ({addresses} {obj.mac} on {obj.parent}, "
            f"{obj.kind} {obj.mode}{state})"
        )
    if isinstance(obj, d.Garp):
        to = f" to {obj.to}" if obj.to else ""
        return f"gratuitous ARP for {obj.address} on {obj.dev}{to}"
    if isinstance(obj, d.MssClampTable):
        rules = ", ".join(
            f"{r.iif}->{r.oif} mss {r.mss}" for r in sorted(obj.rules, key=lambda r: (r.iif, r.oif))
        )
        return f"nft table inet {d.MSS_TABLE} [{rules}]"
    return repr(obj)
