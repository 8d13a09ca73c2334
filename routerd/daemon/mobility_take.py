"""The provider reconciler asks address mobility whether it may take an address off a NIC.

A cloud router captures an address homed at another site by holding it on its own NIC; when
another NIC of the subnet holds it, the reconciler may move it over (``reassign``) only when
that NIC is not a VM this site homes. For static claims the claim itself says the VM lives
elsewhere (``static_may_take``); for a mobile address the controller knows, so
``may_take_for(daemon)`` answers from it:

* the address is homed here, or this router originates it: never (the holder is the VM
  that arrived);
* in a cloud site whose inventory presence reads: only a holding that *began before* the
  current remote home was learned is taken (the VM left and its old NIC still holds the
  address). A holding that began after it is an arrival the controller has not decided
  yet (the reconciler's own read can be newer than presence's); one presence has not seen
  yet waits for the next inventory read; one found by the first read after a start is taken
  only when the journal shows the address leaving this site for its home now (the VM was
  here and left), never otherwise (it may have arrived while routerd was down): the
  operator decides;
* an on-prem site, or an address outside every mobile domain: as for static claims.

Each "no" is a sentence: the reconciler reports it as the address's blocked reason.
Runs on the reconciler's thread; reads only the controller's published snapshot and cloud
presence's published holdings.
"""

from __future__ import annotations

from typing import Any

from routerd.core.mobility import MobilityError, MoveRecord
from routerd.daemon.mobility_cloud import SitePresence
from routerd.daemon.mobility_runtime import MobilityRuntime
from routerd.providers.reconcile_plan import MayTake, static_may_take

PAGE = 1000
"""Journal records read at once while looking for an address's newest move."""


def verdict(rt: MobilityRuntime, address: str, holder: str) -> bool | str:
    """May the reconciler move ``address`` off ``holder``? (see the module docstring)."""
    dom = rt.plan.domain_of(address)
    if dom is None:
        return static_may_take(address, holder)
    try:
        where = rt.ctl.where(address)
    except MobilityError:
        return static_may_take(address, holder)
    home = where.home
    if where.originating or (home is not None and home.site == dom.local.name):
        return (
            f"held by {holder}: homed at this site ({dom.local.name}), so that NIC is the "
            "VM's; never taken from it"
        )
    if dom.local.kind != "cloud":
        return True
    cloud = rt.feed.cloud if isinstance(rt.feed, SitePresence) else None
    if cloud is None or not cloud.covers(dom.name):
        return (
            f"held by {holder}; this cloud site reads no inventory, so nothing shows whether "
            "that VM left: move it off by hand (or give the profile execution: execute and "
            "a subnet)"
        )
    seen = cloud.held(address)
    if seen is None or seen[0] != holder:
        return f"held by {holder}, which presence has not read yet: decided after its next read"
    began = seen[1]
    if home is None:
        return f"held by {holder}, and no site homes it"
    if began <= 0.0:
        last = _last_move(rt, address)
        if last is not None and (last.from_site, last.to_site) == (dom.local.name, home.site):
            return True  # homed here, then it left for its home now: its old NIC kept it
        return (
            f"held by {holder} since before routerd started, and the journal does not show "
            f"it leaving this site; the VM may have arrived while routerd was down, so it is "
            f"not taken: release it there, or move the address here (routerctl move "
            f"{address} --to {dom.local.name})"
        )
    if began >= home.since:
        return (
            f"held by {holder} since after its home moved: a VM arriving here, which the "
            "controller decides on its next step"
        )
    return True


def _last_move(rt: MobilityRuntime, address: str) -> MoveRecord | None:
    """The address's newest journal record (the journal pages oldest first)."""
    last, after = None, 0
    while page := rt.ctl.moves(address, after=after, limit=PAGE):
        last, after = page[-1], page[-1].seq
        if len(page) < PAGE:
            break
    return last


def may_take_for(daemon: Any) -> MayTake:
    """The reconciler's hook, answered by the daemon's mobility runtime while it runs."""

    def may_take(address: str, holder: str) -> bool | str:
        component = getattr(daemon, "mobility_component", None)
        rt = component.runtime if component is not None and component.active else None
        if rt is None:
            return static_may_take(address, holder)
        return verdict(rt, address, holder)

    return may_take
