"""``tools/lab up|smoke|faults|down``: the namespace lab from a shell.

* ``up --provider P``: build the lab, start both routerd and leave it running (a kept run)
  with a short guide to poking at it by hand; ``down`` removes it.
* ``smoke --provider P`` / ``faults --provider P``: build, run the steps (``plans``), print a
  report, and tear everything down (``--keep`` leaves it up). ``--provider all`` runs the
  three providers one after the other, each in its own lab.
* ``down [--run ID] [--provider P]``: tear down kept runs (all of them by default; a run
  whose creating process still runs, such as a test session's, only when named by --run).
* ``--variant descriptive-overlay`` (``up``, ``smoke``, ``faults``): run a config variant
  instead of the examples as shipped (``config.VARIANTS``).
* ``--cloud-actions`` (``up``, ``smoke``, ``faults``; ``--provider aws``): no provider step;
  routerd assigns the cloud router's secondary IP itself through the AWS double (moto), and
  the fabric delivers each address to the NIC the double says holds it.
* ``mobility [--keep] [-o json] [--runs N] [--control C] [--scenario S ...]``: the three-site
  address-mobility lab (``mobrun``); ``-o json`` prints only the report on stdout.
* ``redundancy [--keep] [-o json] [--runs N] [--kind K ...] [--pair P ...]``: an on-prem
  and a cloud router pair whose active router is crashed, cut off, paused and (on-prem)
  has routerd killed (``redrun``, ``redcloudrun``).

Exit status 0 only when every step passed and teardown released everything; 1 otherwise
(the evidence folder is printed); 2 on usage errors. SIGTERM and Ctrl-C still tear down.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from . import evidence, mobrun, plans, redcloud, redrun
from .cloud_actions import PROVIDERS as ACTION_PROVIDERS
from .config import VARIANTS
from .lab import RUNS_DIR, Lab, kept_runs
from .mobcontrol import MODES
from .mobscenarios import CLOUD_ACTIONS, HAND_PROVIDER, SCENARIOS, default_scenarios
from .steps import StepResult, run_steps
from .topology import PROVIDERS, ROLE_MEANING, ROLES

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
PLANS: dict[str, Callable[[str, bool], list[tuple[str, plans.Step]]]] = {
    "smoke": plans.smoke_steps,
    "faults": plans.fault_steps,
}


def echo(line: str) -> None:
    print(line, flush=True)


def guide(lab: Lab) -> str:
    """What a kept run is made of and how to drive it by hand."""
    lines = [f"run {lab.run_id} ({lab.provider}) is up; namespaces:"]
    lines += [f"  {lab.topo.ns_name(r):<16} {ROLE_MEANING[r]}" for r in ROLES]
    for side, r in lab.routers.items():
        lines.append(f"  {side} routerd: pid {r.pid}, log {r.log}, tunnel {r.tunnel}")
        lines.append(f"    routerctl --socket {r.socket} get claims")
    lines += [
        f"  ssh: ip netns exec {lab.topo.ns_name('cvm')} ssh -F {lab.vms.config} 10.40.8.31",
        f"  tear down: tools/lab down --run {lab.run_id}",
    ]
    return "\n".join(lines)


def report(provider: str, run_id: str, results: list[StepResult], planned: int, took: float):
    passed = sum(r.ok for r in results)
    ok = passed == planned
    verdict = "PASS" if ok else "FAIL"
    echo(f"== {provider} run {run_id}: {verdict} ({passed}/{planned} steps, {took:.1f}s)")
    return ok


def run_plan(
    command: str, provider: str, keep: bool, variant: str = "", actions: bool = False
) -> bool:
    started = time.monotonic()
    label = ", ".join(x for x in (variant, "cloud actions" if actions else "") if x)
    echo(f"== {command} {provider}" + (f" ({label})" if label else ""))
    lab = Lab.up(provider, log=lambda s: echo(f"   {s}"), variant=variant, cloud_actions=actions)
    ok = False
    results: list[StepResult] = []
    steps = PLANS[command](provider, actions)
    try:
        results = run_steps(lab, steps, echo=echo)
        ok = len(results) == len(steps) and all(r.ok for r in results)
        if not ok:
            echo(f"evidence written to {evidence.collect(lab, results)}")
    finally:
        if keep:
            echo(guide(lab))
        else:
            errors = lab.down()
            if errors:
                ok = False
                echo("teardown left things behind: " + "; ".join(errors))
    took = time.monotonic() - started
    if lab.figures:
        echo("   figures: " + ", ".join(f"{k}={v:.1f}" for k, v in sorted(lab.figures.items())))
    return report(provider, lab.run_id, results, len(steps), took) and ok


def cmd_up(args: argparse.Namespace) -> int:
    if _actions_usage(args):
        echo(f"tools/lab: {_actions_usage(args)}")
        return EXIT_USAGE
    lab = Lab.up(
        args.provider,
        log=lambda s: echo(f"   {s}"),
        variant=args.variant,
        cloud_actions=args.cloud_actions,
    )
    echo(guide(lab))
    return EXIT_OK


def cmd_down(args: argparse.Namespace) -> int:
    code = EXIT_OK
    found = 0
    for reg in kept_runs():
        if args.run and reg.meta.get("run") != args.run:
            continue
        if args.provider and reg.meta.get("provider") != args.provider:
            continue
        found += 1
        if reg.owner_alive() and not args.run:
            echo(
                f"run {reg.meta.get('run')}: in use by pid {reg.meta.get('owner_pid')} "
                f"(a running smoke, test or bench); name it with --run to tear it down anyway"
            )
            continue
        errors = reg.close()
        echo(f"run {reg.meta.get('run')} ({reg.meta.get('provider')}): torn down")
        for e in errors:
            echo(f"  could not release {e}")
            code = EXIT_FAIL
    if not found:
        echo(f"no kept runs under {RUNS_DIR}")
    return code


def _actions_usage(args: argparse.Namespace) -> str:
    """Why ``--cloud-actions`` does not fit ``--provider`` ("" when it does)."""
    if not args.cloud_actions or args.provider in (*ACTION_PROVIDERS, "all"):
        return ""
    return (
        f"--cloud-actions runs with --provider {' or '.join(ACTION_PROVIDERS)} (the clouds "
        f"whose double the lab runs), not {args.provider}"
    )


def cmd_plan(args: argparse.Namespace) -> int:
    if _actions_usage(args):
        echo(f"tools/lab: {_actions_usage(args)}")
        return EXIT_USAGE
    providers = PROVIDERS if args.provider == "all" else (args.provider,)
    if args.cloud_actions and args.provider == "all":
        providers = ACTION_PROVIDERS
    outcome = {
        p: run_plan(args.command, p, args.keep, args.variant, args.cloud_actions) for p in providers
    }
    if len(providers) > 1:
        echo("== " + ", ".join(f"{p} {'PASS' if ok else 'FAIL'}" for p, ok in outcome.items()))
    return EXIT_OK if all(outcome.values()) else EXIT_FAIL


def cmd_mobility(args: argparse.Namespace) -> int:
    as_json = args.output == "json"

    def say(text: str) -> None:
        print(text, file=sys.stderr if as_json else sys.stdout, flush=True)

    scenarios = args.scenario or default_scenarios(args.cloud_actions)
    wrong = [n for n in scenarios if n in (HAND_PROVIDER if args.cloud_actions else CLOUD_ACTIONS)]
    if wrong:
        say(
            f"tools/lab mobility: {', '.join(wrong)} "
            + (
                "plays the provider by hand: not with --cloud-actions (cloud-moves does it "
                "through routerd)"
                if args.cloud_actions
                else "needs --cloud-actions"
            )
        )
        return EXIT_USAGE
    try:
        out, ok = mobrun.main(
            args.control, scenarios, args.runs, args.keep, say, args.cloud_actions
        )
    except ValueError as exc:
        say(f"tools/lab mobility: {exc}")
        return EXIT_USAGE
    if as_json:
        print(json.dumps(out, indent=2))
    else:
        say(f"== mobility run {out['run']} ({out['control']}): {'PASS' if ok else 'FAIL'}")
    return EXIT_OK if ok else EXIT_FAIL


def cmd_redundancy(args: argparse.Namespace) -> int:
    as_json = args.output == "json"

    def say(text: str) -> None:
        print(text, file=sys.stderr if as_json else sys.stdout, flush=True)

    pairs = tuple(args.pair or redrun.PAIRS)
    redcloud.set_claims(args.cloud_claims)
    out, ok = redrun.main(args.kind or list(redrun.KINDS), args.runs, args.keep, say, pairs)
    if as_json:
        print(json.dumps(out, indent=2))
    else:
        say(f"== redundancy run {out['run']}: {'PASS' if ok else 'FAIL'}")
    return EXIT_OK if ok else EXIT_FAIL


def _redundancy_parser(sub: Any) -> None:
    red = sub.add_parser(
        "redundancy",
        help="an on-prem and a cloud router pair: fail the active router every way, checks "
        "and figures",
        description="Build a pair of routerd routers (keepalived supervised by routerd) and "
        "a client on one LAN; crash the active router (every process of it), cut its link, "
        "pause it (SIGSTOP of every process) and kill its routerd alone; check that the "
        "client never hears two routers and that a recovered router comes back standby, "
        "fail back with routerctl failback after each, and print figures (medians of "
        "--runs runs): failover_ms per kind, the virtual address's outage, "
        "failback_outage_ms. The cloud pair (two routers on a cloud subnet of the AWS "
        "double, the fabric delivering each secondary IP to the NIC holding it) is crashed, "
        "cut and paused too: its new active router must move every secondary IP to its own "
        "NIC, the recovered one must not take them back, failback moves them back; figures "
        "cloud_failover_ms per kind (the first echo delivered to the new active router), "
        "cloud_failover_all_ms per kind (every claimed address on its NIC) and "
        "provider_api_ms.",
    )
    red.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    red.add_argument("-o", "--output", choices=("text", "json"), default="text")
    red.add_argument("--runs", type=_runs, default=5, help="runs per failure kind (default 5)")
    red.add_argument(
        "--kind",
        action="append",
        choices=list(redrun.KINDS),
        help="run only this failure kind (repeatable; default: all, in order)",
    )
    red.add_argument(
        "--pair",
        action="append",
        choices=list(redrun.PAIRS),
        help="run only this pair's failures (repeatable; default: both)",
    )
    red.add_argument(
        "--cloud-claims",
        type=int,
        default=2,
        metavar="N",
        help=f"addresses the cloud pair claims and moves at each failover (1-"
        f"{redcloud.MAX_CLAIMS}, default 2)",
    )
    red.set_defaults(func=cmd_redundancy)


def _runs(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("--runs must be at least 1")
    return value


def _mobility_parser(sub: Any) -> None:
    mob = sub.add_parser(
        "mobility",
        help="the three-site address-mobility lab: scenarios, checks and figures",
        description="Build two on-prem sites and a cloud site with a BGP route reflector, run "
        "the self-check and the mobility scenarios (live migration, explicit moves, partition, "
        "restarts), print "
        "checks and figures, tear down. Figures are medians of --runs runs.",
    )
    mob.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    mob.add_argument("-o", "--output", choices=("text", "json"), default="text")
    mob.add_argument("--runs", type=_runs, default=5, help="runs per timed case (default 5)")
    mob.add_argument(
        "--control",
        choices=MODES,
        default="auto",
        help="routerd (needs routerd with mobility), hand-played (the lab's own controller) "
        "or auto (routerd when available)",
    )
    mob.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable; default: all that fit, in order)",
    )
    mob.add_argument(
        "--cloud-actions",
        action="store_true",
        help="the cloud site's capture through routerd's provider actions against the AWS "
        "double (moto), the fabric following the double; runs cloud-moves in place of "
        "explicit-moves and adds the figures cloud_move_in_ms, cloud_move_out_ms and "
        "provider_api_ms (needs --control routerd or auto)",
    )
    mob.set_defaults(func=cmd_mobility)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/lab",
        description="The network-namespace lab (docs/lab.md): real routerd, real kernel "
        "objects, the smoke per provider.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="build a lab and leave it running")
    up.add_argument("--provider", required=True, choices=PROVIDERS)
    up.add_argument("--keep", action="store_true", help="accepted for symmetry: up always keeps")
    _variant(up)
    _cloud_actions(up)
    up.set_defaults(func=cmd_up)
    for name, what in (("smoke", "the smoke (lab.md 1-6)"), ("faults", "the faults (lab.md 7)")):
        sp = sub.add_parser(name, help=f"build a lab, run {what}, tear down")
        sp.add_argument("--provider", required=True, choices=(*PROVIDERS, "all"))
        sp.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
        _variant(sp)
        _cloud_actions(sp)
        sp.set_defaults(func=cmd_plan)
    down = sub.add_parser("down", help="tear down kept runs")
    down.add_argument("--run", metavar="ID", help="only this run")
    down.add_argument("--provider", choices=PROVIDERS, help="only runs of this provider")
    down.set_defaults(func=cmd_down)
    _mobility_parser(sub)
    _redundancy_parser(sub)
    return p


def _cloud_actions(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cloud-actions",
        action="store_true",
        help="no provider step: routerd assigns the cloud router's secondary IP itself "
        "through the cloud's double (aws: moto); the fabric follows the double",
    )


def _variant(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--variant",
        default="",
        choices=VARIANTS[1:],
        help="a config variant: descriptive-overlay drops the IPv4StaticAddress of each "
        "OverlayPeer's own address (the addresses stay only descriptive)",
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        echo("interrupted; the lab was torn down")
        return EXIT_FAIL
    return code


if __name__ == "__main__":
    sys.exit(main())
