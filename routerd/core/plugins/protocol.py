"""The plugin wire protocol: one PluginRequest in, one PluginResult out (docs/plugins.md).

Decoding is strict where routerd acts on the data and lenient where it only displays it:
resources become typed resources through the same decoder as startup config (an unknown kind
or a bad field type names the resource and the field path), directives must be ``mask``, and
``status.ttl`` is required. Action plans and events stay plain mappings: routerd never
executes an action plan and has no event bus yet, so there is nothing to type them for.

stdout is decoded as JSON first and, failing that, as YAML (JSON is a subset of YAML), so a
plugin may print either. Both decoders are held to the same input limits as a config file
(size, nesting, alias expansion): a plugin's output can fail its run, never the daemon.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from routerd.core.duration import parse_duration
from routerd.core.dynamic import parse_rfc3339, rfc3339
from routerd.core.errors import RouterdError
from routerd.core.input_limits import LIMITS, InputLimitError, check_tree
from routerd.core.loader import decode_resource, parse_yaml
from routerd.core.resources import PLUGIN_API, Directive, Resource

TRIGGER_TYPES = ("manual", "interval", "event")
STATUS_FIELDS = ("observedAt", "ttl", "resources", "directives", "actionPlans", "events")


@dataclass(frozen=True)
class RunTrigger:
    """Why a plugin runs: ``manual`` (routerctl), ``interval`` (scheduler) or ``event``."""

    type: str = "manual"
    topic: str = ""

    def __post_init__(self) -> None:
        if self.type not in TRIGGER_TYPES:
            raise ValueError(
                f"trigger type {self.type!r} is not supported; use one of: "
                + ", ".join(TRIGGER_TYPES)
            )

    def to_doc(self) -> dict[str, str]:
        return {"type": self.type, "topic": self.topic} if self.topic else {"type": self.type}


MANUAL = RunTrigger()
INTERVAL = RunTrigger("interval")


def build_request(
    plugin: str,
    *,
    trigger: RunTrigger,
    startup_hash: str,
    effective_generation: int,
    previous_generation: int,
    now: float,
) -> bytes:
    """The PluginRequest bytes: one line of compact JSON, newline-terminated.

    One line lets a POSIX shell plugin read it with ``read -r`` and no other tool.
    """
    doc = {
        "apiVersion": PLUGIN_API,
        "kind": "PluginRequest",
        "metadata": {"name": plugin},
        "spec": {
            "trigger": trigger.to_doc(),
            "startupConfigHash": startup_hash,
            "effectiveGeneration": effective_generation,
            "previousDynamicGeneration": previous_generation,
            "now": rfc3339(now),
        },
    }
    return (json.dumps(doc, separators=(",", ":")) + "\n").encode()


@dataclass(frozen=True)
class PluginResult:
    """A decoded PluginResult.

    Attributes:
        ttl: ``status.ttl`` in seconds (> 0).
        observed_at: the plugin's ``status.observedAt`` as given (recorded, never used for
            expiry: D4 in docs/decisions.md), or ``""``.
        action_plans: display-only; never executed, never stored in a part.
        events: informational; counted.
    """

    name: str
    ttl: float
    observed_at: str
    resources: tuple[Resource, ...]
    directives: tuple[Directive, ...]
    action_plans: tuple[dict[str, Any], ...]
    events: tuple[dict[str, Any], ...]


class ResultDecodeError(RouterdError):
    """stdout is not a usable PluginResult; ``problems`` lists every finding with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def decode_result(stdout: bytes) -> PluginResult:
    """Decode a plugin's stdout into a :class:`PluginResult`.

    Raises:
        ResultDecodeError: naming each bad field (and the resource, for resources).
    """
    doc = _parse(stdout)
    status = _envelope(doc)
    problems = [
        f"status.{k}: unknown field; a PluginResult status has {', '.join(STATUS_FIELDS)}"
        for k in status
        if k not in STATUS_FIELDS
    ]
    ttl = _ttl(status.get("ttl"), problems)
    observed_at = _observed_at(status.get("observedAt"), problems)
    resources = _resources(_list(status, "resources", problems), problems)
    directives = _directives(_list(status, "directives", problems), problems)
    plans = _mappings(_list(status, "actionPlans", problems), "actionPlans", problems)
    events = _mappings(_list(status, "events", problems), "events", problems)
    if problems:
        raise ResultDecodeError(problems)
    meta = doc.get("metadata")
    name = meta.get("name", "") if isinstance(meta, dict) else ""
    return PluginResult(
        str(name), ttl, observed_at, resources, directives, tuple(plans), tuple(events)
    )


def _parse(stdout: bytes) -> Any:
    try:
        text = stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ResultDecodeError([f"stdout is not UTF-8 ({e.reason} at byte {e.start})"]) from None
    if not text.strip():
        raise ResultDecodeError(["stdout is empty: print exactly one PluginResult"])
    try:
        data = json.loads(text)
    except RecursionError:
        raise ResultDecodeError([f"stdout nests deeper than {LIMITS.max_depth} levels"]) from None
    except ValueError as e:  # JSONDecodeError, or an integer too long to convert
        json_error = f"invalid JSON: {e}"
    else:
        try:
            check_tree(data)
        except InputLimitError as e:
            raise ResultDecodeError([f"stdout: {e.message}"]) from None
        return data
    data, _, issues = parse_yaml(text)
    if issues:
        first = json_error if text.lstrip().startswith("{") else issues[0].message
        raise ResultDecodeError([first])
    return data


def _envelope(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ResultDecodeError(["stdout must be one PluginResult mapping"])
    problems = []
    if doc.get("apiVersion") != PLUGIN_API:
        problems.append(f"apiVersion: must be {PLUGIN_API} (found {doc.get('apiVersion')!r})")
    if doc.get("kind") != "PluginResult":
        problems.append(f"kind: must be PluginResult (found {doc.get('kind')!r})")
    status = doc.get("status")
    if not isinstance(status, dict):
        problems.append("status: required mapping with ttl, resources, directives")
    if problems:
        raise ResultDecodeError(problems)
    assert isinstance(status, dict)
    return status


def _ttl(value: Any, problems: list[str]) -> float:
    hint = "a Go duration > 0 saying how long the proposal stays valid, for example 240s"
    if value is None or value == "":
        problems.append(f"status.ttl: required: {hint}")
        return 0.0
    try:
        seconds = parse_duration(value) if isinstance(value, str) else -1.0
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        problems.append(f"status.ttl: {value!r} is not {hint}")
    return seconds


def _observed_at(value: Any, problems: list[str]) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):  # an unquoted YAML timestamp
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return rfc3339(aware.timestamp())
    try:
        parse_rfc3339(str(value))
    except ValueError:
        problems.append(f"status.observedAt: {value!r} is not an RFC3339 time")
    return str(value)


def _list(status: Mapping[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = status.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"status.{key}: must be a list")
        return []
    return value


def _label(doc: Any, index: int) -> str:
    if isinstance(doc, dict):
        meta = doc.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        return f"{doc.get('kind') or 'Resource'}/{name or f'[{index}]'}"
    return f"resources[{index}]"


def _resources(docs: list[Any], problems: list[str]) -> tuple[Resource, ...]:
    out: list[Resource] = []
    for i, doc in enumerate(docs):
        res, probs = decode_resource(doc)
        label = _label(doc, i)
        for path, msg in probs:
            problems.append(f"{label} status.resources.{i}.{path}".rstrip(".") + f": {msg}")
        if res is not None:
            out.append(res)
    return tuple(out)


def _directives(docs: list[Any], problems: list[str]) -> tuple[Directive, ...]:
    out: list[Directive] = []
    for i, doc in enumerate(docs):
        where = f"status.directives.{i}"
        op = doc.get("op") if isinstance(doc, dict) else None
        if op != "mask":
            problems.append(
                f"{where}.op: directive op {op!r} is not supported; a plugin may only "
                "propose mask directives (suppress a startup resource while the part is active)"
            )
            continue
        try:
            out.append(Directive.model_validate(doc))
        except ValidationError as e:
            for err in e.errors():
                path = ".".join(str(x) for x in err["loc"])
                problems.append(f"{where}.{path}: {err['msg']}")
    return tuple(out)


def _mappings(docs: list[Any], key: str, problems: list[str]) -> list[dict[str, Any]]:
    bad = [i for i, d in enumerate(docs) if not isinstance(d, dict)]
    problems.extend(f"status.{key}.{i}: must be a mapping" for i in bad)
    return [d for d in docs if isinstance(d, dict)]
