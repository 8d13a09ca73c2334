"""Dynamic config parts: runtime fragments proposed by plugins or put by an operator.

A part contributes resources and ``mask`` directives for ``ttl`` seconds after routerd
*received* it (D4 in docs/decisions.md: the plugin's ``observedAt`` is recorded, never
trusted for expiry).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from routerd.core.duration import format_duration, parse_duration
from routerd.core.loader import decode_resource
from routerd.core.resources import (
    CONFIG_API,
    Directive,
    DynamicConfigPart,
    Resource,
)


def rfc3339(ts: float) -> str:
    """Epoch seconds -> ``2026-05-29T14:10:00Z`` (UTC, second precision kept exact)."""
    dt = datetime.fromtimestamp(ts, UTC)
    text = dt.isoformat(timespec="milliseconds" if ts % 1 else "seconds")
    return text.replace("+00:00", "Z")


def parse_rfc3339(text: str) -> float:
    """``2026-05-29T14:10:00Z`` -> epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def part_digest(resources: list[dict[str, Any]], directives: list[dict[str, Any]]) -> str:
    """SHA-256 hex of the canonical JSON of ``{"resources", "directives"}`` (the Go implementation's
    form, so digests of parts stay comparable across the two)."""
    blob = json.dumps(
        {"resources": resources, "directives": directives}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class DynamicPart:
    """One stored generation of one source.

    Attributes:
        source: stable source identity, ``Plugin/<name>`` for plugins.
        generation: increases per source; only the latest active one participates (D2).
        received_at: when routerd accepted it (epoch seconds); the expiry clock starts here.
        ttl: lifetime in seconds (> 0).
        observed_at: what the plugin said; recorded for display only.
    """

    source: str
    generation: int
    received_at: float
    ttl: float
    resources: tuple[Resource, ...] = ()
    directives: tuple[Directive, ...] = ()
    observed_at: str = ""
    digest: str = ""
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def expires_at(self) -> float:
        return self.received_at + self.ttl

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    @property
    def label(self) -> str:
        return f"{self.source}@{self.generation}"

    def resource_docs(self) -> list[dict[str, Any]]:
        return [r.to_doc() for r in self.resources]

    def directive_docs(self) -> list[dict[str, Any]]:
        return [d.model_dump(by_alias=True, exclude_defaults=True) for d in self.directives]

    def to_resource_doc(self) -> dict[str, Any]:
        """The ``DynamicConfigPart`` document form (for `routerctl dynamic describe`)."""
        name = f"{self.source.replace('/', '-').strip('-')}-{self.generation}"
        return {
            "apiVersion": CONFIG_API,
            "kind": "DynamicConfigPart",
            "metadata": {"name": name},
            "spec": {
                "source": self.source,
                "generation": self.generation,
                "observedAt": self.observed_at,
                "receivedAt": rfc3339(self.received_at),
                "expiresAt": rfc3339(self.expires_at),
                "ttl": format_duration(self.ttl),
                "digest": self.digest,
                "resources": self.resource_docs(),
                "directives": self.directive_docs(),
            },
        }


class PartDecodeError(ValueError):
    """A part document that cannot become a DynamicPart; ``problems`` are (path, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))
        self.problems = problems


def part_from_doc(doc: Any, *, received_at: float, default_ttl: float = 0.0) -> DynamicPart:
    """Build a part from a ``DynamicConfigPart`` document (``routerctl dynamic put``).

    Raises:
        PartDecodeError: with every problem and its field path.
    """
    res, problems = decode_resource(doc, where="dynamic part")
    if res is not None and not isinstance(res, DynamicConfigPart):
        problems = [("kind", f"expected kind DynamicConfigPart, got {res.kind}")]
    if problems or res is None:
        raise PartDecodeError(problems)
    spec = res.spec
    ttl = parse_duration(spec.ttl) if spec.ttl else default_ttl
    if ttl <= 0:
        raise PartDecodeError(
            [
                (
                    "spec.ttl",
                    "required: how long the part stays active after "
                    "routerd receives it (for example 240s)",
                )
            ]
        )
    resources, probs = decode_part_resources(list(spec.resources))
    if probs:
        raise PartDecodeError(probs)
    return make_part(
        spec.source,
        spec.generation,
        received_at,
        ttl,
        resources,
        list(spec.directives),
        observed_at=spec.observed_at,
    )


def decode_part_resources(docs: list[Any]) -> tuple[list[Resource], list[tuple[str, str]]]:
    out: list[Resource] = []
    problems: list[tuple[str, str]] = []
    for i, d in enumerate(docs):
        r, probs = decode_resource(d)
        problems += [(f"spec.resources.{i}.{p}".rstrip("."), m) for p, m in probs]
        if r is not None:
            out.append(r)
    return out, problems


def make_part(
    source: str,
    generation: int,
    received_at: float,
    ttl: float,
    resources: list[Resource],
    directives: list[Directive],
    *,
    observed_at: str = "",
) -> DynamicPart:
    docs = [r.to_doc() for r in resources]
    dirs = [d.model_dump(by_alias=True, exclude_defaults=True) for d in directives]
    return DynamicPart(
        source,
        generation,
        received_at,
        ttl,
        tuple(resources),
        tuple(directives),
        observed_at,
        part_digest(docs, dirs),
    )
