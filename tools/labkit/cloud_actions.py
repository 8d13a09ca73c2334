"""``--cloud-actions``: routerd assigns the cloud router's secondary IP itself, through moto.

Without it the lab does the provider step by hand (``Fabric.provision``: the secondary IP
on the router NIC). With it there is no such step:

* the AWS double (``tests.fakes.aws``: moto behind the layer that enforces one address, one
  ENI) runs in the fabric namespace on the fabric gateway's address, seeded with the lab's
  subnet and one ENI per machine (the router's 10.40.8.5, the VM's 10.40.8.21), and serves
  instance metadata (and IMDS credentials) as the router's instance;
* ``fabric_sync`` in the same namespace delivers each address to the port of the NIC the
  double says holds it, so until routerd's action the claimed address goes nowhere;
* the cloud router's profile gets ``execution: execute``, the subnet, the router's ENI as
  ``nicRef`` and a ``ProviderActionPolicy`` (approval none); its routerd gets the double as
  EC2 endpoint, IMDS and metadata service (environment only: credentials come from the
  IMDS chain, never from the config).

The claim then goes ``pending`` -> (routerd's assign) -> ``verified`` on its own. The steps
here prove that from routerd's journal, the double's counts and the fabric's log, and
measure the time from a claim added to verified against the provider call's own latency.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.support.wait import wait_until

from .registry import Registry
from .topology import (
    CLOUD_ROUTER,
    CLOUD_ROUTER_IP,
    CLOUD_VM,
    CLOUD_VM_IP,
    FABRIC,
    FABRIC_GATEWAY,
    FABRIC_ROUTER_PORT,
    FABRIC_VM_PORT,
    ONPREM_VM_IP,
    SUBNET,
    VM_IF,
    Topology,
    capture_ifname,
)

if TYPE_CHECKING:
    from .lab import Lab

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ("aws",)
"""Clouds whose double the lab can run with --cloud-actions."""
START_TIMEOUT = 60.0
TIMING_ADDRESS = "10.40.8.32"
TIMING_RUNS = 5
TIMING_SOURCE = "Operator/lab-timing"
REGION = "us-east-1"


def spawn_in(ns_name: str, registry: Registry, argv: list[str], out: Path, what: str) -> None:
    """Start ``argv`` in namespace ``ns_name`` with the checkout importable, its output
    appended to ``out``; the registry stops it at teardown."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with out.open("ab") as log:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns_name, *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            cwd=ROOT,
        )
    registry.push_process(proc, what)


def start_double(
    ns_name: str,
    registry: Registry,
    out: Path,
    *,
    host: str,
    subnet: str,
    primaries: list[str],
    instance_nic: bool = True,
) -> tuple[str, dict[str, Any]]:
    """Start the AWS double (``tests.fakes.aws``) in ``ns_name`` on ``host`` and wait until
    it prints its URL and world.

    Args:
        instance_nic: serve instance metadata as the owner of the first ENI; without it the
            double serves ``/instance/<n>/`` for each seeded ENI.

    Returns:
        (url, world) as the double announced them.
    """
    argv = [sys.executable, "-m", "tests.fakes.aws", "--host", host, "--subnet", subnet]
    argv += ["--primaries", ",".join(primaries)]
    if instance_nic:
        argv += ["--instance-nic", "0"]
    spawn_in(ns_name, registry, argv, out, "aws double")
    found: dict[str, Any] = {}

    def announced() -> str | None:
        for line in out.read_text().splitlines() if out.exists() else []:
            if line.startswith("{"):
                found.update(json.loads(line))
                return None
        return "the AWS double has not printed its URL yet"

    wait_until(announced, timeout=START_TIMEOUT, interval=0.2, what="AWS double up")
    return str(found["url"]), dict(found["world"])


def double_env(url: str, imds: str = "") -> dict[str, str]:
    """A routerd's environment with the double at ``url`` as EC2 API, IMDS and metadata (and
    no credential file of the host's); ``imds`` serves one instance's metadata instead."""
    imds = imds or url
    return {
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds + "/",
        "AWS_CONFIG_FILE": "/nonexistent/routerd-lab",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/routerd-lab",
        "ROUTERD_PROVIDER_ENDPOINT": url,
        "ROUTERD_IMDS_URL": imds,
    }


class CloudActions:
    """The double and the fabric sync of one run (both recorded in the run's registry)."""

    def __init__(self, topo: Topology, run_dir: Path) -> None:
        self.topo = topo
        self.dir = run_dir / "cloud-actions"
        self.url = ""
        self.world: dict[str, Any] = {}
        self.sync_log = self.dir / "fabric-sync.jsonl"

    @property
    def ns(self) -> Any:
        return self.topo.ns[FABRIC]

    @property
    def router_eni(self) -> str:
        return str(self.world["nics"][0])

    def start(self, registry: Registry) -> None:
        """Start the double, then the fabric sync (the fabric must be built)."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.url, self.world = start_double(
            self.ns.name,
            registry,
            self.dir / "aws-fake.out",
            host=FABRIC_GATEWAY,
            subnet=SUBNET,
            primaries=[CLOUD_ROUTER_IP, CLOUD_VM_IP],
        )
        cap = capture_ifname(self.topo.provider)
        ports = {
            self.world["nics"][0]: (FABRIC_ROUTER_PORT, self._mac(CLOUD_ROUTER, cap)),
            self.world["nics"][1]: (FABRIC_VM_PORT, self._mac(CLOUD_VM, VM_IF)),
        }
        argv = [sys.executable, "-m", "tools.labkit.fabric_sync", "--url", self.url]
        argv += ["--subnet", SUBNET, "--log", str(self.sync_log)]
        for nic, (port, mac) in ports.items():
            argv += ["--port", f"{nic}={port}={mac}"]
        argv += ["--current", f"{CLOUD_ROUTER_IP}={FABRIC_ROUTER_PORT}"]
        argv += ["--current", f"{CLOUD_VM_IP}={FABRIC_VM_PORT}"]
        spawn_in(self.ns.name, registry, argv, self.dir / "fabric-sync.out", "fabric sync")

    def _mac(self, role: str, ifname: str) -> str:
        link = self.topo.ns[role].ipj("link", "show", "dev", ifname)
        return str(link[0]["address"])

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
            if r["kind"] == "RemoteAddressClaim":
                r["spec"]["capture"]["nicRef"] = self.router_eni
        resources.append(
            {
                "apiVersion": "hybrid.routerd.net/v1alpha1",
                "kind": "ProviderActionPolicy",
                "metadata": {"name": "lab-actions"},
                "spec": {
                    "providerRef": profile,
                    "allowedPrefixes": [SUBNET],
                    "actions": ["assign", "unassign", "reassign"],
                    "maxActionsPerRun": 10,
                    "approval": "none",
                },
            }
        )
        return yaml.safe_dump(doc, sort_keys=False)

    def control(self, path: str) -> Any:
        """GET a control endpoint of the double (``/_fake/holders``, ``/_fake/stats``)."""
        code = (
            "import sys, urllib.request; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
        )
        return json.loads(self.ns.exec(sys.executable, "-c", code, self.url + path))

    def control_post(self, path: str, doc: dict[str, Any]) -> Any:
        """POST a control request to the double (``/_fake/release``)."""
        code = (
            "import json, sys, urllib.request; "
            "r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST'); "
            "sys.stdout.write(urllib.request.urlopen(r, timeout=5).read().decode())"
        )
        return json.loads(
            self.ns.exec(sys.executable, "-c", code, self.url + path, json.dumps(doc))
        )

    def fabric_log(self) -> list[dict[str, Any]]:
        if not self.sync_log.exists():
            return []
        return [json.loads(line) for line in self.sync_log.read_text().splitlines() if line]


def _actions(lab: Lab, address: str) -> list[dict[str, Any]]:
    out = lab.cloud.ctl_json("action", "list", "--address", address)
    return list(out.get("actions", []))


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def assigned_by_routerd(lab: Lab) -> str:
    """The claim was captured only after routerd's own assign; the fabric followed it."""
    ca = lab.cloud_actions
    assert ca is not None, "the lab runs without --cloud-actions"
    actions = _actions(lab, ONPREM_VM_IP)
    done = [a for a in actions if a["operation"] == "assign" and a["status"] == "succeeded"]
    if len(done) != 1 or len(actions) != 1:
        raise AssertionError(f"expected one succeeded assign of {ONPREM_VM_IP}: {actions}")
    action = done[0]
    if action["nic"] != ca.router_eni:
        raise AssertionError(f"assigned to {action['nic']}, not the router ENI {ca.router_eni}")
    stats = ca.control("/_fake/stats")
    if stats != {"assign": 1}:
        raise AssertionError(f"the double applied {stats}; expected exactly one assign")
    if ca.control("/_fake/holders").get(ONPREM_VM_IP) != ca.router_eni:
        raise AssertionError(f"the double does not show {ONPREM_VM_IP} on the router ENI")
    finished = _epoch(action["finishedAt"])
    events = lab.cloud.history(action["claim"])
    first = events[0] if events else {}
    captured_at = _epoch(first["at"]) if first.get("at") else 0.0
    if first.get("fromState") != "pending" or captured_at + 0.001 < finished:
        raise AssertionError(f"claim left pending before the action finished: {events}")
    moved = [e for e in ca.fabric_log() if e["address"] == ONPREM_VM_IP]
    if not moved or moved[-1]["to"] != FABRIC_ROUTER_PORT:
        raise AssertionError(f"the fabric never delivered {ONPREM_VM_IP} to the router")
    api = float(action["result"].get("elapsedMs", 0.0))
    return (
        f"routerd assigned {ONPREM_VM_IP} to {ca.router_eni} (action {action['id']}, provider "
        f"call {api:.0f} ms); claim captured {1000 * (captured_at - finished):.0f} ms after it"
    )


def _history_at(lab: Lab, claim: str, state: str, after: float) -> float | None:
    for e in lab.cloud.history(claim):
        if e.get("toState") == state and _epoch(e["at"]) >= after:
            return _epoch(e["at"])
    return None


def _part(lab: Lab, ca: CloudActions) -> Path:
    claim = {
        "apiVersion": "hybrid.routerd.net/v1alpha1",
        "kind": "RemoteAddressClaim",
        "metadata": {"name": "timing-vm-32"},
        "spec": {
            "domainRef": _domain(lab),
            "address": f"{TIMING_ADDRESS}/32",
            "ownerSide": "onprem",
            "capture": {
                "type": "provider-secondary-ip",
                "providerRef": _profile(lab),
                "providerMode": "eni-secondary-ip",
                "nicRef": ca.router_eni,
                "interface": capture_ifname(lab.provider),
            },
            "delivery": {"peerRef": _peer(lab), "mode": "route"},
        },
    }
    part = {
        "apiVersion": "config.routerd.net/v1alpha1",
        "kind": "DynamicConfigPart",
        "metadata": {"name": "lab-timing"},
        "spec": {"source": TIMING_SOURCE, "ttl": "600s", "resources": [claim]},
    }
    path = ca.dir / "timing-part.yaml"
    path.write_text(yaml.safe_dump(part, sort_keys=False))
    return path


def _of_kind(lab: Lab, kind: str) -> str:
    doc = yaml.safe_load(lab.cloud.config.read_text())
    return str(next(r["metadata"]["name"] for r in doc["spec"]["resources"] if r["kind"] == kind))


def _domain(lab: Lab) -> str:
    return _of_kind(lab, "AddressMobilityDomain")


def _profile(lab: Lab) -> str:
    return _of_kind(lab, "CloudProviderProfile")


def _peer(lab: Lab) -> str:
    return _of_kind(lab, "OverlayPeer")


def _received_at(lab: Lab) -> float:
    parts = lab.cloud.ctl_json("dynamic", "list").get("parts", [])
    mine = [p for p in parts if p.get("source") == TIMING_SOURCE]
    return _epoch(mine[-1]["receivedAt"])


def one_cycle(lab: Lab, ca: CloudActions, part: Path) -> dict[str, float]:
    """Add the timing claim, wait until verified; remove it, wait until released.

    Every time is routerd's own (the part's receipt, the action's journal, the claim's
    journal) or the fabric's, so the client's start-up never counts.
    """
    lab.cloud.ctl("dynamic", "put", str(part))
    t0 = _received_at(lab)

    def verified() -> str | None:
        return None if _history_at(lab, "timing-vm-32", "verified", t0) else "not verified yet"

    wait_until(verified, timeout=60, interval=0.05, what=f"{TIMING_ADDRESS} verified")
    at = _history_at(lab, "timing-vm-32", "verified", t0) or t0
    actions = _actions(lab, TIMING_ADDRESS)
    assign = next(a for a in actions if a["operation"] == "assign")
    fabric = [e for e in ca.fabric_log() if e["address"] == TIMING_ADDRESS and e["at"] >= t0]
    lab.cloud.ctl("dynamic", "delete", TIMING_SOURCE)

    def released() -> str | None:
        done = [
            a
            for a in _actions(lab, TIMING_ADDRESS)
            if a["operation"] == "unassign"
            and a["status"] == "succeeded"
            and _epoch(a["finishedAt"]) >= t0
        ]
        return None if done else "no release journaled yet"

    wait_until(released, timeout=60, interval=0.05, what=f"{TIMING_ADDRESS} released")
    release = next(a for a in _actions(lab, TIMING_ADDRESS) if a["operation"] == "unassign")
    t1 = _history_at(lab, "timing-vm-32", "released", t0) or t0
    if ca.control("/_fake/holders").get(TIMING_ADDRESS) is not None:
        raise AssertionError(f"{TIMING_ADDRESS} still held after its release was journaled")
    return {
        "verified_ms": 1000 * (at - t0),
        "planned_ms": 1000 * (_epoch(assign["createdAt"]) - t0),
        "provider_api_ms": float(assign["result"].get("elapsedMs", 0.0)),
        "fabric_ms": 1000 * (fabric[0]["at"] - t0) if fabric else float("nan"),
        "released_ms": 1000 * (_epoch(release["finishedAt"]) - t1),
    }


def timing(lab: Lab) -> str:
    """Median over runs: claim added -> verified, the provider call, claim removed -> freed."""
    ca = lab.cloud_actions
    assert ca is not None, "the lab runs without --cloud-actions"
    part = _part(lab, ca)
    runs = [one_cycle(lab, ca, part) for _ in range(TIMING_RUNS)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    lab.figures.update({f"cloud_action_{k}": v for k, v in med.items()})
    return (
        f"median of {TIMING_RUNS}: claim added -> verified {med['verified_ms']:.0f} ms "
        f"(action planned after {med['planned_ms']:.0f} ms, provider call "
        f"{med['provider_api_ms']:.0f} ms, fabric delivering after {med['fabric_ms']:.0f} ms); "
        f"claim removed -> address released {med['released_ms']:.0f} ms"
    )


def drift_repaired(lab: Lab) -> str:
    """The address taken off the router's NIC at the provider: lost packets, then repaired.

    Someone removes the secondary IP behind routerd's back. The fabric stops delivering it
    at once (pings are lost: the missing assignment shows as lost packets); the provider
    evidence notices within its read interval, the claim leaves ``verified``, and the
    reconciler, woken by that, assigns it again under a new intent counter.
    """
    ca = lab.cloud_actions
    assert ca is not None, "the lab runs without --cloud-actions"
    started = time.time()
    ca.control_post("/_fake/release", {"address": ONPREM_VM_IP})

    def undelivered() -> str | None:
        gone = [e for e in ca.fabric_log() if e["address"] == ONPREM_VM_IP and e["at"] >= started]
        return None if gone and gone[-1]["to"] is None else "the fabric still delivers it"

    wait_until(undelivered, timeout=10, interval=0.05, what="fabric stops delivering")
    got, text = lab.vms.ping(CLOUD_VM, ONPREM_VM_IP)
    if got:
        raise AssertionError(f"{got}/3 replies with the address on no NIC: {text}")

    def repaired() -> str | None:
        if ca.control("/_fake/holders").get(ONPREM_VM_IP) != ca.router_eni:
            return "not back on the router ENI"
        got, out = lab.vms.ping(CLOUD_VM, ONPREM_VM_IP)
        return None if got == 3 else f"ping {got}/3: {out}"

    wait_until(repaired, timeout=90, interval=0.5, what="routerd repairs the assignment")
    took = time.time() - started
    actions = [a for a in _actions(lab, ONPREM_VM_IP) if a["operation"] == "assign"]
    if len(actions) != 2 or actions[0]["status"] != "succeeded":
        raise AssertionError(f"expected a second, succeeded assign: {actions}")
    return (
        f"released at the provider: 0/3 pings; routerd assigned it again (action "
        f"{actions[0]['id']}, intent {actions[0]['intent']}) and pings flow, {took:.1f}s after"
    )
