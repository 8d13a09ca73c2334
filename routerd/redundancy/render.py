"""keepalived's configuration, rendered from a ``PairPlan`` (pure text; golden-tested).

Choices, each for a measured or documented reason:

* VRRPv3 (``vrrp_version 3``): v2 rounds a 0.1 s interval up to whole seconds (failover
  took 3.1 s instead of 0.3 s when measured).
* ``state BACKUP`` always, with ``nopreempt`` unless the group preempts: a (re)started
  router never grabs mastership at start; the partner keeps serving.
  ``failbackHoldDown`` becomes ``preempt_delay``: keepalived then takes over from a
  lower-priority master only after being a backup that long.
* Unicast adverts to the listed peers only, and ``check_unicast_src`` so adverts from any
  other source are ignored.
* A planned takeover renders the same instance at priority 254 and preempting; once
  keepalived reports MASTER the normal configuration is restored (a reload keeps the
  state), so the partner, not preempting, stays backup.
* ``vrrp_priority -10``: the VRRP process gets a larger CPU share, so a busy router still
  sends its 0.1 s adverts on time. Not real-time scheduling (``vrrp_rt_priority``): under
  it the kernel's RLIMIT_RTTIME killed keepalived's VRRP process during a reload
  (measured), which is an outage where the point is to avoid one.
* The notify FIFO (``vrrp_notify_fifo``) is where routerd learns the state.
"""

from __future__ import annotations

from pathlib import Path

from routerd.core.redundancy import TAKEOVER_PRIORITY, PairPlan

NICE = -10


def _seconds(seconds: float) -> str:
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def _preemption(plan: PairPlan, takeover: bool) -> list[str]:
    if takeover or plan.preempt:
        return []
    if plan.hold_down is not None:
        return [f"preempt_delay {_seconds(plan.hold_down)}"]
    return ["nopreempt"]


def _address_line(cidr: str, dev: str, token: bool) -> str:
    return f"{cidr} dev {dev} scope host" if token else f"{cidr} dev {dev}"


def render(plan: PairPlan, *, fifo: Path, takeover: bool = False) -> str:
    """keepalived.conf for this router's pair.

    Args:
        plan: the group's plan.
        fifo: the notify FIFO routerd reads.
        takeover: render the planned-takeover variant (priority 254, preempting).

    Returns:
        The configuration text.
    """
    priority = TAKEOVER_PRIORITY if takeover else plan.priority
    inst = [
        "state BACKUP",
        f"interface {plan.interface}",
        f"virtual_router_id {plan.vrid}",
        f"priority {priority}",
        f"advert_int {_seconds(plan.advert_interval)}",
    ]
    if plan.source_address:
        inst.append(f"unicast_src_ip {plan.source_address}")
    inst += ["unicast_peer {", *(f"    {p}" for p in plan.peers), "}", "check_unicast_src"]
    inst += [
        "virtual_ipaddress {",
        *(f"    {_address_line(a.cidr, a.dev, a.token)}" for a in plan.addresses),
        "}",
    ]
    if plan.track_interfaces:
        inst += ["track_interface {", *(f"    {t}" for t in plan.track_interfaces), "}"]
    inst += _preemption(plan, takeover)
    variant = " (planned takeover)" if takeover else ""
    lines = [
        f"# Rendered by routerd from {plan.ref}{variant}; routerd overwrites any edit.",
        "global_defs {",
        f"    router_id {plan.name}",
        "    vrrp_version 3",
        f"    vrrp_notify_fifo {fifo}",
        f"    vrrp_priority {NICE}",
        "}",
        "",
        f"vrrp_instance {plan.name} {{",
        *(f"    {line}" for line in inst),
        "}",
    ]
    return "\n".join(lines) + "\n"
