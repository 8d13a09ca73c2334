"""``routerd plan``, ``routerd apply --once`` and ``routerd serve`` (one router, or a world)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from routerd.cli import provider_actions
from routerd.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    add_backend,
    add_config,
    add_output,
    add_socket,
    add_state_dir,
    add_world,
    die,
    table,
)
from routerd.cli.public_keys import existing_public_keys
from routerd.cli.validate_cmd import load_config, print_issues
from routerd.core.config import RouterConfig
from routerd.core.desired import DataplaneObject
from routerd.core.effective import build_effective
from routerd.core.engine import Engine, EngineSettings
from routerd.core.errors import ConfigError
from routerd.core.lifecycle import ClaimState
from routerd.core.lowering import lower, observe_scope
from routerd.core.plan import diff
from routerd.core.port import Change, describe_object
from routerd.core.state_port import StoreError
from routerd.daemon import registry
from routerd.keys import KeyFiles
from routerd.state.guard import open_guarded
from routerd.state.store import JOURNAL_KEEP, Store

LOG = logging.getLogger("routerd.serve")

EXIT_STATE = 78
"""``serve`` refused its state directory (damaged database, held by another process): the
systemd unit does not restart on it (``RestartPreventExitStatus=``); a person must act."""


def _startup(args: argparse.Namespace) -> RouterConfig | None:
    result = load_config(args.config)
    print_issues(result)
    return result.config if result.valid else None


def _change_json(c: Change) -> dict[str, Any]:
    obj: DataplaneObject | None = c.new if c.new is not None else c.old
    return {
        "op": c.op,
        "key": "/".join(c.key),
        "object": describe_object(obj) if obj else "",
        "was": describe_object(c.old) if c.old is not None and c.op == "replace" else "",
        "owners": list(c.owners),
    }


def cmd_plan(args: argparse.Namespace) -> int:
    config = _startup(args)
    if config is None:
        return EXIT_USAGE
    state_dir = Path(args.state_dir)
    parts = []
    if (state_dir / "routerd.db").exists():
        try:
            parts = Store.open(state_dir, readonly=True).list_parts()
        except StoreError as e:
            return die(str(e))
    eff = build_effective(config, parts, time.time())
    key_dir = str(state_dir / "keys")
    lowered = lower(
        eff.config,
        key_dir=key_dir,
        public_keys=existing_public_keys(eff.config, key_dir, in_key_dir=args.backend == "sim"),
    )
    try:
        backend = registry.create(args.backend, config=eff.config, store=None, state_dir=state_dir)
    except registry.BackendUnavailable as e:
        return die(str(e))
    observed = backend.observe(observe_scope(lowered))
    changes = diff(lowered.desired, observed)
    backend.close(cleanup=False)
    counts = {"add": 0, "replace": 0, "remove": 0}
    for c in changes:
        counts[c.op] += 1
    actions = provider_actions.for_config(eff.config)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "router": config.name,
                    "backend": args.backend,
                    "changes": [_change_json(c) for c in changes],
                    "summary": counts,
                    "providerActions": [a.as_dict() for a in actions],
                },
                indent=2,
            )
        )
        return EXIT_OK
    print(f"Plan for router {config.name} (backend {args.backend}, read-only):")
    sign = {"add": "+", "replace": "~", "remove": "-"}
    for c in changes:
        j = _change_json(c)
        owners = f"  [{', '.join(c.owners)}]" if c.owners else ""
        was = f" (was: {j['was']})" if j["was"] else ""
        print(f"  {sign[c.op]} {j['object']}{was}{owners}")
    if not changes:
        print("  no changes: the host matches the config")
    print(f"{counts['add']} to add, {counts['replace']} to change, {counts['remove']} to remove.")
    for line in provider_actions.render(actions):
        print(line)
    return EXIT_OK


def claim_rows(engine: Engine) -> list[list[str]]:
    rows = []
    for v in sorted(engine.snapshot.claims.values(), key=lambda v: v.name):
        rows.append([v.name, v.address, v.state, v.reason or "-", v.message or ""])
    return rows


def cmd_apply(args: argparse.Namespace) -> int:
    if not args.once:
        return die("apply needs --once (use `routerd serve` to keep reconciling)", EXIT_USAGE)
    config = _startup(args)
    if config is None:
        return EXIT_USAGE
    state_dir = Path(args.state_dir)
    try:
        store = open_guarded(state_dir)
    except (StoreError, OSError) as e:
        return die(str(e))
    try:
        backend = registry.create(args.backend, config=config, store=store, state_dir=state_dir)
    except (registry.BackendUnavailable, OSError) as e:
        store.close()
        return die(str(e))
    from routerd.providers import config_checks

    engine = Engine(
        backend,
        config,
        store=store,
        extra_checks=[config_checks],
        provider=registry.provider_evidence(args.backend, backend),
        keys=KeyFiles(),
        settings=EngineSettings(
            key_dir=str(state_dir / "keys"), keys_in_key_dir=args.backend == "sim"
        ),
    )
    ok = engine.settle(timeout=args.timeout, until=ClaimState.DELIVERING)
    engine.close(cleanup=False)
    store.close()
    if args.output == "json":
        print(
            json.dumps(
                {
                    "settled": ok,
                    "claims": [
                        dict(zip(("name", "address", "state", "reason", "message"), r, strict=True))
                        for r in claim_rows(engine)
                    ],
                },
                indent=2,
            )
        )
    else:
        rows = claim_rows(engine)
        print(
            table(rows, ["NAME", "ADDRESS", "STATE", "REASON", "DETAIL"])
            if rows
            else "no claims in this config"
        )
        if not ok:
            print(f"not every claim reached delivering within {args.timeout:.0f}s")
    return EXIT_OK if ok else EXIT_FAIL


def _serve_world(args: argparse.Namespace) -> int:
    """``serve --world``: every router of a simulated world in this process."""
    from routerd.backends.sim.worldfile.load import load_world_file
    from routerd.daemon.world import WorldHost, WorldOptions

    refused = [
        f
        for f, v in (("--listen-tcp", args.listen_tcp), ("--metrics-listen", args.metrics_listen))
        if v
    ]
    if args.backend != "sim" or refused:
        why = f"{refused[0]} does not apply" if refused else "--world needs --backend sim"
        return die(
            f"{why}: a simulated world's routers take their configs from the World "
            "file and each serves its Unix socket in --socket-dir",
            EXIT_USAGE,
        )
    world = load_world_file(args.world)
    for issue in world.errors:
        print(f"error: {issue.render()}", file=sys.stderr)
    for issue in world.warnings:
        print(f"warning: {issue.render()}", file=sys.stderr)
    if not world.valid:
        return EXIT_USAGE
    opts = WorldOptions(
        world_file=args.world,
        state_dir=Path(args.state_dir),
        socket_dir=Path(args.socket_dir or Path(args.socket).parent),
        routers=tuple(args.router or ()),
        socket_group=args.socket_group,
        resync_interval=args.resync_interval,
        cleanup_on_exit=args.cleanup_on_exit,
    )
    try:
        host = WorldHost(opts, world)
    except ConfigError as e:
        for issue in e.issues:
            print(f"error: {issue.render()}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, OSError) as e:
        return die(
            f"{e}; give --state-dir and --socket-dir directories you can write to "
            "(a simulated world needs no root)"
        )
    return host.run()


def cmd_serve(args: argparse.Namespace) -> int:
    from routerd.cli import logs, native_stderr
    from routerd.configfile import stamp
    from routerd.daemon import gcpolicy
    from routerd.daemon.service import Daemon, DaemonOptions

    logs.route_exceptions()
    if getattr(args, "log_format", "text") == "json":
        native_stderr.redirect()  # gRPC's C core writes to fd 2: keep the stream JSON
    gcpolicy.apply()
    if args.world:
        return _serve_world(args)
    first_pass = gcpolicy.FirstPass()
    first_pass.begin()
    before = stamp(args.config)
    result = load_config(args.config)
    if not result.valid:
        for e in result.errors:
            LOG.error("invalid config: %s", e.render())
        LOG.error("routerd cannot start: %s has %d error(s)", args.config, len(result.errors))
        return EXIT_USAGE
    for w in result.warnings:
        LOG.warning("config warning: %s", w.render())
    assert result.config is not None
    opts = DaemonOptions(
        config_path=args.config,
        backend=args.backend,
        state_dir=Path(args.state_dir),
        socket=args.socket,
        socket_group=args.socket_group,
        listen_tcp=args.listen_tcp,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        metrics_listen=args.metrics_listen,
        cleanup_on_exit=args.cleanup_on_exit,
        resync_interval=args.resync_interval,
        full_pass_interval=args.full_pass_interval,
        reference_engine=args.reference_engine,
        journal_keep=args.journal_keep,
    )
    gcpolicy.trim()  # what loading freed
    try:
        daemon = Daemon(opts, result.config, load_config, config_stamp=before)
    except (registry.BackendUnavailable, StoreError, OSError) as e:
        LOG.error("routerd cannot start: %s", e)
        return EXIT_STATE if isinstance(e, StoreError) else EXIT_FAIL
    daemon.pass_hooks.append(first_pass.after_pass)
    daemon.pass_hooks.append(gcpolicy.trim_after_pass)
    code = daemon.run()
    _leave(code)
    return code  # not reached: _leave exits


def _journal_keep(text: str) -> int:
    """``--journal-keep``: a whole number of rows, 0 or more."""
    try:
        rows = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of rows: {text!r}") from None
    if rows < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (keep all) or more, not {rows}")
    return rows


def _leave(code: int) -> None:
    """Exit as soon as the orderly stop is done.

    By now the store is closed, the socket removed and the dataplane left as decided. What
    normal interpreter teardown would add is a wait for every gRPC worker thread to finish
    its request (they are joined at exit whatever their daemon flag), which a long plugin
    run or a slow client can stretch to minutes; so the process leaves here, logs flushed.
    """
    busy = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    LOG.info("routerd stopped code=%d threads_left=%d", code, len(busy))
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "plan",
        help="show what apply would change (read-only)",
        description="Observe the host and print the changes that would make "
        "it match the config. Changes nothing.",
    )
    add_config(p)
    add_backend(p)
    add_state_dir(p)
    add_output(p, ("text", "json"), "text")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser(
        "apply",
        help="apply the config once and report claim states",
        description="Apply the config, wait for claims to settle and print "
        "their states. Exit 0 when every claim is at least delivering.",
    )
    add_config(p)
    add_backend(p)
    add_state_dir(p)
    p.add_argument("--once", action="store_true", help="apply once and exit (required)")
    p.add_argument("--timeout", type=float, default=30.0, help="settle timeout in seconds")
    add_output(p, ("text", "json"), "text")
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser(
        "serve",
        help="run the daemon",
        description="Reconcile continuously and serve the gRPC API. SIGTERM "
        "leaves the dataplane in place; SIGHUP reloads the config. With --backend sim "
        "--world FILE: one daemon per router of the simulated world, each with its socket "
        "<socket-dir>/<router>.sock and state dir <state-dir>/<router>, sharing a virtual "
        "clock, plus SimService (faults, VM moves, packet traces, time) on every socket.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    add_config(source, required=False)
    add_world(source)
    add_backend(p)
    add_state_dir(p)
    add_socket(p)
    p.add_argument(
        "--router",
        action="append",
        metavar="NAME",
        help="with --world: host only this router (repeatable; default: every router)",
    )
    p.add_argument(
        "--socket-dir",
        metavar="DIR",
        help="with --world: directory of the routers' sockets (default: the --socket directory)",
    )
    p.add_argument("--socket-group", metavar="GROUP", help="group owning the socket (mode 0660)")
    p.add_argument(
        "--listen-tcp",
        metavar="HOST:PORT",
        help="also listen on TCP, mutual TLS only (needs --tls-*)",
    )
    p.add_argument("--tls-cert", metavar="FILE", help="server certificate (PEM)")
    p.add_argument("--tls-key", metavar="FILE", help="server private key (PEM)")
    p.add_argument("--tls-client-ca", metavar="FILE", help="CA that signs client certificates")
    p.add_argument(
        "--metrics-listen", metavar="HOST:PORT", help="serve Prometheus metrics on this address"
    )
    p.add_argument(
        "--cleanup-on-exit",
        action="store_true",
        help="remove everything routerd owns when stopping",
    )
    p.add_argument(
        "--resync-interval",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="longest wait between passes when nothing wakes the daemon (default 15)",
    )
    p.add_argument(
        "--full-pass-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how often a pass looks at the whole host and every claim; other passes "
        "handle only what changed (default 60)",
    )
    p.add_argument(
        "--reference-engine",
        action="store_true",
        help="run the plain whole-state engine: every pass lowers, observes and judges "
        "everything (same results, slower); the first step when the incremental engine "
        "is in doubt (docs/troubleshooting.md)",
    )
    p.add_argument(
        "--journal-keep",
        type=_journal_keep,
        default=JOURNAL_KEEP,
        metavar="ROWS",
        help=f"rows each journal (claim transitions, address moves, provider actions) keeps, "
        f"the newest; older ones are deleted (open provider actions never; 0: keep all; "
        f"default {JOURNAL_KEEP:,})",
    )
    p.set_defaults(func=cmd_serve)
