"""Fixtures for the namespace lab suite (``-m lab``): one real lab per provider, shared.

Building a lab and letting both routerd verify their claims costs ~15 s, and the 100 MiB
copies ~5 s per provider, so each provider's lab is built once (module scope, parametrized:
pytest runs every test of one provider before building the next) and every step runs on
it in order. After a failure the remaining tests of that lab are skipped (their results
would only echo the first failure) and the lab's state is written to ``.lab-evidence/``
at once, while it is still the state that failed. Teardown is unconditional and must
release everything; no routerd log may hold a Traceback.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tools.labkit import evidence
from tools.labkit.lab import Lab
from tools.labkit.topology import PROVIDERS

FAILED_RUNS: set[str] = set()
"""Run ids of labs on which a step failed (their remaining tests are skipped)."""
LAB_TOOLS = ("sshd", "ssh", "scp", "ssh-keygen", "iptables-nft", "ss", "ping")


def _missing_tools() -> list[str]:
    return [t for t in LAB_TOOLS if shutil.which(t) is None and not _sbin(t)]


def _sbin(tool: str) -> bool:
    return shutil.which(tool, path="/usr/sbin:/sbin") is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module", params=PROVIDERS)
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """Name: lab / Scope: module, one per provider / Depends: root, tools/bootstrap."""
    missing = _missing_tools()
    if missing:
        pytest.skip(f"lab needs {', '.join(missing)} (run tools/bootstrap)")
    built = Lab.up(request.param)
    try:
        yield built
        tracebacks = [s for s, r in built.routers.items() if "Traceback" in r.log.read_text()]
    finally:
        errors = built.down()
    assert not errors, f"teardown left things behind: {errors}"
    assert not tracebacks, f"Traceback in the routerd log of {tracebacks}"


@pytest.fixture(autouse=True)
def _evidence_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Skip the rest of a lab after a failure; write its evidence when a test fails."""
    if "lab" not in request.fixturenames:
        yield
        return
    lab: Lab = request.getfixturevalue("lab")
    if lab.run_id in FAILED_RUNS:
        pytest.skip("an earlier step failed on this lab (see its evidence)")
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        FAILED_RUNS.add(lab.run_id)
        print(f"evidence written to {evidence.collect(lab)}")
