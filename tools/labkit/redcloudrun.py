"""``tools/lab redundancy``'s cloud pair: fail its active router, check the provider's side.

Each run starts with ``ca`` active and both claimed addresses on its ENI; the VM pings one
of them every 10 ms. The active router is crashed (every process killed, routerd started
again), cut off (its NIC's link down, then up: the fabric's port loses carrier but, as
on a cloud, keeps delivering what the provider assigned) or paused (every process stopped for
1.5 s). Checks, read from the AWS double and the routers' action journals: the new active
router's reconciler moved every secondary IP to its own ENI; the recovered router comes
back standby and does not take them back (the fence: its journal gains nothing);
``routerctl failback`` on ``ca`` moves them back; no action failed (the double refuses an
address on two ENIs, so a fight would show as failed actions). Figures (medians):
``cloud_failover_ms.<kind>``, from the failure to the first echo the fabric delivers to
the new active router's NIC, ``cloud_failover_all_ms.<kind>``, from the failure until the
double shows every claimed address on that NIC (``--cloud-claims`` sets how many), and
``provider_api_ms`` (the reassign's own call time,
``elapsedMs`` in the journal).
"""

from __future__ import annotations

import time
from typing import Any

from tests.netns import pair_routers as pr
from tests.support.wait import wait_until

from .mobwatch import Report
from .redcloud import CLAIMS, CloudPair

KINDS = ("crash", "cut", "pause")
FENCE_WATCH = 1.0
TRAIN_S = 120
"""The VM's ping train outlasts a run on a loaded machine (a crashed routerd's restart alone
can take seconds); the run stops it after the failback."""


def _fail(pair: CloudPair, kind: str) -> float:
    ca = pair.routers["ca"]
    t0 = pr.now()
    if kind == "crash":
        ca.crash()
    elif kind == "cut":
        ca.ns.ip("link", "set", "eth0", "down")
    else:
        ca.pause()
    return t0


def _recover(pair: CloudPair, kind: str, t0: float) -> None:
    ca = pair.routers["ca"]
    if kind == "crash":
        ca.start()
    elif kind == "cut":
        ca.ns.ip("link", "set", "eth0", "up")
    else:
        wait_until(lambda: None if pr.now() >= t0 + 1.5 else "paused", timeout=30)
        ca.pause(resume=True)
    ca.wait_role("standby", timeout=30)


def _new(actions: list[dict[str, Any]], before: int) -> list[dict[str, Any]]:
    return [a for a in actions if int(a["id"]) > before]


def _reassigned(actions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(address, operation, status) of each action, sorted: what a failover check compares."""
    return sorted((a["address"], a["operation"], a["status"]) for a in actions)


def _last(r: Any) -> int:
    return max((int(a["id"]) for a in r.actions()), default=0)


def one(pair: CloudPair, kind: str, r: Report, figures: dict[str, list[float]]) -> None:
    """One failure of ``ca``, its recovery and a failback (``ca`` active again after)."""
    ca, cb = pair.routers["ca"], pair.routers["cb"]
    ca_before, cb_before = _last(ca), _last(cb)
    train = pair.ping_train(TRAIN_S)
    time.sleep(0.5)
    t0 = _fail(pair, kind)
    taken = pair.wait_delivered_to("cb", t0)
    figures[f"cloud_failover_ms.{kind}"].append((taken - t0) * 1000)
    figures[f"cloud_failover_all_ms.{kind}"].append((pair.wait_held("cb") - t0) * 1000)
    moved = _new(cb.actions(), cb_before)
    every = sorted((a, "reassign", "succeeded") for a in CLAIMS)
    r.check(
        f"cloud {kind}: cb reassigned every secondary IP to its ENI",
        _reassigned(moved) == every,
        str(_reassigned(moved)),
    )
    for a in moved:
        if a["status"] == "succeeded":
            figures["provider_api_ms"].append(float(a.get("result", {}).get("elapsedMs", 0.0)))
    _recover(pair, kind, t0)
    fence_from = pr.now()
    time.sleep(FENCE_WATCH)
    held = pair.held_by()
    r.check(
        f"cloud {kind}: the recovered router took nothing back",
        set(held.values()) == {"cb"},
        str(held),
    )
    back = [p for t, p in pair.delivered(fence_from) if p != pair.ports["cb"]]
    r.check(
        f"cloud {kind}: nothing delivered to ca after recovery", not back, f"{len(back)} echoes"
    )
    ca_new = _new(ca.actions(), ca_before)
    r.check(f"cloud {kind}: ca's journal gained nothing while standby", not ca_new, str(ca_new))
    t1 = pr.now()
    ca.ctl("failback")
    ca.wait_role("active")
    cb.wait_role("standby")
    pair.wait_held("ca")
    figures["cloud_failback_ms"].append((pair.wait_delivered_to("ca", t1) - t1) * 1000)
    back = _new(ca.actions(), ca_before)
    r.check(
        f"cloud {kind}: failback moved them back",
        _reassigned(back) == every,
        str(_reassigned(back)),
    )
    train.terminate()  # stopped here, by its PID: it lasts until the failback, however slow
    train.communicate(timeout=60)
    failed = [a for x in (ca, cb) for a in x.actions() if a["status"] not in ("succeeded",)]
    r.check(f"cloud {kind}: no failed or unfinished action (no fight)", not failed, str(failed))
