"""The lab with overlay addresses left descriptive: claims verify and traffic flows.

The examples assign each router's overlay address on its tunnel; many configs (the examples of
the Go implementation routerd succeeds) only name the addresses in ``OverlayPeer``. Traffic
needs no overlay address, so routerd must not need one to call a claim ``verified``: no overlay
probe runs (there is nothing to probe from), and the rest of the evidence decides. One provider
is enough (the variant changes nothing provider-specific); AWS has no image firewall.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.conftest import _missing_tools
from tools.labkit import smoke
from tools.labkit.lab import Lab
from tools.labkit.steps import check

pytestmark = [pytest.mark.lab, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """Name: lab / Scope: module / Depends: root, tools/bootstrap (descriptive-overlay)."""
    missing = _missing_tools()
    if missing:
        pytest.skip(f"lab needs {', '.join(missing)} (run tools/bootstrap)")
    built = Lab.up("aws", variant="descriptive-overlay")
    try:
        yield built
    finally:
        errors = built.down()
    assert not errors, f"teardown left things behind: {errors}"


def test_no_overlay_address_is_assigned(lab: Lab) -> None:
    for router in lab.routers.values():
        addrs = router.ns.ipj("-4", "addr", "show", "dev", router.tunnel)
        assert all(not link.get("addr_info") for link in addrs), addrs


def test_claims_verified_and_doctor_has_no_fail(lab: Lab) -> None:
    check(lab, "claims-verified", smoke.claims_verified)


def test_ping_both_ways(lab: Lab) -> None:
    check(lab, "ping", smoke.ping)


def test_ssh_both_ways_source_preserved(lab: Lab) -> None:
    check(lab, "ssh", smoke.ssh)


def test_routerd_logs_have_no_traceback(lab: Lab) -> None:
    for side, router in lab.routers.items():
        assert "Traceback" not in router.log.read_text(), side
