"""Read a Router YAML file into a typed, validated ``RouterConfig``.

Every problem is reported at once, each with the file, line, ``Kind/name``, field path and
what to do. Line numbers come from the YAML node tree, which we walk alongside the decoded
document; duplicate keys (silently last-wins in PyYAML) are errors here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigError, ConfigIssue
from routerd.core.resources import KINDS, ROUTER_API_VERSION, DynamicConfigPart, Resource
from routerd.core.validation import ExtraCheck, validate_config

LineMap = dict[tuple[Any, ...], int]

# libyaml's parser is ~10x faster; node marks (line numbers) work the same way.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def _walk(
    node: yaml.Node, path: tuple[Any, ...], lines: LineMap, dups: list[tuple[tuple[Any, ...], int]]
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                dups.append((path + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, dups)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _walk(child, path + (i,), lines, dups)


def parse_yaml(text: str, file: str | None = None) -> tuple[Any, LineMap, list[ConfigIssue]]:
    """Parse YAML text, returning the document, a path->line map and syntax issues."""
    lines: LineMap = {}
    issues: list[ConfigIssue] = []
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        issues.append(
            ConfigIssue(
                "Router",
                "",
                f"YAML syntax error{col}: {problem}; fix the "
                "indentation or quoting at this position",
                line,
                file,
            )
        )
        return None, lines, issues
    except yaml.YAMLError as e:
        issues.append(ConfigIssue("Router", "", f"YAML error: {e}", None, file))
        return None, lines, issues
    if node is not None:
        dups: list[tuple[tuple[Any, ...], int]] = []
        _walk(node, (), lines, dups)
        for p, line in dups:
            issues.append(
                ConfigIssue(
                    "Router",
                    ".".join(str(x) for x in p),
                    "duplicate key: the second value would silently replace the first; keep one",
                    line,
                    file,
                )
            )
    return data, lines, issues


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
    doc: Any, *, where: str = "resource"
) -> tuple[Resource | None, list[tuple[str, str]]]:
    """Decode one resource document into its typed class.

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
        res = cls.model_validate(doc)
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


def load_text(
    text: str, file: str | None = None, *, extra_checks: Sequence[ExtraCheck] = ()
) -> LoadResult:
    """Parse, decode and validate a Router document given as text.

    Args:
        text: the YAML.
        file: its path, for messages.
        extra_checks: rules from outside core (``routerd.providers.config_checks``).
    """
    data, lines, issues = parse_yaml(text, file)
    if data is None and issues:
        return LoadResult(None, issues)
    name, docs, env_issues = _envelope(data, file, lines)
    errors = issues + env_issues
    resources: list[Resource] = []
    undecoded: set[tuple[str, str]] = set()
    by_resource: dict[int, list[tuple[tuple[Any, ...], int]]] = {}
    for key, line in lines.items():  # one pass: grouping per resource keeps loading linear
        if len(key) >= 3 and key[:2] == ("spec", "resources") and isinstance(key[2], int):
            by_resource.setdefault(key[2], []).append((key, line))
    res_lines: dict[tuple[int, str], int] = {}
    for i, doc in enumerate(docs):
        base = ("spec", "resources", i)
        label = _resource_label(doc, i)
        res, problems = decode_resource(doc)
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
            undecoded.add((kind, rname))
        for path, msg in problems:
            key = base + tuple(int(p) if p.isdigit() else p for p in path.split(".") if p)
            errors.append(ConfigIssue(label, path, msg, _line_for(lines, key, base), file))
        if res is not None:
            idx = len(resources)
            for key, line in by_resource.get(i, ()):
                res_lines[(idx, ".".join(str(x) for x in key[3:]))] = line
            resources.append(res)
    config = RouterConfig(name, resources, file=file, lines=res_lines)
    sem_errors, warnings = validate_config(config, extra_checks, undecoded=frozenset(undecoded))
    errors.extend(sem_errors)
    return LoadResult(None if errors else config, errors, warnings)


def _line_for(lines: LineMap, key: tuple[Any, ...], base: tuple[Any, ...]) -> int | None:
    k = key
    while len(k) >= len(base):
        if k in lines:
            return lines[k]
        k = k[:-1]
    return None


def load_file(path: str | Path, *, extra_checks: Sequence[ExtraCheck] = ()) -> LoadResult:
    """Read and validate a Router YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        return LoadResult(
            None, [ConfigIssue("Router", "", f"cannot read config: {e.strerror}", None, str(p))]
        )
    return load_text(text, str(p), extra_checks=extra_checks)
