"""Reading nftables through the ``nft`` command, with failures classified (D18, docs/decisions.md).

On Azure a "FORWARD policy" skip detail reading only ``exit status 1`` told nobody anything.
Every nft read in the doctor goes through ``list_nft`` so a failure always says which of
four things happened: nft is not installed, we lack the privilege, the table is absent
(often the *good* case), or nft said something else (quoted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from routerd.doctor.host import NOT_FOUND, PERMISSION, TIMEOUT, Host, first_line

UNAVAILABLE = "nft-unavailable"
DENIED = "permission-denied"
ABSENT = "table-absent"
OTHER = "other"


@dataclass(frozen=True)
class NftRead:
    """One ``nft`` listing.

    Attributes:
        text: stdout (JSON text when read with ``-j``).
        failure: "" or one of nft-unavailable | permission-denied | table-absent | other.
        detail: a human sentence for the failure.
    """

    text: str = ""
    failure: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure

    def json(self) -> dict[str, Any]:
        """The parsed JSON document (``{}`` when not JSON)."""
        try:
            doc = json.loads(self.text)
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}


def list_nft(host: Host, *what: str, as_json: bool = False) -> NftRead:
    """Run ``nft [-j] list <what...>`` and classify a failure.

    Args:
        host: the host door.
        what: e.g. ``("table", "inet", "routerd_mss")`` or ``("ruleset",)``.
        as_json: list with ``-j``.
    """
    argv = ["nft", *(["-j"] if as_json else []), "list", *what]
    res = host.cached(*argv)
    if res.ok:
        return NftRead(res.stdout)
    subject = " ".join(what)
    if res.failure == NOT_FOUND:
        return NftRead(failure=UNAVAILABLE, detail="nft unavailable (nft is not installed)")
    if res.failure == PERMISSION:
        return NftRead(failure=DENIED, detail="permission denied running nft (run as root)")
    if res.failure == TIMEOUT:
        return NftRead(failure=OTHER, detail=f"nft list {subject} timed out")
    said = first_line(res.stderr) or first_line(res.stdout)
    if "No such file or directory" in res.stderr and what[:1] == ("table",):
        return NftRead(failure=ABSENT, detail=f"{' '.join(what[1:])} table absent")
    return NftRead(failure=OTHER, detail=f"nft list {subject} failed (exit {res.rc}): {said}")


def items(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The ``kind`` objects (``table``, ``chain``, ``rule``) of an ``nft -j`` document."""
    out = []
    for entry in doc.get("nftables", []):
        if isinstance(entry, dict) and isinstance(entry.get(kind), dict):
            out.append(entry[kind])
    return out


def values(right: Any) -> list[Any]:
    """Flatten an nft JSON right-hand side: a scalar, a list or ``{"set": [...]}``."""
    if isinstance(right, dict) and "set" in right:
        return [v for item in right["set"] for v in values(item)]
    if isinstance(right, dict) and "elem" in right:  # a set element with options
        return values(right["elem"].get("val"))
    if isinstance(right, list):
        return [v for item in right for v in values(item)]
    return [right]
