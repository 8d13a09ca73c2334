"""Reason codes in the docs are the engine's reason codes (``routerd.core.assess.REASONS``).

* concepts.md lists every code, and only those (its generated table);
* wherever a page talks about reasons (a paragraph, list item or table that mentions
  "reason"), every backticked lower-kebab-case word is a reason code or another code routerd
  really has (capture types, health warning codes, ...), so a renamed or invented code fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.api import mobility_port
from routerd.api.errors import REASON_KEY, RESUME_SEQ_KEY
from routerd.core.assess import REASONS
from routerd.core.exchange import REFUSALS
from routerd.core.lifecycle import ClaimState
from routerd.core.mobility import CONFLICTS, MOBILITY_REASONS
from routerd.core.mobility.records import MOVE_CAUSES
from routerd.core.resources.hybrid import CAPTURE_TYPES, RESERVED_CAPTURE
from tests.unit.docs.conftest import DOCS, ROOT, pages

KEBAB = re.compile(r"`([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`")
REASON_ROW = re.compile(r"^\| \[`([a-z0-9-]+)`\]\(troubleshooting\.md#\1\) \|", re.M)
STATUS_PROTO = ROOT / "proto" / "routerd" / "v1" / "status.proto"


def health_codes() -> set[str]:
    """HealthWarning codes, from the comment that defines them in status.proto."""
    comment = STATUS_PROTO.read_text().split("message HealthWarning", 1)[1].split("string code")[0]
    return set(re.findall(r"[a-z]+(?:-[a-z]+)+", comment.split(":", 1)[1]))


OTHER_CODES = {
    *CAPTURE_TYPES,
    *RESERVED_CAPTURE,
    *(s.value for s in ClaimState),
    *health_codes(),
    *REFUSALS,
    *MOBILITY_REASONS,
    *CONFLICTS,
    *MOVE_CAUSES,
    *mobility_port.REFUSALS,
    *mobility_port.MOVE_STATUSES,
    REASON_KEY,
    RESUME_SEQ_KEY,
    "lower-kebab-case",
}


def reason_blocks(path: Path) -> Iterator[tuple[int, str]]:
    """(first line, text) of each blank-line-separated block that mentions reasons."""
    block: list[str] = []
    start = 0
    for n, line in enumerate([*path.read_text().splitlines(), ""], 1):
        if line.strip():
            start = start or n
            block.append(line)
            continue
        text = "\n".join(block)
        if re.search(r"\breasons?\b", text, re.I) and "<!-- gendocs:" not in text:
            yield start, text
        block, start = [], 0


def test_concepts_lists_exactly_the_reason_codes() -> None:
    text = (DOCS / "concepts.md").read_text()
    table = text.split("<!-- gendocs:reasons -->", 1)[1].split("<!-- /gendocs -->", 1)[0]
    assert REASON_ROW.findall(table) == list(REASONS), "run tools/gendocs"


def test_every_reason_has_a_troubleshooting_anchor() -> None:
    """concepts.md and the doctor's remedies link to troubleshooting.md#<reason>."""
    text = (DOCS / "troubleshooting.md").read_text()
    missing = [code for code in REASONS if f'<a id="{code}"></a>' not in text]
    assert not missing, f"troubleshooting.md has no anchor for {missing}"


def test_health_codes_were_found() -> None:
    assert {"claim-degraded", "apply-failed"} <= health_codes()


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_reason_codes_in_the_docs_exist(page: Path) -> None:
    unknown = [
        f"{page.name}:{n}: `{code}`"
        for n, text in reason_blocks(page)
        for code in KEBAB.findall(text)
        if code not in REASONS and code not in OTHER_CODES
    ]
    assert not unknown, (
        f"not a reason code (routerd.core.assess.REASONS) nor another known code: {unknown}"
    )


def test_an_invented_reason_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("The claim waits with reason\n`tunnel-absent`.\n\nUnrelated `x-y`.\n")
    found = [code for _, text in reason_blocks(page) for code in KEBAB.findall(text)]
    assert found == ["tunnel-absent"]
