"""The mobility scenarios: each a function ``(lab, runs) -> Report`` of checks and figures.

0. ``self_check``: the lab proves it can see a failure before it reports none: a duplicate
   of a VM started for half a second is seen as two responders, and a 500 ms cut of a VM's
   link is measured as an outage of about that length.
1. ``live_migration``: the VM ``mig`` moves between the two LANs ``runs`` times (A->B,
   B->A, ...): its bridge port changes LAN, then it sends a gratuitous ARP, as a hypervisor
   makes it do. 10 ms ping trains from a VM at each site measure the outage (longest gap);
   a TCP stream from ``mig`` to the cloud VM must survive every move; the VM reaches its
   gateway at the new site without changing its route. Figures ``migration_outage_ms``
   (median over runs of the worst observer) and ``migration_handover_ms`` (gratuitous
   ARP -> first reply at the third site).
2. ``explicit_moves``: a cloud-homed address, then 100 at once, cut over to site A by a
   migration tool: the cloud copy stops, the provider reassigns the addresses to the cloud
   router's NIC, the on-prem copy starts and ``move --to site-a`` is called. Handover: from
   the call until hosts at both other sites get answers from every address. The check that
   nothing answered between the cutover and the call proves the move, not a leftover path
   (or presence noticing the copy first), restored traffic. Then back to the cloud the same
   way. Figures ``handover_ms``, ``handover_ms_100`` (and ``*_to_cloud``); with routerd,
   also ``routerctl_move_ms`` (``_100``): what running ``routerctl move`` adds in front of
   the call (process start and imports, measured with ``--dry-run``), kept out of the
   handover so that neither hides the other.
3. ``partition``: site A loses the reflector and site B (site C still reaches it); during
   the cut ``mig`` migrates A->B. The doctor on A must report it while it lasts; after the
   cut heals every router and the reflector agree on one home per address and the doctor
   is quiet.
4. ``restarts``: each router's control plane restarted in turn during steady traffic
   between all sites and a TCP stream: nothing lost, no home or sequence changes.

5. ``cloud-moves`` (``--cloud-actions`` only, in place of 2): moves into and out of the cloud
   site with routerd's provider actions through the AWS double (``mobcloud``).

Every scenario also runs under ``Watch`` (two responders, gateway MAC, two homes, one NIC).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.support.wait import WaitTimeout, wait_until

from . import agents
from .mobcloud import cloud_moves
from .mobmeasure import (
    TOLERANCE,
    TOLERANCE_BULK,
    answered_between,
    handover,
    longest_gap,
    lost,
    median,
    replies,
    two_responders,
)
from .mobtopo import (
    BULK,
    CLOUD,
    FABRIC_ROUTER_PORT,
    GATEWAY,
    MIGRANT,
    MONITOR,
    ONPREM,
    RR_PUBLIC,
    SINGLE,
    SITE,
    SITES,
    VM,
    VM_IF,
    initial_homes,
)
from .mobwatch import Report, Watch, collect, mark, now, trains

if TYPE_CHECKING:
    from .moblab import MobilityLab

ECHO_PORT = 5001
TRAIN = 0.01
OBSERVERS = ("va", "vb", "vc")


def _homes(lab: MobilityLab) -> dict[str, str]:
    """Where the lab believes every address lives now (what every router must agree on)."""
    return {**initial_homes(), MIGRANT: lab.migrant_site} | lab.moved


def _migrate(lab: MobilityLab, to: str) -> tuple[float, float]:
    return lab.migrate(to)


def _stream(lab: MobilityLab) -> None:
    if not lab.echo_serving:
        lab.workers["vc"].call(agents.serve_echo, VM["vc"].addresses[0], ECHO_PORT)
        lab.echo_serving = True
    lab.workers["mig"].call(agents.start_stream, "stream", VM["vc"].addresses[0], ECHO_PORT, TRAIN)


def _stream_check(r: Report, name: str, s: dict[str, Any]) -> None:
    r.check(
        name,
        not s["errors"] and s["echoed"] == s["sent"] and s["sent"] > 0,
        f"{s['echoed']}/{s['sent']} records echoed in order, longest wait "
        f"{s['max_gap'] * 1000:.0f} ms"
        + (f"; {'; '.join(s['errors'][:3])}" if s["errors"] else ""),
    )


def self_check(lab: MobilityLab, runs: int) -> Report:
    """Scenario 0 (module docstring); ``runs`` is not used."""
    r = Report()
    monitor, va, dup = MONITOR["site-a"], VM["va"], VM["dup"]
    target = va.addresses[0]
    sweep = (VM_IF, VM[monitor].addresses[0], [target], 0.05)
    lab.workers[monitor].call(agents.start_sweeper, "self-check", *sweep)
    time.sleep(0.3)
    lab.topo.set_up(dup, True)
    time.sleep(0.5)
    lab.topo.set_up(dup, False)
    time.sleep(0.2)
    rounds = lab.workers[monitor].call(agents.collect, "self-check")
    failures, _ = two_responders(rounds, [target])
    r.check(
        "self-check: a duplicate host is seen as two responders",
        bool(failures),
        "; ".join(failures) or f"{len(rounds)} sweeps saw no second responder for {target}",
    )
    trains(lab, {"vc": [target]}, TRAIN)
    time.sleep(0.3)
    lan = lab.topo.ns[SITE[va.site].lan_role]
    t_cut = now()
    lan.ip("link", "set", va.port, "down")
    time.sleep(0.5)
    lan.ip("link", "set", va.port, "up")
    t_back = now()
    time.sleep(0.7)
    gap = longest_gap(replies(collect(lab, ["vc"])["vc"], 0), t_cut - 0.2, now())
    cut = t_back - t_cut
    r.check(
        "self-check: a cut link is measured as an outage",
        cut - 0.05 <= gap <= cut + 1.0,
        f"longest gap {gap * 1000:.0f} ms for a {cut * 1000:.0f} ms cut",
    )
    return r


def live_migration(lab: MobilityLab, runs: int) -> Report:
    """Scenario 1 (module docstring)."""
    w = Watch(lab, "live-migration", [MIGRANT])
    outages: list[float] = []
    handovers: list[float] = []
    per_observer, stuck = [], []
    with w:
        _stream(lab)
        for i in range(runs):
            to = next(s.name for s in ONPREM if s.name != lab.migrant_site)
            trains(lab, {**{o: [MIGRANT] for o in OBSERVERS}, "mig": [GATEWAY]}, TRAIN)
            time.sleep(0.5)
            t_move, t_garp = _migrate(lab, to)
            lab.wait_homes(_homes(lab), timeout=30)
            time.sleep(1.0)
            t_end = now()
            probes = collect(lab, [*OBSERVERS, "mig"])
            gaps = {o: longest_gap(replies(probes[o], 0), t_move - 0.3, t_end) for o in OBSERVERS}
            outages.append(max(gaps.values()))
            per_observer.append(", ".join(f"{o} {g * 1000:.0f}" for o, g in gaps.items()))
            stuck += [
                f"run {i + 1}: {o}"
                for o in OBSERVERS
                if not answered_between(probes[o], t_end - 0.5, t_end)
            ]
            ho, _ = handover(probes["vc"], t_garp)
            if ho is not None:
                handovers.append(ho)
            gw = answered_between(probes["mig"], t_garp + 0.5, t_end)
            w.report.check(
                f"live-migration run {i + 1}: gateway at {to}",
                bool(gw),
                f"the VM's default gateway {GATEWAY} answers at {to}" if gw else "no answer",
            )
        stream = lab.workers["mig"].call(agents.collect, "stream")
    r = w.report
    _stream_check(r, f"live-migration: TCP stream survived {runs} migrations", stream)
    r.check(
        "live-migration: every observer's train resumed",
        not stuck,
        (f"no reply in the last 0.5 s: {', '.join(stuck)}; " if stuck else "")
        + f"longest gap per run (ms; observers at A, B, cloud): {' | '.join(per_observer)}",
    )
    r.check(
        "live-migration: the third site gets answers after every move",
        len(handovers) == runs,
        f"{len(handovers)}/{runs} runs answered a request sent after the gratuitous ARP",
    )
    r.figure("migration_outage_ms", median(outages) * 1000)
    if handovers:
        r.figure("migration_handover_ms", median(handovers) * 1000)
    return r


def _cutover(
    lab: MobilityLab, addresses: list[str], to: str, copies: tuple[str, str]
) -> dict[str, Any]:
    """One explicit move of ``addresses`` to ``to`` (module docstring); timings and probes."""
    cloud_vm, onprem_vm = (VM[c] for c in copies)
    into_cloud = to == CLOUD.name
    observers = ["va", "vb"] if into_cloud else ["vb", "vc"]
    interval = 0.005 if len(addresses) == 1 else 0.02
    trains(lab, {o: addresses for o in observers}, interval)
    time.sleep(0.3)
    lab.topo.set_up(cloud_vm if not into_cloud else onprem_vm, False)
    if into_cloud:
        lab.fabric.reassign(cloud_vm.port, addresses)
    else:
        lab.fabric.reassign(FABRIC_ROUTER_PORT, addresses)
    t_cut = now()
    time.sleep(0.3)
    lab.topo.set_up(onprem_vm if not into_cloud else cloud_vm, True)
    t_mark = now()
    mark(lab, observers, t_mark)
    t0 = lab.control_plane.move(to, addresses)
    lab.moved.update(dict.fromkeys(addresses, to))
    lab.wait_homes(_homes(lab), timeout=30)
    time.sleep(1.0 if len(addresses) == 1 else 2.0)
    probes = collect(lab, observers)
    worst, missing, last = 0.0, [], ""
    for o in observers:
        ho, miss = handover(probes[o], t0)
        missing += miss
        if ho is not None and ho >= worst:
            worst, last = ho, o
    early = [a for o in observers for a in answered_between(probes[o], t_cut + 0.1, t_mark)]
    return {
        "handover": None if missing else worst,
        "last": last,
        "missing": missing,
        "early": early,
    }


def explicit_moves(lab: MobilityLab, runs: int) -> Report:
    """Scenario 2 (module docstring)."""
    report = Report()
    cases = (
        ("handover_ms", [SINGLE], ("cm1", "dm1")),
        ("handover_ms_100", list(BULK), ("cmn", "dmn")),
    )
    for figure, addresses, copies in cases:
        tolerance = TOLERANCE if len(addresses) == 1 else TOLERANCE_BULK
        w = Watch(lab, f"explicit-move {len(addresses)}", addresses, tolerance)
        results: dict[str, list[dict[str, Any]]] = {"site-a": [], CLOUD.name: []}
        cli: list[float] = []
        with w:
            for _ in range(runs):
                took = lab.control_plane.cli_move("site-a", addresses)
                if took is not None:
                    cli.append(took)
                for to in ("site-a", CLOUD.name):
                    results[to].append(_cutover(lab, addresses, to, copies))
        r = w.report
        for to, rs in results.items():
            what = f"explicit-move {len(addresses)} -> {to}"
            missing = sorted({a for x in rs for a in x["missing"]})
            early = sorted({a for x in rs for a in x["early"]})
            r.check(
                f"{what}: every address answers after the move",
                not missing,
                f"never answered: {', '.join(missing[:5])}"
                if missing
                else f"{len(rs)} runs, handover (ms, last observer to get answers): "
                + ", ".join(f"{x['handover'] * 1000:.0f} ({x['last']})" for x in rs),
            )
            r.check(
                f"{what}: the cutover alone breaks traffic",
                not early,
                f"answered before the move call: {', '.join(early[:5])}"
                if early
                else "no answer between the cutover and the move call",
            )
            values = [x["handover"] for x in rs if x["handover"] is not None]
            if values:
                name = figure if to == "site-a" else f"{figure}_to_cloud"
                r.figure(name, median(values) * 1000)
        if cli:
            suffix = "" if len(addresses) == 1 else f"_{len(addresses)}"
            r.figure(f"routerctl_move_ms{suffix}", median(cli) * 1000)
        held = lab.fabric.held()
        wrong = [a for a in addresses if held.get(a) != [CLOUD_PORT_OF[copies[0]]]]
        r.check(
            f"explicit-move {len(addresses)}: the cloud copy holds its addresses again",
            not wrong,
            f"held elsewhere: {wrong[:5]}" if wrong else "all on the cloud VM's NIC",
        )
        report.extend(r)
    return report


CLOUD_PORT_OF = {"cm1": VM["cm1"].port, "cmn": VM["cmn"].port}


def partition(lab: MobilityLab, runs: int) -> Report:
    """Scenario 3 (module docstring); ``runs`` is not used (one partition is enough)."""
    a, b = SITE["site-a"], SITE["site-b"]
    if lab.migrant_site != a.name:
        _migrate(lab, a.name)
        lab.wait_homes(_homes(lab), timeout=30)
    addresses = [*VM["va"].addresses, *VM["vb"].addresses, MIGRANT]
    w = Watch(lab, "partition", addresses)
    ctl = lab.control_plane
    with w:
        cuts = ((a.public, b.public), (a.public, RR_PUBLIC))
        for x, y in cuts:
            lab.partition(x, y, cut=True)
        t_cut = now()
        wait_until(
            lambda: None if ctl.doctor(a.name) else "doctor on site-a reports nothing",
            timeout=30,
            interval=0.5,
            what="the doctor to see the partition",
        )
        seen_after = now() - t_cut
        _migrate(lab, b.name)
        expect = {MIGRANT: b.name}

        def far_side() -> str | None:
            bad = [
                f"{s}: {ctl.homes(s).get(MIGRANT)}"
                for s in (b.name, CLOUD.name)
                if ctl.homes(s).get(MIGRANT, ("",))[0] != expect[MIGRANT]
            ]
            return "; ".join(bad) or None

        wait_until(far_side, timeout=30, interval=0.2, what="sites B and C to follow the VM")
        trains(lab, {"vc": [MIGRANT], "vb": [MIGRANT]}, TRAIN)
        time.sleep(1.0)
        during = ctl.doctor(a.name)
        t = now()
        probes = collect(lab, ["vc", "vb"])
        reach = [o for o, p in probes.items() if answered_between(p, t - 0.5, t)]
        for x, y in cuts:
            lab.partition(x, y, cut=False)
        try:
            healed = f"agreed {lab.wait_homes(_homes(lab), timeout=90):.1f}s after the heal"
        except WaitTimeout as exc:
            healed = ""
            w.report.check("partition: healed to one home per address", False, str(exc))
        wait_until(lambda: _quiet(lab), timeout=60, interval=0.5, what="every doctor quiet")
        trains(lab, {"va": [MIGRANT]}, TRAIN)
        time.sleep(1.0)
        t = now()
        back = answered_between(collect(lab, ["va"])["va"], t - 0.5, t)
    r = w.report
    names = sorted({f["name"] for f in during})
    r.check(
        "partition: the doctor on the cut-off site reports it while it lasts",
        bool(during),
        f"seen {seen_after:.1f}s after the cut; during the move: {', '.join(names)}",
    )
    r.check(
        "partition: the VM is reachable from the sites that see its new home",
        sorted(reach) == ["vb", "vc"],
        f"answered: {reach}",
    )
    if healed:
        r.check(
            "partition: healed to one home per address",
            True,
            f"every router and the reflector {healed}",
        )
    r.check("partition: the cut-off site reaches the VM again", bool(back), f"answered: {back}")
    return r


def _quiet(lab: MobilityLab) -> str | None:
    noisy = {s.name: lab.control_plane.doctor(s.name) for s in SITES}
    noisy = {s: f for s, f in noisy.items() if f}
    return (
        None
        if not noisy
        else "; ".join(f"{s}: {f[0]['name']} ({f[0]['detail']})" for s, f in noisy.items())
    )


def restarts(lab: MobilityLab, runs: int) -> Report:
    """Scenario 4 (module docstring); ``runs`` is not used (each router restarts once)."""
    ctl = lab.control_plane
    everyone = {r: VM[r].addresses[0] for r in ("va", "vb", "vc", "mig")}
    plan = {o: [a for r, a in everyone.items() if r != o] for o in OBSERVERS}
    w = Watch(lab, "restarts", list(everyone.values()))
    changed = []
    with w:
        _stream(lab)
        trains(lab, plan, TRAIN)
        time.sleep(1.0)
        t_start = now()
        for site in SITES:
            before = ctl.homes(site.name)
            ctl.restart(site.name)
            wait_until(
                lambda s=site.name, b=before: _same(ctl.homes(s), b),
                timeout=60,
                interval=0.2,
                what=f"{site.name} back with the same homes",
            )
            after = ctl.homes(site.name)
            changed += [
                f"{site.name} {a}: {before[a]} -> {after.get(a)}"
                for a in before
                if after.get(a) != before[a]
            ]
            time.sleep(1.0)
        t_end = now()
        time.sleep(0.5)
        probes = collect(lab, OBSERVERS)
        stream = lab.workers["mig"].call(agents.collect, "stream")
    r = w.report
    losses = {o: lost(p, t_start, t_end) for o, p in probes.items()}
    losses = {o: x for o, x in losses.items() if x}
    sent = sum(len(s) for p in probes.values() for s in p["sent"])
    r.check(
        "restarts: no echo lost while each router restarted",
        not losses,
        str(losses) if losses else f"{sent} echoes across {len(SITES)} sites, none lost",
    )
    _stream_check(r, "restarts: TCP stream survived every restart", stream)
    r.check(
        "restarts: no home or sequence changed",
        not changed,
        "; ".join(changed[:5]) or f"{len(SITES)} restarts, homes identical before and after",
    )
    return r


def _same(now_: dict[str, tuple[str, int]], before: dict[str, tuple[str, int]]) -> str | None:
    diff = [a for a in before if now_.get(a) != before[a]]
    return None if not diff else f"differs for {', '.join(diff[:3])}"


SCENARIOS: dict[str, Callable[[MobilityLab, int], Report]] = {
    "self-check": self_check,
    "live-migration": live_migration,
    "explicit-moves": explicit_moves,
    "partition": partition,
    "restarts": restarts,
    "cloud-moves": cloud_moves,
}
HAND_PROVIDER = frozenset({"explicit-moves"})
"""Scenarios that play the provider by hand (not with ``--cloud-actions``)."""
CLOUD_ACTIONS = frozenset({"cloud-moves"})
"""Scenarios that need ``--cloud-actions``."""


def default_scenarios(cloud_actions: bool) -> list[str]:
    """Every scenario that fits the lab's provider, in order."""
    skip = HAND_PROVIDER if cloud_actions else CLOUD_ACTIONS
    return [name for name in SCENARIOS if name not in skip]
