"""Read a Router YAML file into a typed, validated ``RouterConfig``.

Every problem is reported at once, each with the file, line, ``Kind/name``, field path and
what to do. Line numbers come from the YAML node tree, which we walk alongside the decoded
document; duplicate keys (silently last-wins in PyYAML) are errors here.

What a loaded config keeps is sized for 100,000 claims: a plain document is read one
resource at a time (``routerd.core.yaml_stream``), so no YAML tree of the whole file ever
exists; each resource is validated by its pydantic model and the claims are kept as
compact records sharing equal parts (``routerd.core.resources.claim``); the lines of every
field are kept in a ``LineIndex`` (16 bytes a resource when resources are written alike).
Documents that are not plain are read whole (``routerd.core.yaml_parse``), with the same
findings; ``load_text(..., stream=False)`` reads every document that way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigError, ConfigIssue
from routerd.core.input_limits import (
    LIMITS,
    InputLimitError,
    InputLimits,
    check_size,
)
from routerd.core.line_index import LineIndex
from routerd.core.resources import (
    KINDS,
    ROUTER_API_VERSION,
    DynamicConfigPart,
    RemoteAddressClaim,
    Resource,
)
from routerd.core.resources.claim import Interner
from routerd.core.validation import ExtraCheck, validate_config
from routerd.core.yaml_parse import LineMap, parse_yaml, walk
from routerd.core.yaml_stream import Fallback, ResourceStream

__all__ = [
    "LineMap",
    "LoadResult",
    "decode_resource",
    "load_text",
    "parse_yaml",
]


@dataclass
class LoadResult:
    """Outcome of loading a config: the config when it is valid, and every finding."""

    config: RouterConfig | None
    errors: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.config is not None and not self.errors

    def raise_for_errors(self) -> RouterConfig:
        if self.config is None or self.errors:
            raise ConfigError(self.errors, self.warnings)
        return self.config


def _loc_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(x) for x in loc)


def _pydantic_message(err: Any) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    kind = err.get("type")
    if kind == "extra_forbidden":
        return "unknown field; check the spelling against `routerd schema` or remove it"
    if kind == "missing":
        return "required field is missing"
    return msg


def decode_resource(
    doc: Any, *, where: str = "resource", intern: Interner | None = None
) -> tuple[Resource | None, list[tuple[str, str]]]:
    """Decode one resource document into its typed class.

    Args:
        doc: the resource document.
        where: what the document is, for the message when it is not a mapping.
        intern: shares equal parts between the claims of one load.

    Returns:
        ``(resource, [])`` when valid, else ``(None, [(path, message), ...])``.
    """
    if not isinstance(doc, dict):
        return None, [("", f"{where} must be a mapping with apiVersion, kind, metadata, spec")]
    kind = doc.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(KINDS))
        return None, [("kind", f"unknown kind {kind!r}: routerd implements {known}")]
    problems: list[tuple[str, str]] = []
    if doc.get("apiVersion") != cls.API_VERSION:
        problems.append(
            (
                "apiVersion",
                f"{kind} must use apiVersion {cls.API_VERSION} (found {doc.get('apiVersion')!r})",
            )
        )
    if "spec" not in doc:
        problems.append(("spec", "required field is missing"))
    try:
        res: Resource = (
            RemoteAddressClaim.model_validate(doc, intern=intern)
            if intern is not None and cls is RemoteAddressClaim
            else cls.model_validate(doc)
        )
    except ValidationError as e:
        for err in e.errors():
            problems.append((_loc_path(err["loc"]), _pydantic_message(err)))
        return None, problems
    return (None if problems else res), problems


def _resource_label(doc: Any, index: int) -> str:
    if isinstance(doc, dict):
        kind = doc.get("kind") or "Resource"
        meta = doc.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        return f"{kind}/{name}" if name else f"{kind}[{index}]"
    return f"resources[{index}]"


def _envelope(
    data: Any, file: str | None, lines: LineMap
) -> tuple[str, list[Any], list[ConfigIssue]]:
    issues: list[ConfigIssue] = []

    def err(path: str, msg: str, key: tuple[Any, ...] = ()) -> None:
        issues.append(ConfigIssue("Router", path, msg, lines.get(key), file))

    if not isinstance(data, dict):
        err(
            "",
            "the file must be a Router document: apiVersion: routerd.net/v1alpha1, "
            "kind: Router, metadata.name, spec.resources",
        )
        return "", [], issues
    if data.get("apiVersion") != ROUTER_API_VERSION:
        err(
            "apiVersion",
            f"must be {ROUTER_API_VERSION} (found {data.get('apiVersion')!r})",
            ("apiVersion",),
        )
    if data.get("kind") != "Router":
        err("kind", f"the top-level kind must be Router (found {data.get('kind')!r})", ("kind",))
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        err("metadata.name", "required: name this router (for example cloud-rt-a)", ("metadata",))
        name = ""
    spec = data.get("spec")
    resources = spec.get("resources") if isinstance(spec, dict) else None
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        err("spec.resources", "must be a list of resources", ("spec", "resources"))
        resources = []
    extra = set(data) - {"apiVersion", "kind", "metadata", "spec", "status"}
    for k in sorted(extra):
        err(k, "unknown top-level field; remove it", (k,))
    return name, resources, issues


class _Build:
    """What loading collects resource by resource, whichever reader hands them over."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.errors: list[ConfigIssue] = []
        self.resources: list[Resource] = []
        self.undecoded: set[tuple[str, str]] = set()
        self.lines = LineIndex()
        self.intern = Interner()
        self.name = ""

    def resource(self, i: int, doc: Any, lines: LineMap) -> None:
        """Decode resource ``i``; ``lines`` holds the lines of its paths (and no others)."""
        base = ("spec", "resources", i)
        label = _resource_label(doc, i)
        res, problems = decode_resource(doc, intern=self.intern)
        if isinstance(res, DynamicConfigPart):
            problems = [
                (
                    "kind",
                    "DynamicConfigPart is stored runtime state, not startup "
                    "config; load it with `routerctl dynamic put FILE`",
                )
            ]
            res = None
        if res is None and "/" in label:
            kind, _, rname = label.partition("/")
            self.undecoded.add((kind, rname))
        for path, msg in problems:
            key = base + tuple(int(p) if p.isdigit() else p for p in path.split(".") if p)
            self.errors.append(
                ConfigIssue(label, path, msg, _line_for(lines, key, base), self.file)
            )
        if res is not None:
            own = [(".".join(str(x) for x in key[3:]), line) for key, line in lines.items()]
            self.lines.add(len(self.resources), own)
            self.resources.append(res)


def load_text(
    text: str,
    file: str | None = None,
    *,
    extra_checks: Sequence[ExtraCheck] = (),
    stream: bool = True,
) -> LoadResult:
    """Parse, decode and validate a Router document given as text.

    A plain document is read resource by resource (``routerd.core.yaml_stream``), so the
    memory loading takes does not grow with the number of resources; any other is read
    whole. Both give the same config and the same findings.

    Args:
        text: the YAML.
        file: its path, for messages.
        extra_checks: rules from outside core (``routerd.providers.config_checks``).
        stream: False reads every document whole (the reference the streaming reader is
            tested against).
    """
    built = _stream(text, file) if stream else None
    if built is None:
        data, lines, issues = parse_yaml(text, file)
        if data is None and issues:
            return LoadResult(None, issues)
        built = _whole(data, lines, file)
        built.errors[:0] = issues
    config = RouterConfig(built.name, built.resources, file=file, lines=built.lines)
    errors = built.errors
    sem_errors, warnings = validate_config(
        config, extra_checks, undecoded=frozenset(built.undecoded)
    )
    errors.extend(sem_errors)
    return LoadResult(None if errors else config, errors, warnings)


def _whole(data: Any, lines: LineMap, file: str | None) -> _Build:
    """Decode the resources of a document parsed whole (``parse_yaml``)."""
    built = _Build(file)
    built.name, docs, built.errors = _envelope(data, file, lines)
    by_resource: dict[int, LineMap] = {}
    for key, line in lines.items():  # one pass: grouping per resource keeps loading linear
        if len(key) >= 3 and key[:2] == ("spec", "resources") and isinstance(key[2], int):
            by_resource.setdefault(key[2], {})[key] = line
    for i, doc in enumerate(docs):
        built.resource(i, doc, by_resource.get(i, {}))
    return built


def _stream(text: str, file: str | None, limits: InputLimits = LIMITS) -> _Build | None:
    """Load a plain document resource by resource; None when it must be read whole."""
    built = _Build(file)
    try:
        check_size(len(text), limits)
        stream = ResourceStream(text, max_depth=limits.max_depth)

        def on_resource(i: int, node: yaml.Node) -> None:
            lines: LineMap = {}
            dups: list[tuple[tuple[Any, ...], int]] = []
            walk(node, ("spec", "resources", i), lines, dups, limits.max_depth)
            if dups:
                raise Fallback("duplicate key")
            built.resource(i, _construct(stream, node), lines)

        root = stream.read(on_resource)
        lines: LineMap = {}
        dups: list[tuple[tuple[Any, ...], int]] = []
        walk(root, (), lines, dups, limits.max_depth)
        if dups:
            raise Fallback("duplicate key")
        name, _, env_issues = _envelope(_construct(stream, root), file, lines)
    except (Fallback, InputLimitError, yaml.YAMLError, RecursionError):
        return None
    built.name = name
    built.errors = env_issues + built.errors
    return built


def _construct(stream: ResourceStream, node: yaml.Node) -> Any:
    try:
        return stream.construct(node)
    except Exception as e:  # a scalar the constructor cannot convert: the whole reader says which
        raise Fallback("construct") from e


def _line_for(lines: LineMap, key: tuple[Any, ...], base: tuple[Any, ...]) -> int | None:
    k = key
    while len(k) >= len(base):
        if k in lines:
            return lines[k]
        k = k[:-1]
    return None
