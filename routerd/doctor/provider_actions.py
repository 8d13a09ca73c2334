"""``routerctl doctor provider``: can routerd act at its clouds, and does the cloud agree?

One group of findings per ``CloudProviderProfile`` (a profile that only plans gets one SKIP
saying so). For an executing profile:

* **policy**: the ProviderActionPolicy that governs it (missing: fail; disabled: warn);
* **blocked**: each claimed address the policy keeps routerd from acting on;
* **credentials / read / write**: the executor's ``check_access`` (a dry run where the API
  has one), each with what to grant when it fails;
* **inventory**: the provider's holders against the journal: an address routerd assigned
  that is elsewhere now, a wanted address not on its NIC yet, an address on the router's
  NIC that routerd did not assign and no claim wants;
* **metadata**: the instance-metadata service against the journal (the fabric delivers
  what the provider lists there);
* **actions**: every action pending, awaiting approval or failed, with the command to run.

Provider API calls are skipped with ``--no-host`` (they leave the machine like host probes
do). Real clouds answer in seconds: this area takes as long as its reads do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from routerd.core.action_journal import ActionRecord, HeldAddress
from routerd.core.doctor import Check, Finding, Status
from routerd.core.errors import ProviderError
from routerd.core.resources import CloudProviderProfile
from routerd.doctor.inputs import Inputs
from routerd.doctor.provider import metadata
from routerd.providers.assignment import check_address_assigned
from routerd.providers.execution import Holding
from routerd.providers.executor import Executor
from routerd.providers.executor_factory import ExecutorFactory
from routerd.providers.registry import NAME_TO_PROVIDER
from routerd.providers.targets import ProfileTargets, desired_targets

AREA = "provider"
MAX_LISTED = 10
MAX_READS = 500
"""Without a subnet each address is one API read; beyond this many the check is skipped."""
STATUS = {"pass": Status.PASS, "warn": Status.WARN, "fail": Status.FAIL, "skip": Status.SKIP}
ExecutorFor = Callable[[CloudProviderProfile], Executor]


def checks(inputs: Inputs, *, executor_for: ExecutorFor | None = None) -> list[tuple[str, Check]]:
    """The provider area's checks (one group per profile)."""
    profiles = inputs.config.of(CloudProviderProfile)
    if not profiles:
        none = Finding(AREA, "provider profiles", Status.SKIP, "no CloudProviderProfile")
        return [("provider profiles", lambda: [none])]
    wanted = desired_targets(inputs.config, inputs.intents)
    factory = executor_for or ExecutorFactory(inputs.host.env)
    out: list[tuple[str, Check]] = []
    for profile in profiles:
        pt = wanted.get(profile.name)
        if pt is None:
            out.append((profile.ref, _planning(profile)))
        else:
            out.append((profile.ref, _executing(inputs, pt, factory)))
    return out


def _planning(profile: CloudProviderProfile) -> Check:
    detail = (
        "execution: plan: routerd never writes to the cloud; it prints the provider "
        "commands (routerd plan, routerctl describe claim)"
    )
    return lambda: [Finding(AREA, f"{profile.ref} execution", Status.SKIP, detail)]


def _executing(inputs: Inputs, pt: ProfileTargets, factory: ExecutorFor) -> Check:
    def run() -> list[Finding]:
        out = [_policy(pt)]
        out += _blocked(pt)
        out += _actions(inputs, pt)
        if not inputs.ctx.host:
            why = "provider API calls disabled by --no-host"
            out.append(Finding(AREA, f"{pt.profile.ref} provider", Status.SKIP, why))
            return out
        try:
            ex = factory(pt.profile)
        except ProviderError as e:
            fix = f"install the SDK: pip install 'routerd[{pt.profile.spec.provider}]'"
            return [*out, Finding(AREA, f"{pt.profile.ref} executor", Status.FAIL, e.reason, fix)]
        out += _access(pt, ex)
        holdings = inputs.ctx.store.provider_holdings(pt.name) if inputs.ctx.store else {}
        out.append(_inventory(pt, ex, holdings))
        out.append(_metadata(inputs, pt, holdings))
        return out

    return run


def _policy(pt: ProfileTargets) -> Finding:
    name = f"{pt.profile.ref} policy"
    policy = pt.policy
    if policy is None:
        return Finding(
            AREA,
            name,
            Status.FAIL,
            "execution: execute but no ProviderActionPolicy names this profile: nothing runs",
            f"add a ProviderActionPolicy with providerRef: {pt.name}, or set execution: plan",
        )
    s = policy.spec
    detail = (
        f"{policy.ref}: prefixes {', '.join(s.allowed_prefixes)}; actions "
        f"{', '.join(s.actions)}; approval {s.approval}; at most {s.max_actions_per_run} per run"
    )
    if not s.enabled:
        return Finding(
            AREA, name, Status.WARN, f"{detail}; disabled", "set enabled: true to let it run"
        )
    return Finding(AREA, name, Status.PASS, detail)


def _blocked(pt: ProfileTargets) -> list[Finding]:
    return [
        Finding(
            AREA,
            f"{pt.profile.ref} address {ip}",
            Status.WARN,
            f"routerd does not act on {ip}: {why}",
            "widen the policy (allowedPrefixes, actions), fix the claim, or act by hand",
        )
        for ip, why in sorted(pt.blocked.items())
    ]


def _access(pt: ProfileTargets, ex: Executor) -> list[Finding]:
    nic = next((t.nic for t in pt.targets.values()), None)
    return [
        Finding(
            AREA,
            f"{pt.profile.ref} {f.check}",
            STATUS[f.status],
            f.detail,
            f"grant {f.grant}" if f.grant and f.status in ("fail", "warn", "skip") else "",
        )
        for f in ex.check_access(nic)
    ]


def _observe(
    pt: ProfileTargets, ex: Executor, addresses: Iterable[str]
) -> dict[str, Holding | None]:
    wanted = sorted(addresses)
    if pt.profile.spec.subnet:
        inv = ex.inventory(pt.profile.spec.subnet)
        if inv.error:
            raise ProviderError(f"inventory read failed: {inv.error}")
        on = {ip: Holding(nic, primary=ip in inv.primary) for ip, nic in inv.holders.items()}
        return {ip: on.get(ip) for ip in {*wanted, *on}}
    if len(wanted) > MAX_READS:
        raise ProviderError(
            f"{len(wanted)} addresses and no spec.subnet: set the profile's subnet so one "
            "inventory read covers them"
        )
    return {ip: ex.holding(ip) for ip in wanted}


def _inventory(pt: ProfileTargets, ex: Executor, holdings: dict[str, HeldAddress]) -> Finding:
    name = f"{pt.profile.ref} inventory"
    try:
        held = _observe(pt, ex, {*pt.targets, *holdings})
    except ProviderError as e:
        return Finding(AREA, name, Status.FAIL, e.reason, "see the read finding above")
    problems = []
    for ip, mine in sorted(holdings.items()):
        now = held.get(ip)
        if now is None or not ex.same_nic(now.nic, mine.nic):
            where = "no NIC" if now is None else now.nic
            problems.append(f"{ip}: routerd assigned it to {mine.nic}, the provider has {where}")
    for ip, t in sorted(pt.targets.items()):
        now = held.get(ip)
        if ip not in holdings and (now is None or not ex.same_nic(now.nic, t.nic)):
            problems.append(f"{ip}: wanted on {t.nic}, not there yet")
    ours = {ex.canonical(t.nic) for t in pt.targets.values()}
    for ip, now in sorted(held.items()):
        stray = now is not None and not now.primary and ex.canonical(now.nic) in ours
        if stray and ip not in pt.targets and ip not in holdings and now is not None:
            problems.append(
                f"{ip}: on {now.nic}, but no claim wants it and routerd did not assign it "
                "(leave it, or unassign it by hand)"
            )
    if not problems:
        detail = f"{len(pt.targets)} wanted, {len(holdings)} assigned by routerd: all in place"
        return Finding(AREA, name, Status.PASS, detail)
    shown = "; ".join(problems[:MAX_LISTED])
    more = f" (+{len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
    return Finding(
        AREA,
        name,
        Status.WARN,
        f"{len(problems)} disagree with the journal: {shown}{more}",
        "routerd repairs wanted addresses on its next run (routerctl action list shows "
        "what it did); fix by hand what no claim wants",
    )


def _metadata(inputs: Inputs, pt: ProfileTargets, holdings: dict[str, HeldAddress]) -> Finding:
    name = f"{pt.profile.ref} metadata"
    provider = NAME_TO_PROVIDER[pt.profile.spec.provider]
    md, why = metadata(inputs, provider)
    if md is None:
        return Finding(AREA, name, Status.SKIP, why)
    bad = []
    for ip, mine in sorted(holdings.items()):
        status, detail = check_address_assigned(md, mine.nic, ip)
        if status == "fail":
            bad.append(detail)
    if bad:
        return Finding(
            AREA,
            name,
            Status.WARN,
            "; ".join(bad[:MAX_LISTED]),
            "instance metadata lags the API by seconds after a change; if it persists, "
            "compare with routerctl action list",
        )
    detail = f"instance metadata agrees with the {len(holdings)} addresses routerd assigned"
    return Finding(AREA, name, Status.PASS, detail)


def _actions(inputs: Inputs, pt: ProfileTargets) -> list[Finding]:
    store = inputs.ctx.store
    name = f"{pt.profile.ref} actions"
    if store is None:
        return [Finding(AREA, name, Status.SKIP, "no state store: the journal cannot be read")]
    open_ = store.open_actions(pt.name)
    if not open_:
        return [Finding(AREA, name, Status.PASS, "no action pending, awaiting approval or failed")]
    return [_action(pt, r) for r in open_[: MAX_LISTED * 2]]


def _action(pt: ProfileTargets, r: ActionRecord) -> Finding:
    what = f"action {r.id}: {r.operation} {r.address} on {r.nic}"
    name = f"{pt.profile.ref} action {r.id}"
    if r.status == "awaiting-approval":
        return Finding(
            AREA, name, Status.WARN, f"{what} awaits approval", f"routerctl action approve {r.id}"
        )
    if r.status == "failed":
        return Finding(
            AREA,
            name,
            Status.FAIL,
            f"{what} failed: {r.error}",
            "fix what the error names; routerd retries the same key while it is wanted",
        )
    return Finding(
        AREA,
        name,
        Status.WARN,
        f"{what} is {r.status}",
        "it runs on the reconciler's next run (routerctl action describe " + str(r.id) + ")",
    )
