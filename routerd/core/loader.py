"""Read a Router YAML file into a typed, validated ``RouterConfig``.

Every problem is reported at once, each with the file, line, ``Kind/name``, field path and
what to do. Line numbers come from the YAML node tree, which we walk alongside the decoded
document; duplicate keys (silently last-wins in PyYAML) are errors here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigError, ConfigIssue
from routerd.core.input_limits import (
    LIMITS,
    InputLimitError,
    InputLimits,
    NotUtf8Error,
    check_node_graph,
    check_size,
    decode_utf8,
)
from routerd.core.resources import (
    KINDS,
    ROUTER_API_VERSION,
    DynamicConfigPart,
    RemoteAddressClaim,
    Resource,
)
from routerd.core.resources.claim import Interner
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
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: LineMap,
    dups: list[tuple[tuple[Any, ...], int]],
    max_depth: int,
) -> None:
    if len(path) >= max_depth:  # the graph check bounds this too; this keeps recursion safe
        raise InputLimitError(f"nesting is deeper than {max_depth} levels", _mark_line(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key, str):  # a complex key: the constructor has refused it
                continue
            if key in seen:
                dups.append((path + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, dups, max_depth)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _walk(child, path + (i,), lines, dups, max_depth)


def _mark_line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _issue(message: str, line: int | None, file: str | None) -> ConfigIssue:
    return ConfigIssue("Router", "", message, line, file)


def _compose(text: str, limits: InputLimits) -> tuple[Any, yaml.Node | None]:
    """Parse to a node graph, check it against ``limits``, then build the Python values.

    The check runs before construction: merge keys (``<<: *a``) are flattened during
    construction and would otherwise expand an alias bomb right there.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if "&" in text:  # without an anchor there is no alias: the nodes form a tree
            check_node_graph(node, limits)
        try:
            return loader.construct_document(node), node
        except yaml.YAMLError:
            raise
        except Exception as e:  # a scalar the constructor cannot convert (2026-02-30)
            raise _bad_value(node, e) from None
    finally:
        loader.dispose()


class _ValueError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _bad_value(root: yaml.Node, err: Exception) -> _ValueError:
    """Find the scalar the constructor choked on, to name its line and text."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(node, deep=True)
            except Exception as e:
                kind = str(node.tag).rsplit(":", 1)[-1]
                why = str(e).split(";")[0]  # drop Python's own advice (set_int_max_str_digits)
                return _ValueError(
                    f"{node.value[:40]!r} cannot be read as {kind} ({why}); quote it to keep it "
                    "as text",
                    _mark_line(node),
                )
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return _ValueError(f"a value cannot be read ({err}); quote it to keep it as text", None)


def parse_yaml(
    text: str, file: str | None = None, *, limits: InputLimits = LIMITS
) -> tuple[Any, LineMap, list[ConfigIssue]]:
    """Parse YAML text, returning the document, a path->line map and syntax issues.

    Work is bounded by ``limits`` (size, nesting, alias expansion): a document over a limit
    is one issue saying which, never a long parse or a full memory.
    """
    lines: LineMap = {}
    issues: list[ConfigIssue] = []
    try:
        check_size(len(text), limits)
        data, node = _compose(text, limits)
    except InputLimitError as e:
        return None, lines, [_issue(e.message, e.line, file)]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        msg = f"YAML syntax error{col}: {problem}; fix the indentation or quoting at this position"
        return None, lines, [_issue(msg, line, file)]
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        msg = f"YAML error: {e.reason} (character #x{char:04x}); remove it or quote the text"
        return None, lines, [_issue(msg, line, file)]
    except yaml.YAMLError as e:
        return None, lines, [_issue(f"YAML error: {e}", None, file)]
    except RecursionError:  # the pure-Python parser nests a frame per level
        return None, lines, [_issue(_too_deep_message(limits), None, file)]
    except _ValueError as e:
        return None, lines, [_issue(e.message, e.line, file)]
    if node is not None:
        dups: list[tuple[tuple[Any, ...], int]] = []
        try:
            _walk(node, (), lines, dups, limits.max_depth)
        except InputLimitError as e:
            return None, {}, [_issue(_too_deep_message(limits), e.line, file)]
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


def _too_deep_message(limits: InputLimits) -> str:
    return (
        f"nesting is deeper than {limits.max_depth} levels; a Router document needs about 8: "
        "flatten the structure"
    )


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
    intern = Interner()
    for i, doc in enumerate(docs):
        base = ("spec", "resources", i)
        label = _resource_label(doc, i)
        res, problems = decode_resource(doc, intern=intern)
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
    """Read and validate a Router YAML file.

    An unreadable, oversized or non-UTF-8 file is one error naming the file (and the byte
    offset of the first bad byte), never an exception.
    """
    p = Path(path)
    try:
        text = read_text_file(p)
    except OSError as e:
        return LoadResult(None, [_issue(f"cannot read config: {e.strerror}", None, str(p))])
    except (InputLimitError, NotUtf8Error) as e:
        line = e.line if isinstance(e, NotUtf8Error) else None
        return LoadResult(None, [_issue(str(e), line, str(p))])
    return load_text(text, str(p), extra_checks=extra_checks)


def read_text_file(path: Path, limits: InputLimits = LIMITS) -> str:
    """Read a UTF-8 text file of at most ``limits.max_bytes``.

    Raises:
        OSError: the file cannot be read.
        InputLimitError: it is larger than the limit (only the limit is read).
        NotUtf8Error: it is not UTF-8 (with the byte offset).
    """
    with path.open("rb") as f:
        check_size(os.fstat(f.fileno()).st_size, limits)
        data = f.read(limits.max_bytes + 1)  # a pipe or /proc file has no size up front
    check_size(len(data), limits)
    return decode_utf8(data)
