"""``tools/lab mobility --cloud-actions``: the cloud site's capture through the AWS double.

Without it the mobility lab plays the provider by hand (``mobfabric``: the lab assigns every
address homed elsewhere to the cloud router's NIC, and reassigns at each cutover). With it
there is no such step:

* the AWS double (``tests.fakes.aws``: moto behind the layer that enforces one address, one
  ENI) runs in the fabric namespace on the fabric gateway's address, seeded with the lab's
  subnet and one ENI per machine: the cloud router's (10.40.8.5, and the instance IMDS
  describes), ``vc``'s (10.40.8.21), ``cm1``'s and ``cmn``'s (primaries 10.40.8.6 and .7,
  never mobile; their mobile addresses are secondaries a migration tool assigned);
* ``fabric_sync`` delivers each address to the port of the ENI the double says holds it, so
  a missing or wrong action is lost packets;
* the cloud router's profile executes (the double as EC2 endpoint and IMDS, credentials
  from the IMDS chain only), with a ``ProviderActionPolicy`` (approval none): routerd
  assigns what is homed elsewhere to its ENI and releases what arrives, and its presence is
  the double's inventory (``inventoryInterval`` 1 s);
* the migration tool is a worker in the fabric namespace calling the double through
  routerd's own AWS executor (one process, its SDK client kept between calls).

Scenario ``cloud-moves`` (``runs`` times each way, first the single address 10.40.8.60,
copies ``cm1`` in the cloud and ``dm1`` at site A, then the 100 addresses of ``cmn`` and
``dmn`` at once, figures suffixed ``_100``):

* out of the cloud: ``cm1`` stops (its ENI keeps the address), ``dm1`` starts, ``routerctl
  move --to site-a``; routerd at site C withdraws and takes the address off ``cm1``'s ENI
  (``reassign``): traffic from site B and from the cloud VM ``vc`` (which reaches it
  through the fabric) must come back;
* into the cloud: ``dm1`` stops, ``cm1`` starts, ``routerctl move --to site-c``; routerd
  releases the address from its ENI (``unassign``), then the tool assigns it to ``cm1``'s
  ENI: traffic from sites A and B must come back.

The migration tool calls ``MoveAddress`` itself over the router's socket (its channel kept
between calls), so no ``routerctl`` start-up counts. Figures (medians):
``cloud_move_out_ms`` and ``cloud_move_in_ms`` (from the move call until every observer got
an answer to a request sent after it), ``provider_api_ms`` (routerd's own provider call,
from its action journal), ``cloud_move_tool_api_ms`` (the migration tool's assign),
``cloud_move_in_released_ms`` (the move call until the double shows the address released),
``cloud_move_out_captured_ms`` (the move call until the double shows it on the router's ENI)
and the target as ``cloud_move_out_budget_ms`` / ``cloud_move_in_budget_ms`` (500 ms plus the
provider calls on that path).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.support.wait import wait_until

from .cloud_actions import double_env, spawn_in, start_double
from .mobmeasure import TOLERANCE, TOLERANCE_BULK, handover, median
from .mobtopo import (
    BULK,
    CLOUD,
    FAB,
    FABRIC_GATEWAY,
    FABRIC_ROUTER_PORT,
    MIGRANT,
    SINGLE,
    VM,
    initial_homes,
)
from .mobwatch import Report, Watch, collect, mark, now, trains

if TYPE_CHECKING:
    from .moblab import MobilityLab
    from .registry import Registry

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
SUBNET = "10.40.8.0/24"
PRIMARIES = {"router": CLOUD.lan_ip, "vc": "10.40.8.21", "cm1": "10.40.8.6", "cmn": "10.40.8.7"}
"""Each ENI's primary address, in the order the double creates them."""
EXCLUDE = ("10.40.8.6/31",)
"""The cloud VMs' own primaries: never mobile."""
START_TIMEOUT = 60.0
TARGET_MS = 500.0
"""A move restores traffic within this plus the provider API's own latency."""


class MobilityCloud:
    """The double, the fabric sync and the migration tool of one run."""

    def __init__(self, lab: MobilityLab) -> None:
        self.lab = lab
        self.dir = lab.dir / "cloud-actions"
        self.url = ""
        self.world: dict[str, Any] = {}
        self.sync_log = self.dir / "fabric-sync.jsonl"

    def nic(self, who: str) -> str:
        """The ENI of ``router``, ``vc``, ``cm1`` or ``cmn``."""
        return str(self.world["nics"][list(PRIMARIES).index(who)])

    def start(self, registry: Registry) -> None:
        """The double, the fabric sync, the tool; then the cloud VMs' secondaries."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.url, self.world = start_double(
            self.lab.topo.ns_name(FAB),
            registry,
            self.dir / "aws-fake.out",
            host=FABRIC_GATEWAY,
            subnet=SUBNET,
            primaries=list(PRIMARIES.values()),
        )
        ports = {self.nic("router"): (FABRIC_ROUTER_PORT, self._mac(CLOUD.role, CLOUD.lan_if))}
        for who in ("vc", "cm1", "cmn"):
            ports[self.nic(who)] = (VM[who].port, VM[who].mac)
        argv = [sys.executable, "-m", "tools.labkit.fabric_sync", "--url", self.url]
        argv += ["--subnet", SUBNET, "--log", str(self.sync_log), "--interval", "0.01"]
        for nic, (port, mac) in ports.items():
            argv += ["--port", f"{nic}={port}={mac}"]
        argv += ["--current", f"{CLOUD.lan_ip}={FABRIC_ROUTER_PORT}"]
        spawn_in(
            self.lab.topo.ns_name(FAB), registry, argv, self.dir / "fabric-sync.out", "fabric sync"
        )
        tool = self.lab.worker(FAB, name="agent fab")
        tool.call(tool_setup, self.url, self.world["subnet"])
        tool.call(tool_assign, self.nic("cm1"), [SINGLE])
        tool.call(tool_assign, self.nic("cmn"), list(BULK), timeout=300)

    def _mac(self, role: str, ifname: str) -> str:
        return str(self.lab.topo.ns[role].ipj("link", "show", "dev", ifname)[0]["address"])

    def router_env(self) -> dict[str, str]:
        """The cloud routerd's environment: the double as EC2 API, IMDS and metadata."""
        return double_env(self.url)

    def rewrite(self, text: str) -> str:
        """The cloud router's config executing its provider actions through the double."""
        doc = yaml.safe_load(text)
        resources = doc["spec"]["resources"]
        for r in resources:
            if r["kind"] == "CloudProviderProfile":
                r["spec"].update(execution="execute", subnet=self.world["subnet"], region=REGION)
                profile = r["metadata"]["name"]
            if r["kind"] == "AddressMobilityDomain":
                mob = r["spec"]["mobility"]
                mob["capture"]["nicRef"] = self.nic("router")
                mob["exclude"] = [*mob["exclude"], *EXCLUDE]
                mob["presence"] = {**mob.get("presence", {}), "inventoryInterval": "1s"}
        resources.append(
            {
                "apiVersion": "hybrid.routerd.net/v1alpha1",
                "kind": "ProviderActionPolicy",
                "metadata": {"name": "lab-actions"},
                "spec": {
                    "providerRef": profile,
                    "allowedPrefixes": [SUBNET],
                    "actions": ["assign", "unassign", "reassign"],
                    "maxActionsPerRun": 200,
                    "approval": "none",
                },
            }
        )
        return yaml.safe_dump(doc, sort_keys=False)

    def holders(self) -> dict[str, str]:
        """address -> ENI, as the double says now."""
        held: dict[str, str] = self.lab.workers[FAB].call(tool_holders)
        return held

    def actions(self, address: str) -> list[dict[str, Any]]:
        """The cloud router's journal for ``address``, newest first."""
        router = self.lab.control_plane.routers[CLOUD.name]  # type: ignore[attr-defined]
        out = router.ctl_json("action", "list", "--address", address)
        return list(out.get("actions", []))


# -- the migration tool (runs in the fabric namespace's worker) ---------------------------

_TOOL: dict[str, Any] = {}


def tool_setup(url: str, subnet: str) -> None:
    """Build the tool's AWS executor (credentials from the double's IMDS, as routerd's)."""
    from routerd.providers.execution import ExecutorConfig
    from routerd.providers.registry import build_executor

    os.environ.update(
        AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/",
        AWS_CONFIG_FILE="/nonexistent/routerd-lab",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/routerd-lab",
    )
    config = ExecutorConfig(region=REGION, subnet=subnet, endpoint=url, allow_http=True)
    _TOOL.update(url=url, ex=build_executor("aws", config), n=0)


def tool_assign(nic: str, addresses: list[str], reassign: bool = False) -> float:
    """Assign ``addresses`` to ``nic`` (a list per call, as the executor batches);
    milliseconds the calls took."""
    from routerd.providers.base import ASSIGN
    from routerd.providers.execution import ActionRequest

    ex = _TOOL["ex"]
    started = time.monotonic()
    requests = []
    for address in addresses:
        _TOOL["n"] += 1
        requests.append(ActionRequest(ASSIGN, nic, address, f"lab-tool-{_TOOL['n']}", reassign))
    for result in ex.run_many(requests):
        if not result.ok:
            address = result.request.get("address")
            raise RuntimeError(f"the migration tool could not assign {address}: {result.error}")
    return 1000 * (time.monotonic() - started)


def tool_holders() -> dict[str, str]:
    with urllib.request.urlopen(f"{_TOOL['url']}/_fake/holders", timeout=5) as resp:
        return {str(k): str(v) for k, v in json.loads(resp.read()).items()}


def tool_move(socket: str, site: str, addresses: list[str]) -> float:
    """``MoveAddress`` to ``site``'s router over its socket; when the call was made
    (monotonic). The tool keeps its gRPC channel: a ``routerctl`` process would add its own
    start-up (seconds on a loaded machine) to every handover."""
    from routerd.cli.ctl_client import Client
    from routerd.v1 import mobility_pb2, mobility_pb2_grpc

    client = _TOOL.setdefault(f"client:{socket}", Client(socket, 10.0))
    stub = mobility_pb2_grpc.MobilityServiceStub(client.channel)
    req = mobility_pb2.MoveAddressRequest(addresses=addresses, to_site=site, cause="cloud-moves")
    t0 = time.monotonic()
    resp = stub.MoveAddress(req, timeout=10)
    refused = [f"{r.address}: {r.message}" for r in resp.results if not r.accepted]
    if refused:
        raise RuntimeError(f"move to {site} refused: {refused}")
    return t0


def tool_move_in(
    socket: str, router_nic: str, vm_nic: str, addresses: list[str], timeout: float
) -> dict[str, float]:
    """Move ``addresses`` to the cloud, wait until the router released them all, then assign
    them to the VM's NIC.

    Returns:
        ``t0`` (the move call), ``released`` (monotonic) and ``tool_ms`` (the assign).
    """
    t0 = tool_move(socket, CLOUD.name, addresses)
    deadline = time.monotonic() + timeout
    while any(tool_holders().get(a) == router_nic for a in addresses):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the router never released {addresses[:3]}...")
        time.sleep(0.005)
    released = time.monotonic()
    return {"t0": t0, "released": released, "tool_ms": tool_assign(vm_nic, addresses)}


# -- the scenario -------------------------------------------------------------------------


def _switch(lab: MobilityLab, stop: str, start: str) -> None:
    lab.topo.set_up(VM[stop], False)
    lab.topo.set_up(VM[start], True)


def _handover(lab: MobilityLab, observers: list[str], t0: float) -> dict[str, Any]:
    time.sleep(1.0)
    probes = collect(lab, observers)
    worst, missing = 0.0, []
    for o in observers:
        ho, miss = handover(probes[o], t0)
        missing += [f"{o}->{a}" for a in miss]
        worst = max(worst, ho or 0.0)
    return {"handover": None if missing else worst, "missing": missing}


def _newest(
    mc: MobilityCloud, operation: str, after: int, address: str = SINGLE
) -> dict[str, Any] | None:
    new = [a for a in mc.actions(address) if int(a["id"]) > after and a["operation"] == operation]
    return new[0] if new else None


def _last_id(mc: MobilityCloud, address: str = SINGLE) -> int:
    return max((int(a["id"]) for a in mc.actions(address)), default=0)


def _socket(lab: MobilityLab, site: str) -> str:
    return str(lab.control_plane.routers[site].socket)  # type: ignore[attr-defined]


def _homes(lab: MobilityLab) -> dict[str, str]:
    return {**initial_homes(), MIGRANT: lab.migrant_site} | lab.moved


def move_out(
    lab: MobilityLab, mc: MobilityCloud, addresses: list[str], copies: tuple[str, str]
) -> dict[str, Any]:
    """The copy in the cloud stops; the addresses move to site A (module docstring)."""
    observers = ["vb", "vc"]
    trains(lab, {o: addresses for o in observers}, 0.005 if len(addresses) == 1 else 0.02)
    time.sleep(0.3)
    before = _last_id(mc, addresses[0])
    _switch(lab, *copies)
    mark(lab, observers, now())
    t0 = lab.workers[FAB].call(tool_move, _socket(lab, "site-a"), "site-a", addresses)
    lab.moved.update(dict.fromkeys(addresses, "site-a"))
    router = mc.nic("router")

    def captured() -> str | None:
        held = mc.holders()
        away = [a for a in addresses if held.get(a) != router]
        return None if not away else f"{len(away)} not yet, {away[0]} on {held.get(away[0])}"

    wait_until(captured, timeout=60, interval=0.02, what="the addresses on the router's ENI")
    captured_at = now()
    lab.wait_homes(_homes(lab), timeout=60)
    out = _handover(lab, observers, t0)
    out["captured_ms"] = 1000 * (captured_at - t0)
    out["action"] = _newest(mc, "reassign", before, addresses[0]) or _newest(
        mc, "assign", before, addresses[0]
    )
    return out


def move_in(
    lab: MobilityLab, mc: MobilityCloud, addresses: list[str], copies: tuple[str, str]
) -> dict[str, Any]:
    """The copy at site A stops; the addresses move into the cloud (module docstring)."""
    observers = ["va", "vb"]
    trains(lab, {o: addresses for o in observers}, 0.005 if len(addresses) == 1 else 0.02)
    time.sleep(0.3)
    before = _last_id(mc, addresses[0])
    _switch(lab, copies[1], copies[0])
    mark(lab, observers, now())
    socket = _socket(lab, CLOUD.name)
    tool = lab.workers[FAB].call(
        tool_move_in, socket, mc.nic("router"), mc.nic(copies[0]), addresses, 60.0, timeout=120
    )
    t0 = tool["t0"]
    lab.moved.update(dict.fromkeys(addresses, CLOUD.name))
    lab.wait_homes(_homes(lab), timeout=60)
    out = _handover(lab, observers, t0)
    out["action"] = _newest(mc, "unassign", before, addresses[0])
    out["released_ms"] = 1000 * (tool["released"] - t0)
    out["tool_ms"] = tool["tool_ms"]
    return out


def _api(x: dict[str, Any]) -> float | None:
    action = x.get("action")
    if not action or action.get("status") != "succeeded":
        return None
    return float(action.get("result", {}).get("elapsedMs", 0.0))


def _verdicts(r: Report, what: str, rs: list[dict[str, Any]], operation: str) -> list[float]:
    missing = sorted({m for x in rs for m in x["missing"]})
    r.check(
        f"cloud-moves {what}: every observer answered after the move",
        not missing,
        f"never answered: {', '.join(missing[:5])}"
        if missing
        else f"{len(rs)} runs, handover (ms): "
        + ", ".join(f"{x['handover'] * 1000:.0f}" for x in rs),
    )
    ops = [(x.get("action") or {}).get("operation", "none") for x in rs]
    apis = [a for x in rs if (a := _api(x)) is not None]
    r.check(
        f"cloud-moves {what}: routerd's {operation} succeeded once per move",
        len(apis) == len(rs) and all(o.endswith(operation) for o in ops),
        f"actions: {', '.join(ops)}; provider call (ms): " + ", ".join(f"{a:.0f}" for a in apis),
    )
    return apis


CASES = (("", [SINGLE], ("cm1", "dm1")), ("_100", list(BULK), ("cmn", "dmn")))
"""Figure suffix, addresses, (cloud copy, site A copy): one address, then all of ``BULK``."""


def cloud_moves(lab: MobilityLab, runs: int) -> Report:
    """Scenario ``cloud-moves`` (module docstring): the single address, then the 100."""
    mc = lab.cloud
    if mc is None:
        raise RuntimeError("cloud-moves needs --cloud-actions")
    report = Report()
    for suffix, addresses, copies in CASES:
        report.extend(_case(lab, mc, runs, suffix, addresses, copies))
    return report


def _case(
    lab: MobilityLab,
    mc: MobilityCloud,
    runs: int,
    suffix: str,
    addresses: list[str],
    copies: tuple[str, str],
) -> Report:
    outs: list[dict[str, Any]] = []
    ins: list[dict[str, Any]] = []
    n = "" if len(addresses) == 1 else f" {len(addresses)}"
    tolerance = TOLERANCE if len(addresses) == 1 else TOLERANCE_BULK
    w = Watch(lab, f"cloud-moves{n}", addresses, tolerance)
    with w:
        for _ in range(runs):
            outs.append(move_out(lab, mc, addresses, copies))
            ins.append(move_in(lab, mc, addresses, copies))
    r = w.report
    api_out = _verdicts(r, f"{n} -> site-a".lstrip(), outs, "assign")
    api_in = _verdicts(r, f"{n} -> site-c".lstrip(), ins, "unassign")
    tool = [x["tool_ms"] for x in ins]
    ho_out = [x["handover"] * 1000 for x in outs if x["handover"] is not None]
    ho_in = [x["handover"] * 1000 for x in ins if x["handover"] is not None]
    if ho_out:
        r.figure(f"cloud_move_out_ms{suffix}", median(ho_out))
    if ho_in:
        r.figure(f"cloud_move_in_ms{suffix}", median(ho_in))
    r.figure(f"cloud_move_out_captured_ms{suffix}", median([x["captured_ms"] for x in outs]))
    if (api_out or api_in) and not suffix:
        r.figure("provider_api_ms", median(api_out + api_in))
    if tool:
        r.figure(f"cloud_move_tool_api_ms{suffix}", median(tool))
    # the target (a figure, not a check: timings on a shared machine are noisy): 500 ms plus
    # the provider calls on the path (routerd's; moving in, also the migration tool's)
    if api_out and not suffix:
        r.figure("cloud_move_out_budget_ms", TARGET_MS + median(api_out))
    if api_in and tool and not suffix:
        r.figure("cloud_move_in_budget_ms", TARGET_MS + median(api_in) + median(tool))
    released = [x["released_ms"] for x in ins]
    if released:
        r.figure(f"cloud_move_in_released_ms{suffix}", median(released))
    holders = mc.holders()
    home = mc.nic(copies[0])
    wrong = [a for a in addresses if holders.get(a) != home]
    r.check(
        f"cloud-moves{n}: the cloud copy holds its addresses again",
        not wrong,
        f"held elsewhere: {wrong[:5]}" if wrong else f"all on {copies[0]}'s ENI {home}",
    )
    return r


def startup(lab: MobilityLab, mc: MobilityCloud, timeout: float) -> None:
    """Startup checks: inventory presence homed the cloud's VMs, routerd captured the rest."""
    router = mc.nic("router")
    cloud = {a: CLOUD.name for who in ("vc", "cm1", "cmn") for a in VM[who].addresses}
    try:
        took = f"in {lab.wait_homes(cloud, timeout=timeout):.1f}s"
        ok = True
    except Exception as exc:
        took, ok = str(exc)[:300], False
    lab.startup.check(
        "startup: the provider's inventory homes the cloud's VMs",
        ok,
        f"{len(cloud)} addresses homed at {CLOUD.name} from the double's inventory {took}"
        if ok
        else took,
    )
    elsewhere = [
        a for v in VM.values() if v.up and not v.monitor and v.site != CLOUD.name
        for a in v.addresses
    ]  # fmt: skip

    def captured() -> str | None:
        held = mc.holders()
        missing = [a for a in elsewhere if held.get(a) != router]
        return None if not missing else f"not on the router's ENI: {missing}"

    try:
        wait_until(captured, timeout=timeout, interval=0.2, what="captures assigned")
        detail, ok = f"{len(elsewhere)} addresses homed elsewhere on {router}", True
    except Exception as exc:
        detail, ok = str(exc)[:300], False
    lab.startup.check("startup: routerd assigned what it captures to its ENI", ok, detail)
