"""routerd.testing as a user without privileges: the Python example and the two-site test.

The examples/automation/python tests and the two-site move test are copied into a fresh
directory outside this repository (as a user's project would be) and run by a separate
pytest as ``nobody`` (``setpriv`` when this suite runs as root; otherwise the suite's own
user is already unprivileged). The fixtures must come from routerd's ``pytest11`` entry
point, since nothing in that directory configures them.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def as_unprivileged(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
    for needed in (Path(sys.executable), ROOT):
        closed = closed_ancestor(needed)
        if closed is not None:
            pytest.skip(
                f"{closed} (mode {stat.S_IMODE(closed.stat().st_mode):04o}) keeps other users "
                f"out of {needed}, so an unprivileged user cannot run this checkout; run the "
                "suite from a checkout under directories others may enter (o+x)"
            )
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]


def closed_ancestor(path: Path) -> Path | None:
    """The first directory above ``path`` that users other than its owner cannot enter."""
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


@pytest.fixture
def project() -> Iterator[Path]:
    """A directory any user can read, holding the tests a user would write.

    Name: project / Scope: function / Depends: nothing.
    """
    path = Path(tempfile.mkdtemp(prefix="rdproj-", dir="/tmp"))
    try:
        for src in (ROOT / "examples" / "automation" / "python").glob("*.py"):
            shutil.copy(src, path)
        shutil.copy(Path(__file__).with_name("test_two_site_move.py"), path)
        for p in (path, *path.iterdir()):
            p.chmod(0o755 if p.is_dir() else 0o644)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_example_and_two_site_tests_pass_as_an_unprivileged_user(project: Path) -> None:
    argv = as_unprivileged(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "markers=integration: simulated world",
            "--durations=0",
            str(project),
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(argv, cwd="/", env=env, capture_output=True, text=True, timeout=240)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "5 passed" in out, out
    assert "Traceback" not in out


def test_closed_ancestor_names_the_directory_that_keeps_others_out() -> None:
    base = Path(tempfile.mkdtemp(prefix="rdperm-", dir="/tmp"))
    try:
        outer = base / "outer"
        inner = outer / "inner"
        inner.mkdir(parents=True)
        for p in (base, outer, inner):
            p.chmod(0o755)
        assert closed_ancestor(inner / "python") is None
        outer.chmod(0o700)
        assert closed_ancestor(inner / "python") == outer
    finally:
        shutil.rmtree(base, ignore_errors=True)
