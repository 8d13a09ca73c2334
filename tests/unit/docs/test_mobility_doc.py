"""docs/mobility.md, concepts.md and troubleshooting.md name exactly mobility's codes."""

from __future__ import annotations

import re

from routerd.core.mobility import CONFLICTS, MOBILITY_REASONS
from routerd.core.mobility.records import MOVE_CAUSES
from tests.unit.docs.conftest import DOCS

ROW = re.compile(r"^\| `([a-z-]+)`(?: / `([a-z-]+)`)? \|", re.M)


def table_after(text: str, heading: str) -> set[str]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return {code for pair in ROW.findall(section) for code in pair if code}


def test_mobility_page_lists_every_conflict_cause_and_reason() -> None:
    text = (DOCS / "mobility.md").read_text()
    assert table_after(text, "## Conflicts") == set(CONFLICTS)
    assert table_after(text, "## The journal") == set(MOVE_CAUSES)
    assert table_after(text, "## Derived claims") == set(MOBILITY_REASONS)


def test_mobility_reasons_are_in_concepts_and_troubleshooting() -> None:
    concepts = (DOCS / "concepts.md").read_text()
    trouble = (DOCS / "troubleshooting.md").read_text()
    for code in MOBILITY_REASONS:
        assert f"[`{code}`](troubleshooting.md#{code})" in concepts
        assert f'<a id="{code}"></a>' in trouble


def test_the_docs_index_links_the_page() -> None:
    assert "(mobility.md)" in (DOCS / "README.md").read_text()
