"""Parse a YAML document whole, with the line of every path in it.

``parse_yaml`` is the reader for every document that is not a plain Router config (dynamic
parts, plugin output, World files, and configs with anchors or duplicate keys): it composes
the whole node tree, checks it against the input limits before anything walks an alias
expansion, builds the Python values, and maps every path to its line. Duplicate keys
(silently last-wins in PyYAML) are findings here.
"""

from __future__ import annotations

from typing import Any

import yaml

from routerd.core.errors import ConfigIssue
from routerd.core.input_limits import (
    LIMITS,
    InputLimitError,
    InputLimits,
    check_node_graph,
    check_size,
)

LineMap = dict[tuple[Any, ...], int]

# libyaml's parser is ~10x faster; node marks (line numbers) work the same way.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def walk(
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
            walk(value_node, path + (key,), lines, dups, max_depth)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            walk(child, path + (i,), lines, dups, max_depth)


def _mark_line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def issue(message: str, line: int | None, file: str | None) -> ConfigIssue:
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
        return None, lines, [issue(e.message, e.line, file)]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        msg = f"YAML syntax error{col}: {problem}; fix the indentation or quoting at this position"
        return None, lines, [issue(msg, line, file)]
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        msg = f"YAML error: {e.reason} (character #x{char:04x}); remove it or quote the text"
        return None, lines, [issue(msg, line, file)]
    except yaml.YAMLError as e:
        return None, lines, [issue(f"YAML error: {e}", None, file)]
    except RecursionError:  # the pure-Python parser nests a frame per level
        return None, lines, [issue(_too_deep_message(limits), None, file)]
    except _ValueError as e:
        return None, lines, [issue(e.message, e.line, file)]
    if node is not None:
        dups: list[tuple[tuple[Any, ...], int]] = []
        try:
            walk(node, (), lines, dups, limits.max_depth)
        except InputLimitError as e:
            return None, {}, [issue(_too_deep_message(limits), e.line, file)]
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
