"""Bounds on the work routerd does for a document it did not write.

Config files, ``ValidateConfig``/``PlanChanges`` requests, dynamic parts put over the API and
plugin stdout all reach a YAML or JSON parser. Left alone, a few hundred bytes of YAML
aliases (each alias repeating the one before it nine times) expand to billions of nodes:
the parser shares them, but everything after it (the line map, pydantic, JSON encoding)
walks the expansion, and the process runs out of memory. Deep nesting makes the same walks
recurse until Python's stack runs out. So every document is held to three limits, checked
*before* anything walks the expansion:

* ``max_bytes``: the size of the text;
* ``max_depth``: nesting, counted through aliases (a real config nests about 8 deep);
* aliases may at most double a document, or add ``alias_floor`` nodes to a small one. DRY
  use of anchors (a shared ``delivery`` block per claim) adds well under that; an alias
  bomb needs millions of times more.

The check walks each distinct node once (aliases are shared node objects), so its cost is
linear in the text, whatever the alias graph. It also refuses a recursive alias (an anchor
used inside itself), which no consumer could walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

MiB = 1024 * 1024


@dataclass(frozen=True)
class InputLimits:
    """What one document may cost.

    Attributes:
        max_bytes: largest text accepted (a 10,000-claim config is about 5 MiB).
        max_depth: deepest nesting accepted, counted through aliases.
        alias_floor: nodes aliases may always add, however small the written document.
    """

    max_bytes: int = 64 * MiB
    max_depth: int = 64
    alias_floor: int = 100_000

    def max_expanded(self, written: int) -> int:
        """Nodes a document with ``written`` distinct nodes may have once aliases expand."""
        return written + max(written, self.alias_floor)


LIMITS = InputLimits()


class InputLimitError(ValueError):
    """A document exceeds a limit; the message says which, by how much, and what to do.

    Attributes:
        line: 1-based line where the problem shows, when known.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def check_size(length: int, limits: InputLimits = LIMITS) -> None:
    """Refuse a text longer than ``limits.max_bytes`` before parsing it.

    Raises:
        InputLimitError: naming the size and the limit.
    """
    if length > limits.max_bytes:
        raise InputLimitError(
            f"the document is {_size(length)}, more than the {_size(limits.max_bytes)} routerd "
            "accepts; split it or remove what is not needed"
        )


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def check_node_graph(root: yaml.Node, limits: InputLimits = LIMITS) -> None:
    """Check a composed YAML node graph (aliases still shared) against ``limits``.

    Args:
        root: the document node from ``Loader.get_single_node``.
        limits: the limits to hold it to.

    Raises:
        InputLimitError: a recursive alias, nesting deeper than ``max_depth`` or an alias
            expansion beyond ``max_expanded``; with the line where it shows.
    """
    size: dict[int, int] = {}  # id(node) -> nodes in its expansion
    height: dict[int, int] = {}  # id(node) -> nesting levels in its expansion
    path: set[int] = set()  # nodes whose expansion is being computed (the DFS path)
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, kids = stack.pop()
        nid = id(node)
        if kids is not None:  # every child is done: sum up
            total, deepest = 1, 0
            for k in kids:
                total += size[id(k)]
                deepest = max(deepest, height[id(k)])
            size[nid], height[nid] = total, deepest + 1
            path.discard(nid)
            if deepest >= limits.max_depth:
                raise _too_deep(node, limits)
            continue
        if nid in size:
            continue
        if nid in path:
            raise InputLimitError(
                "recursive alias: an anchor is used inside its own value, which makes the "
                "document infinite; replace the alias with the content it should have",
                _line(node),
            )
        path.add(nid)
        kids = _children(node)
        stack.append((node, kids))
        stack.extend((k, None) for k in kids if id(k) not in size)
    written, expanded = len(size), size[id(root)]
    allowed = limits.max_expanded(written)
    if expanded > allowed:
        raise InputLimitError(
            f"aliases expand this document from {written} to {_count(expanded)} nodes; at most "
            f"{allowed} are accepted (a YAML alias bomb?): write the repeated parts out or "
            "use fewer nested aliases"
        )


def _count(n: int) -> str:
    return str(n) if n < 10**12 else f"about 10^{len(str(n)) - 1}"


def _too_deep(node: yaml.Node, limits: InputLimits) -> InputLimitError:
    return InputLimitError(
        f"nesting is deeper than {limits.max_depth} levels (counted through aliases); a "
        "Router document needs about 8: flatten the structure",
        _line(node),
    )


def check_tree(value: Any, limits: InputLimits = LIMITS) -> None:
    """Check decoded data (from JSON: a tree, no sharing) for nesting depth.

    Raises:
        InputLimitError: when it nests deeper than ``limits.max_depth``.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.max_depth:
            raise InputLimitError(
                f"nesting is deeper than {limits.max_depth} levels; a routerd document needs "
                "about 8: flatten the structure"
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


class NotUtf8Error(ValueError):
    """Bytes that are not UTF-8 text, located the way an editor shows them.

    Attributes:
        offset: 0-based byte offset of the first bad byte.
        line / column: 1-based line, and column counted in bytes, of that byte.
    """

    def __init__(self, data: bytes, err: UnicodeDecodeError) -> None:
        self.offset = err.start
        self.line = data.count(b"\n", 0, err.start) + 1
        self.column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        bad = data[err.start : err.start + 1].hex()
        hint = "save it as UTF-8"
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = "it looks like UTF-16: convert it, e.g. `iconv -f UTF-16 -t UTF-8`"
        self.message = (
            f"not UTF-8 text: byte 0x{bad} at byte offset {err.start} (line {self.line}, "
            f"column {self.column}) is invalid ({err.reason}); {hint}"
        )
        super().__init__(self.message)


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8 text or say exactly where it is not.

    Raises:
        NotUtf8Error: with the byte offset, line and column of the first bad byte.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotUtf8Error(data, e) from None
