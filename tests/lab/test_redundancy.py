"""The redundant-router lab (``tools/lab redundancy``): every check holds for every kind.

One run per failure kind (the CLI's default is five): the active router crashed, cut off,
paused and its routerd killed alone, each followed by ``routerctl failback``. The test
asserts the checks (never two answers, the recovered router standby, the takeover
announced, no Traceback, everything torn down) and that every figure was measured; the
timing targets are figures, printed here and by ``tools/lab redundancy -o json``. The
cloud pair has its own test (``test_redundancy_cloud``).
"""

from __future__ import annotations

import os

import pytest

from tests.lab.conftest import _missing_tools
from tools.labkit import redrun

pytestmark = [pytest.mark.lab, pytest.mark.timeout(600)]


def test_every_failure_kind_passes_its_checks() -> None:
    missing = [t for t in _missing_tools() if t == "ping"]
    if missing or os.geteuid() != 0:
        pytest.skip("the redundancy lab needs root and ping")
    out, ok = redrun.main(list(redrun.KINDS), 1, False, print, ("onprem",))
    failed = [c for c in out["checks"] if not c["ok"]]
    assert ok and not failed, failed
    names = {f["name"] for f in out["figures"]}
    want = {f"failover_ms.{k}" for k in ("crash", "cut", "pause")}
    assert want | {"failback_outage_ms", "vip_outage_ms.cut"} <= names, names
    assert not any(n.startswith(f"lab{out['run']}-") for n in os.listdir("/var/run/netns"))
