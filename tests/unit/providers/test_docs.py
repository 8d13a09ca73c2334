"""docs/providers.md stays in step with the provider tables in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.providers.base import GENERIC_SYNONYMS
from routerd.providers.registry import NAME_TO_PROVIDER

DOC = Path(__file__).resolve().parents[3] / "docs" / "providers.md"


@pytest.mark.parametrize("provider", sorted(NAME_TO_PROVIDER))
def test_every_accepted_capability_spelling_is_documented(provider: str) -> None:
    text = DOC.read_text()
    generic = {s for spellings in GENERIC_SYNONYMS.values() for s in spellings}
    for cap in NAME_TO_PROVIDER[provider].capabilities:
        for spelling in cap.spellings():
            if spelling not in generic:
                assert f"`{spelling}`" in text, f"{provider}: {spelling} missing from {DOC.name}"
    for spelling in generic:
        assert f"`{spelling}`" in text


@pytest.mark.parametrize("provider", sorted(NAME_TO_PROVIDER))
def test_nic_ref_example_is_documented(provider: str) -> None:
    assert f"`{NAME_TO_PROVIDER[provider].nic_ref.example}`" in DOC.read_text()
