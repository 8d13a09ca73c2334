"""One provider-reconciler run in its own process, killed (SIGKILL) at a chosen point.

``python -m tests.integration.providers.crash_child --state-dir D --config F [--kill AT]``
loads the Router config ``F`` the way the daemon does, runs the ``ActionRunner`` once
against the store in ``D`` and the cloud double the environment points at
(``ROUTERD_PROVIDER_ENDPOINT`` and each SDK's own overrides), and with ``--kill AT``
SIGKILLs itself at that hook point (``before-call`` or ``after-call``): no ``finally``, no
journal write after it. Without ``--kill`` it prints the run's report as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from routerd.core.lowering import lower
from routerd.providers.action_runner import ActionRunner
from routerd.providers.execution import RetryPolicy
from routerd.providers.executor_factory import ExecutorFactory
from routerd.providers.targets import desired_targets
from routerd.state.store import Store
from tests.unit.providers.action_kit import load_config


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--kill", choices=("before-call", "after-call"))
    args = ap.parse_args(argv)
    config = load_config(Path(args.config).read_text())
    wanted = desired_targets(config, lower(config, key_dir="/nonexistent").claims)
    overrides = {
        "retry": RetryPolicy(attempts=4, base=0.001, cap=0.01, deadline=5.0),
        "settle_timeout": 2.0,
        "poll_interval": 0.001,
    }
    factory = ExecutorFactory(overrides=overrides)

    def hook(at: str, rec: object) -> None:
        if at == args.kill:
            os.kill(os.getpid(), signal.SIGKILL)

    store = Store.open(args.state_dir)
    runner = ActionRunner(store, lambda pt: factory(pt.profile), hook=hook)
    reports = runner.run(wanted)
    store.close()
    print(json.dumps([asdict(r) for r in reports]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
