"""Decode a World document item by item, so every field error is reported at once.

Each site, VM and router is validated on its own: one bad VM does not hide the errors of
another, and the items that decode still go through the cross-reference checks. Names of
items that did not decode are remembered (``Findings.undecoded``) so a reference to them is
not reported a second time as "no such segment".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .findings import Findings, item_label
from .spec import WORLD_API_VERSION, WORLD_KIND, RouterSpec, SiteSpec, VmSpec, WorldSpec

ITEM_MODELS: dict[str, type[BaseModel]] = {"sites": SiteSpec, "vms": VmSpec, "routers": RouterSpec}


def _message(err: Any) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err.get("type") == "extra_forbidden":
        return "unknown field; check the spelling against docs/testing-automation.md or remove it"
    if err.get("type") == "missing":
        return "required field is missing"
    return msg


def _envelope(data: Any, found: Findings) -> bool:
    if not isinstance(data, dict):
        found.issue(
            WORLD_KIND,
            (),
            f"the file must be a World document: apiVersion: "
            f"{WORLD_API_VERSION}, kind: World, metadata.name, spec",
        )
        return False
    if data.get("apiVersion") != WORLD_API_VERSION:
        found.issue(
            WORLD_KIND,
            ("apiVersion",),
            f"must be {WORLD_API_VERSION} (found {data.get('apiVersion')!r})",
        )
    if data.get("kind") != WORLD_KIND:
        hint = (
            "; this is a Router config: give it with -c FILE"
            if data.get("kind") == "Router"
            else ""
        )
        found.issue(
            WORLD_KIND,
            ("kind",),
            f"the top-level kind must be World (found {data.get('kind')!r}){hint}",
        )
    if not isinstance(data.get("spec"), dict):
        found.issue(WORLD_KIND, ("spec",), "required: a mapping with sites, vms and routers")
        return False
    return True


def _names(key: str, raw: Any) -> set[str]:
    """Names an undecodable item would have defined (a site's segments included)."""
    if not isinstance(raw, dict):
        return set()
    names = {raw["name"]} if isinstance(raw.get("name"), str) else set()
    if key == "sites" and isinstance(raw.get("segments"), list):
        names |= {
            s["name"]
            for s in raw["segments"]
            if isinstance(s, dict) and isinstance(s.get("name"), str)
        }
    return names


def _items(data: Any, key: str, found: Findings) -> tuple[Any, ...]:
    raw = data["spec"].get(key) or []
    if not isinstance(raw, list):
        found.issue(WORLD_KIND, ("spec", key), f"must be a list of {key}")
        return ()
    ok = []
    found.decoded[key] = []
    for i, item in enumerate(raw):
        try:
            ok.append(ITEM_MODELS[key].model_validate(item))
            found.decoded[key].append(i)
        except ValidationError as e:
            for err in e.errors():
                at = ("spec", key, i, *err["loc"])
                found.issue(item_label(data, at), at, _message(err))
            found.undecoded |= _names(key, item)
    return tuple(ok)


def decode_world(data: Any, found: Findings) -> WorldSpec | None:
    """The World spec with every item that decodes; each field error is recorded.

    Returns:
        None when the envelope itself (apiVersion, kind, metadata, clock) is unusable.
    """
    if not _envelope(data, found):
        return None
    items = {key: _items(data, key, found) for key in ITEM_MODELS}
    shell = {**data, "spec": {k: v for k, v in data["spec"].items() if k not in ITEM_MODELS}}
    try:
        spec = WorldSpec.model_validate(shell)
    except ValidationError as e:
        for err in e.errors():
            at = tuple(err["loc"])
            found.issue(item_label(data, at), at, _message(err))
        return None
    return spec.model_copy(update={"spec": spec.spec.model_copy(update=items)})
