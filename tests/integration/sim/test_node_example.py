"""The Node.js example (examples/automation/node) against ``routerd serve --world``.

It is run the way its README says: ``npm install`` into a fresh directory from the npm
registry (``@grpc/grpc-js``, ``@grpc/proto-loader``), a world served by a real ``routerd
serve`` process, then ``node --test`` with the published protos. Skipped, with the reason,
when node or npm is missing or the registry cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from routerd.examples import world_file
from tests.integration.api.harness import run_ctl
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "automation" / "node"


@pytest.fixture
def node_project(tmp_path: Path) -> Path:
    """The example copied to a fresh directory with its dependencies installed.

    Name: node_project / Scope: function / Depends: tmp_path, node, npm, the npm registry.
    """
    missing = [t for t in ("node", "npm") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed")
    project = tmp_path / "node"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("node_modules"))
    npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(npm, cwd=project, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install timed out (npm registry unreachable?)")
    if done.returncode != 0:
        pytest.skip(f"npm install failed (npm registry unreachable?): {done.stderr[-400:]}")
    return project


def test_node_example_passes_against_a_served_world(node_project, tmp_path, sockdir):
    run = sockdir / "run"
    argv = [
        sys.executable,
        "-m",
        "routerd.cli.routerd_main",
        "serve",
        "--backend",
        "sim",
        "--world",
        str(world_file("azure")),
        "--socket-dir",
        str(run),
        "--state-dir",
        str(tmp_path / "state"),
    ]
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        for router in ("cloud-router", "onprem-router"):
            sock = str(run / f"{router}.sock")
            wait_until(
                lambda s=sock: (
                    None if run_ctl("--socket", s, "status").code == 0 else "not serving"
                ),
                what=f"{router} serving",
            )
        env = {
            **os.environ,
            "ROUTERD_SOCKET_DIR": str(run),
            "ROUTERD_PROTO_DIR": str(ROOT / "proto"),
        }
        done = subprocess.run(
            ["node", "--test"],
            cwd=node_project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        assert "# pass 4" in done.stdout and "# fail 0" in done.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
