"""howto-oci.md shows exactly the host rules `routerctl doctor hybrid` prints for OCI.

The doctor runs on examples/oci/cloud.yaml against the OCI image's firewall as recorded by
tests/fixtures/doctor (iptables-nft-save and nft output of the image's rules.v4). Every rule of
its remedy, iptables and nft form, must appear in the page as a command line.
"""

from __future__ import annotations

import re
from pathlib import Path

from routerd.configfile import load_file
from routerd.core.doctor import DoctorContext
from routerd.doctor import run_doctor
from tests.fixtures.doctor.replay import load
from tests.unit.docs.conftest import DOCS, ROOT
from tests.unit.doctor.kit import answering

FIREWALL_TOOLS = ("iptables-nft-save", "iptables-legacy-save", "nft")
CLAIM = "onprem-vm-31"  # the claim of examples/oci/cloud.yaml


def doctor_remedy(sys_root: Path) -> str:
    recording = load("oci-iptables-nft.json")
    answers = [c for c in recording["commands"] if c["argv"][0] in FIREWALL_TOOLS]
    config = load_file(ROOT / "examples" / "oci" / "cloud.yaml").raise_for_errors()
    report = run_doctor("hybrid", DoctorContext(startup=config), host=answering(sys_root, *answers))
    (finding,) = [
        f for f in report.findings if f.claim == CLAIM and f.name.endswith(" host firewall")
    ]
    assert finding.status.value == "warn", finding.detail
    return finding.remedy


def rules(remedy: str) -> list[str]:
    """The commands of a remedy: ``… each chain named: A; B; C. Then make them persistent …``."""
    found = re.search(r"each chain named: (.+?)\. Then make them persistent", remedy)
    assert found, f"no rules in: {remedy}"
    return [r.strip() for r in found.group(1).split(";")]


def test_howto_oci_shows_the_doctors_host_rules(tmp_path: Path) -> None:
    page = (DOCS / "howto-oci.md").read_text()
    shown = {line.strip().removeprefix("sudo ") for line in page.splitlines()}
    expected = rules(doctor_remedy(tmp_path))
    assert len(expected) == 3  # the OCI image's rules live in iptables-nft
    missing = [rule for rule in expected if rule not in shown]
    assert not missing, f"howto-oci.md lacks the doctor's host rules: {missing}"
