"""docs/troubleshooting.md has a section for every reason code and every linked anchor."""

from __future__ import annotations

import re
from pathlib import Path

from routerd.core.assess import REASONS

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "troubleshooting.md").read_text()
ANCHORS = set(re.findall(r'<a id="([^"]+)"></a>', DOC))


def test_every_engine_reason_code_has_a_section() -> None:
    assert set(REASONS) - ANCHORS == set()


def test_every_anchor_a_remedy_points_to_exists() -> None:
    linked = set()
    for path in (ROOT / "routerd" / "doctor").glob("*.py"):
        linked |= set(re.findall(r"troubleshooting\.md#([a-z0-9-]+)", path.read_text()))
    assert linked, "remedies should point into docs/troubleshooting.md"
    assert linked - ANCHORS == set()


def test_index_links_resolve() -> None:
    assert set(re.findall(r"\]\(#([a-z0-9-]+)\)", DOC)) - ANCHORS == set()
