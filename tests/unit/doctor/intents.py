"""Claim intents with some of their shape facts changed, for doctor tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from routerd.core.lowering import ClaimIntent


def with_facts(intent: ClaimIntent, **changes: Any) -> ClaimIntent:
    """``intent`` whose shape facts (tunnel, capture, overlay ends ...) differ by ``changes``."""
    return replace(intent, facts=replace(intent.facts, **changes))
