"""requirements/lock.txt covers everything pyproject.toml asks for, every file hashed.

tools/bootstrap installs only from the lock and then routerd with ``--no-deps``, so a
dependency or extra added to pyproject.toml without running tools/lock would be silently
missing from every fresh machine; this fails first, naming what to run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "requirements" / "lock.txt"
BUILD_IN = ROOT / "requirements" / "build.in"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def locked() -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, its sha256 hashes), from the lock's entries."""
    entries: dict[str, tuple[Version, list[str]]] = {}
    current: list[str] = []
    for line in LOCK.read_text().splitlines():
        if m := PIN.match(line):
            current = []
            entries[canonicalize_name(m.group(1))] = (Version(m.group(2)), current)
        elif h := re.search(r"--hash=sha256:([0-9a-f]{64})", line):
            current.append(h.group(1))
    return entries


def wanted() -> dict[str, list[Requirement]]:
    """Where each requirement comes from: runtime, each extra, and the build/installer set."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"runtime": project["dependencies"], **project["optional-dependencies"]}
    build = [ln for ln in BUILD_IN.read_text().splitlines() if ln and not ln.startswith("#")]
    groups["requirements/build.in"] = build
    return {group: [Requirement(r) for r in reqs] for group, reqs in groups.items()}


def unmet(
    lock: dict[str, tuple[Version, list[str]]], groups: dict[str, list[Requirement]]
) -> list[str]:
    """Each requirement the lock does not satisfy, with the group that asks for it."""
    problems = []
    for group, reqs in groups.items():
        for req in reqs:
            if canonicalize_name(req.name) == "routerd":
                continue  # the project's own extras (dev includes the cloud SDK extras)
            pin = lock.get(canonicalize_name(req.name))
            if pin is None:
                problems.append(f"{group}: {req} is not in the lock")
            elif not req.specifier.contains(pin[0], prereleases=True):
                problems.append(f"{group}: {req} but the lock pins {pin[0]}")
    return problems


def test_the_lock_satisfies_every_requirement_of_every_extra():
    problems = unmet(locked(), wanted())
    assert not problems, f"{problems}: run tools/lock and commit requirements/lock.txt"


def test_an_extra_added_without_relocking_is_reported():
    groups = {
        "aws": [Requirement("no-such-sdk>=1.34")],
        "dev": [Requirement("grpcio-tools>999"), Requirement("routerd[aws]")],
    }
    assert unmet(locked(), groups) == [
        "aws: no-such-sdk>=1.34 is not in the lock",
        f"dev: grpcio-tools>999 but the lock pins {locked()['grpcio-tools'][0]}",
    ]


def test_every_locked_package_is_hashed():
    lock = locked()
    assert len(lock) > 10
    unhashed = [name for name, (_, hashes) in lock.items() if not hashes]
    assert not unhashed, f"{unhashed} have no --hash: run tools/lock"


def test_the_lock_names_its_command():
    assert "#    tools/lock" in LOCK.read_text().split("\n", 3)[1]
