"""``RemoteAddressClaim``: the kind a config holds by the thousand, kept as a compact record.

A pydantic model tree per claim (resource, metadata, spec, capture, delivery: five models,
each with its own attribute dict and field set) costs ~3 KB; at 100,000 claims that alone
would be 300 MB of the daemon's memory. A claim here is two frozen slotted records: the
claim (name, spec, API version and kind, plus its full metadata and status only when they
carry more than the name) and its spec (domain, address, owner side, and the capture and
delivery blocks: frozen pydantic models that claims with equal blocks share when the
loader interns them). That is ~260 bytes a claim with its name and address.

Validation is the pydantic document model's (``RemoteAddressClaimDocument``, the schema
``routerd schema`` prints, every error message and field path unchanged):
``RemoteAddressClaim.model_validate`` runs it and keeps only the record. ``to_doc`` gives
back exactly the document the model gives, so digests and API output do not change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from routerd.core.resources.base import HYBRID_API, Metadata, Resource
from routerd.core.resources.capture import Capture
from routerd.core.resources.hybrid import (
    Delivery,
    RemoteAddressClaimDocument,
    RemoteAddressClaimSpec,
)

T = TypeVar("T")
Intern = Callable[[T], T]
"""Returns an object equal to its argument, the same one for equal arguments (a memo)."""


def _same(value: T) -> T:
    return value


class Interner:
    """Hands out one shared object per distinct value (strings, capture and delivery
    blocks) for the life of one load: 100,000 claims naming the same domain, peer and
    interface then hold one copy of each instead of 100,000."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[Any, Any] = {}

    def __call__(self, value: T) -> T:
        found: T = self._memo.setdefault(value, value)
        return found


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """``spec`` of a claim, read like the pydantic ``RemoteAddressClaimSpec`` it came from."""

    domain_ref: str
    address: str
    owner_side: str
    capture: Capture
    delivery: Delivery

    @classmethod
    def of(cls, spec: RemoteAddressClaimSpec | ClaimSpec, intern: Intern[Any] = _same) -> ClaimSpec:
        """The record of a validated spec (``intern`` shares equal parts between claims)."""
        return cls(
            intern(spec.domain_ref),
            spec.address,
            intern(spec.owner_side),
            intern(spec.capture),
            intern(spec.delivery),
        )

    def model_dump(
        self, *, by_alias: bool = False, exclude_defaults: bool = False
    ) -> dict[str, Any]:
        """What ``RemoteAddressClaimSpec.model_dump`` gives with the same arguments."""
        names = _ALIASES if by_alias else _FIELDS
        return {
            names[0]: self.domain_ref,
            names[1]: self.address,
            names[2]: self.owner_side,
            "capture": self.capture.model_dump(
                by_alias=by_alias, exclude_defaults=exclude_defaults
            ),
            "delivery": self.delivery.model_dump(
                by_alias=by_alias, exclude_defaults=exclude_defaults
            ),
        }

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> ClaimSpec:
        """This spec with some fields replaced (field names, as pydantic's ``model_copy``)."""
        return dataclasses.replace(self, **dict(update or {}))


_FIELDS = ("domain_ref", "address", "owner_side")
_ALIASES = ("domainRef", "address", "ownerSide")


@dataclass(frozen=True, slots=True)
class RemoteAddressClaim(Resource):
    """One address this router captures and delivers (see the module docstring).

    Attributes:
        name: ``metadata.name``.
        spec: the claim's spec.
        api_version / kind: as written (decoding accepts only this kind's own).
        meta: the full metadata when it has owner references, annotations or labels;
            None when the name is all there is (``metadata`` builds it then).
        status: the document's ``status``, when it has one.
    """

    KIND: ClassVar[str] = "RemoteAddressClaim"
    API_VERSION: ClassVar[str] = HYBRID_API

    name: str
    spec: ClaimSpec
    api_version: str = HYBRID_API
    kind: str = "RemoteAddressClaim"
    meta: Metadata | None = None
    status: dict[str, Any] | None = None

    @property
    def metadata(self) -> Metadata:
        if self.meta is not None:
            return self.meta
        return Metadata.model_construct(name=self.name)

    @property
    def ip(self) -> str:
        """The bare address (``10.40.8.31``)."""
        return self.spec.address.split("/", 1)[0]

    def to_doc(self) -> dict[str, Any]:
        meta = self.meta
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": (
                {"name": self.name}
                if meta is None
                else meta.model_dump(by_alias=True, exclude_defaults=True)
            ),
            "spec": self.spec.model_dump(by_alias=True, exclude_defaults=True),
        }

    # -- the pydantic-style API callers use ---------------------------------------------------

    @classmethod
    def model_validate(cls, obj: Any, *, intern: Intern[Any] = _same) -> RemoteAddressClaim:
        """Validate a document with the pydantic model; keep the record.

        Raises:
            pydantic.ValidationError: exactly as ``RemoteAddressClaimDocument`` raises it.
        """
        return cls.of(RemoteAddressClaimDocument.model_validate(obj), intern)

    @classmethod
    def of(cls, doc: RemoteAddressClaimDocument, intern: Intern[Any] = _same) -> RemoteAddressClaim:
        """The record of a validated document."""
        return cls._build(doc.api_version, doc.kind, doc.metadata, doc.spec, doc.status, intern)

    @classmethod
    def model_construct(
        cls,
        *,
        api_version: str = HYBRID_API,
        kind: str = "RemoteAddressClaim",
        metadata: Metadata,
        spec: RemoteAddressClaimSpec | ClaimSpec,
        status: dict[str, Any] | None = None,
    ) -> RemoteAddressClaim:
        """A claim from already valid parts (no validation, as pydantic's)."""
        return cls._build(api_version, kind, metadata, spec, status, _same)

    @classmethod
    def _build(
        cls,
        api_version: str,
        kind: str,
        metadata: Metadata,
        spec: RemoteAddressClaimSpec | ClaimSpec,
        status: dict[str, Any] | None,
        intern: Intern[Any],
    ) -> RemoteAddressClaim:
        plain = not (metadata.owner_refs or metadata.annotations or metadata.labels)
        return cls(
            metadata.name,
            ClaimSpec.of(spec, intern),
            intern(api_version),
            intern(kind),
            None if plain else metadata,
            status,
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> RemoteAddressClaim:
        """This claim with some fields replaced (``metadata``, ``spec``, ``status`` ...)."""
        fields: dict[str, Any] = {
            "api_version": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata,
            "spec": self.spec,
            "status": self.status,
        }
        fields.update(update or {})
        return self.model_construct(**fields)

    @classmethod
    def model_json_schema(cls, **kwargs: Any) -> dict[str, Any]:
        """The document's JSON schema (what a config file holds)."""
        return RemoteAddressClaimDocument.model_json_schema(**kwargs)
