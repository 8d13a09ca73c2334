"""The runtime floors in pyproject.toml are true: routerd imports and serves at exactly them.

A user's pip is free to pick any version the declared ranges allow, the lowest included, so
a floor that is only hopeful becomes a RuntimeError at start on someone's machine (the
generated routerd/v1 code, for one, refuses a grpcio or protobuf older than its generator).
This builds a fresh venv, installs the declared runtime requirements constrained to
``==floor`` for every one of them (pip's index and cache; transitive dependencies resolve as a
user's would), then starts ``routerd serve --backend sim`` from the checkout on a temp socket
and asks it for status and for gRPC health, all with the floor venv's interpreter.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.configs import EXAMPLES, with_keys
from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEALTH = """
import sys, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
with grpc.insecure_channel("unix:" + sys.argv[1]) as channel:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
print(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
"""


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def floor(req: Requirement) -> str | None:
    """The lowest version ``req`` admits, when it names one (``>=`` or ``==``)."""
    for spec in req.specifier:
        if spec.operator in (">=", "=="):
            return spec.version
    return None


def test_every_runtime_dependency_declares_a_floor():
    missing = [str(r) for r in runtime_requirements() if floor(r) is None]
    assert not missing, f"runtime dependencies without a tested floor (>= or ==): {missing}"


@pytest.fixture
def floor_venv() -> Iterator[Path]:
    """Name: floor_venv / Scope: function / Depends: nothing. A venv at the declared floors."""
    path = Path(tempfile.mkdtemp(prefix="rdfloor-", dir="/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", path / "venv"], check=True)
        python = path / "venv" / "bin" / "python"
        reqs = runtime_requirements()
        constraints = path / "floors.txt"
        constraints.write_text("".join(f"{r.name}=={floor(r)}\n" for r in reqs))
        install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        proc = subprocess.run(
            [*install, "--constraint", str(constraints), *map(str, reqs)],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert proc.returncode == 0, f"the declared floors do not install:\n{proc.stderr}"
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def installed(python: Path) -> dict[str, str]:
    code = "import importlib.metadata as m\nfor d in m.distributions(): print(d.name, d.version)"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    pairs = (line.split() for line in out.splitlines())
    return {name.lower().replace("_", "-"): version for name, version in pairs}


def test_routerd_imports_and_serves_at_the_declared_floors(floor_venv):
    python = floor_venv / "venv" / "bin" / "python"
    versions = installed(python)
    for req in runtime_requirements():
        have = versions[req.name.lower().replace("_", "-")]
        assert Version(have) == Version(str(floor(req))), f"{req.name} {have}, not its floor"
    config = floor_venv / "router.yaml"
    example = (EXAMPLES / "aws" / "cloud.yaml").read_text()
    config.write_text(with_keys(example, floor_venv / "keys"))
    sock = str(floor_venv / "s.sock")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}
    log = floor_venv / "serve.log"
    serve = [python, "-m", "routerd.cli.routerd_main", "serve", "-c", config, "--backend", "sim"]
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [*serve, "--state-dir", floor_venv / "state", "--socket", sock],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    ctl = [python, "-m", "routerd.cli.routerctl_main", "--socket", sock, "status"]

    def status() -> str | None:
        if daemon.poll() is not None:
            pytest.fail(f"routerd exited {daemon.returncode} at the floors:\n{log.read_text()}")
        r = subprocess.run(ctl, env=env, capture_output=True, text=True, timeout=30, check=False)
        return None if r.returncode == 0 and "backend sim" in r.stdout else r.stderr or r.stdout

    try:
        wait_until(status, timeout=60, interval=0.5, what="routerd serving at the floors")
        health = subprocess.run(
            [python, "-c", HEALTH, sock], env=env, capture_output=True, text=True, timeout=30
        )
        assert health.stdout.strip() == "SERVING", health.stderr
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
