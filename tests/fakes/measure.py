"""Measure executor latency against each cloud double: ``python -m tests.fakes.measure``.

For every cloud: start its double, point the SDK's default credential chain at it, build
the executor and time N assign / reassign / unassign actions (each one a holder read, the
write, and the verifying read) and N holder reads. Prints one JSON object per cloud with
the median and p95 in milliseconds. The doubles answer in milliseconds; real clouds take
seconds, so these figures are the executor's and SDK's own overhead, not a cloud's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from routerd.providers.execution import ExecutorConfig
from routerd.providers.registry import build_executor


def _start(cloud: str) -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any]]:
    module = importlib.import_module(f"tests.fakes.{cloud}")
    fake = getattr(
        module, {"aws": "AwsFake", "azure": "AzureFake", "oci": "OciFake", "gcp": "GcpFake"}[cloud]
    )()
    world = fake.seed()
    extra: dict[str, Any] = {}
    scope: dict[str, Any] = {}
    if cloud == "aws":
        os.environ.update(
            AWS_CONFIG_FILE="/nonexistent",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
            AWS_EC2_METADATA_SERVICE_ENDPOINT=fake.url + "/",
        )
        extra["region"] = fake.region
    elif cloud == "azure":
        os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = fake.url
        extra["poll_interval"] = 0.001
        scope["subscription"] = world["subscription"]
    elif cloud == "oci":
        os.environ["OCI_METADATA_BASE_URL"] = fake.url + "/opc/v2"
        extra["auth_endpoint"] = fake.url + "/v1/x509"
    else:
        os.environ.update(
            CLOUDSDK_CONFIG=tempfile.mkdtemp(),
            GCE_METADATA_HOST=fake.metadata_host,
            GCE_METADATA_IP=fake.metadata_host,
        )
        if "google.auth.compute_engine._metadata" in sys.modules:
            importlib.reload(sys.modules["google.auth.compute_engine._metadata"])
        scope["project"] = world["project"]
    return fake, world, extra, scope


def _timed(samples: list[float], call: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    out = call()
    samples.append((time.perf_counter() - t) * 1000.0)
    return out


def _round(
    ex: Any, times: dict[str, list[float]], a: str, b: str, ip: str, key: str, cloud: str
) -> None:
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("assign", lambda: ex.assign(a, ip, reassign=False, key=f"{key}-a")),
        ("reassign", lambda: ex.assign(b, ip, reassign=True, key=f"{key}-r")),
        ("holder", lambda: ex.holder(ip)),
        ("unassign", lambda: ex.unassign(b, ip, key=f"{key}-u")),
    ]
    for op, call in steps:
        result = _timed(times[op], call)
        if op != "holder" and not result.ok:
            raise SystemExit(f"{cloud} {op} failed: {result.error}")


def measure(cloud: str, n: int) -> dict[str, Any]:
    """Median and p95 (ms) of assign, reassign, unassign and holder against ``cloud``."""
    fake, world, extra, scope = _start(cloud)
    try:
        config = ExecutorConfig(subnet=world["subnet"], endpoint=fake.url, allow_http=True, **extra)
        ex = build_executor(cloud, config, **scope)
        a, b = world["nics"][:2]
        prefix = world["vm_primary"].rsplit(".", 1)[0]
        ex.holder(world["vm_primary"])  # credentials fetched once, outside the samples
        times: dict[str, list[float]] = {"assign": [], "reassign": [], "unassign": [], "holder": []}
        for i in range(n):
            _round(ex, times, a, b, f"{prefix}.{100 + i % 100}", f"m{i}", cloud)
        return {
            "cloud": cloud,
            "n": n,
            **{
                f"{op}_ms": {
                    "median": round(statistics.median(v), 2),
                    "p95": round(sorted(v)[max(0, int(len(v) * 0.95) - 1)], 2),
                }
                for op, v in times.items()
            },
        }
    finally:
        fake.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.measure", description=__doc__)
    ap.add_argument("--n", type=int, default=20, help="actions per kind and cloud")
    ap.add_argument("clouds", nargs="*", default=["aws", "azure", "oci", "gcp"])
    args = ap.parse_args(argv)
    for cloud in args.clouds:
        print(json.dumps(measure(cloud, args.n)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
