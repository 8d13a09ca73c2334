"""``routerctl doctor --local -c FILE``: the doctor's checks in this process, without a daemon.

The context is built from the config file and, when it exists, the state directory opened
read-only (``routerctl`` never writes state); the report is the one the daemon would send.
This module imports the checks, the config loader and the state store, so ``routerd.cli.
ctl_doctor`` imports it only for ``--local``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from routerd.api.convert import doctor_report
from routerd.cli.common import EXIT_USAGE
from routerd.cli.ctl_client import CtlError
from routerd.cli.public_keys import existing_public_keys
from routerd.cli.validate_cmd import load_config, print_issues
from routerd.core.doctor import DoctorContext
from routerd.core.effective import build_effective
from routerd.core.lowering import lower
from routerd.core.state_port import StoreError
from routerd.doctor import run_doctor
from routerd.providers import config_checks
from routerd.state.store import DB_NAME, Store
from routerd.v1 import doctor_pb2


def local_context(args: argparse.Namespace) -> DoctorContext:
    """The doctor's inputs from a config file and a read-only state directory."""
    result = load_config(args.config)
    print_issues(result)
    if not result.valid or result.config is None:
        raise CtlError(f"{args.config} is invalid; fix it before running doctor", EXIT_USAGE)
    startup = result.config
    state_dir = Path(args.state_dir)
    store = None
    if (state_dir / DB_NAME).exists():
        try:
            store = Store.open(state_dir, readonly=True)
        except StoreError as e:
            raise CtlError(str(e)) from None
    eff = build_effective(
        startup, store.list_parts() if store else [], time.time(), extra_checks=[config_checks]
    )
    key_dir = str(state_dir / "keys")
    keys = existing_public_keys(eff.config, key_dir, in_key_dir=args.backend == "sim")
    lowered = lower(eff.config, key_dir=key_dir, public_keys=keys)
    return DoctorContext(
        startup=startup,
        effective=eff,
        lowered=lowered,
        store=store,
        host=not args.no_host,
        probe=args.probe,
        backend=args.backend,
    )


def run_local(args: argparse.Namespace) -> doctor_pb2.DoctorReport:
    """Run ``args.area``'s checks here against ``args.config`` and ``args.state_dir``.

    Args:
        args: ``routerctl doctor``'s parsed arguments (``--local`` given).

    Returns:
        The report, as ``RunDoctor`` would return it.
    """
    return doctor_report(args.area, run_doctor(args.area, local_context(args)))
