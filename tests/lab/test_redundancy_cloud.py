"""The redundancy lab's cloud pair (``tools/lab redundancy --pair cloud``): every check holds.

One run each of crash, cut and pause of the active cloud router over the AWS double, each
followed by ``routerctl failback``. The checks asserted: the new active router reassigned
every secondary IP to its own ENI (its journal), the recovered router took nothing back
and nothing was delivered to it (the fence), failback moved them back, no action failed
(no fight at the provider), no Traceback, everything torn down; every figure measured.
"""

from __future__ import annotations

import os

import pytest

from tests.lab.conftest import _missing_tools
from tools.labkit import redcloudrun, redrun

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]


def test_cloud_pair_fails_over_through_the_provider() -> None:
    missing = [t for t in _missing_tools() if t == "ping"]
    if missing or os.geteuid() != 0:
        pytest.skip("the redundancy lab needs root and ping")
    out, ok = redrun.main(list(redcloudrun.KINDS), 1, False, print, ("cloud",))
    failed = [c for c in out["checks"] if not c["ok"]]
    assert ok and not failed, failed
    names = {c["name"] for c in out["checks"]}
    for kind in redcloudrun.KINDS:
        assert f"cloud {kind}: cb reassigned every secondary IP to its ENI" in names, names
        assert f"cloud {kind}: the recovered router took nothing back" in names, names
    figures = {f["name"] for f in out["figures"]}
    want = {f"cloud_failover_ms.{k}" for k in redcloudrun.KINDS}
    assert want | {"provider_api_ms", "cloud_failback_ms"} <= figures, figures
    assert not any(n.startswith(f"lab{out['run']}-") for n in os.listdir("/var/run/netns"))
