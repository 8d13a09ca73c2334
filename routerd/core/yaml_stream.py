"""Compose a Router document's YAML one resource at a time.

Composing the whole document first (what ``yaml.compose`` does) holds a node, two marks and
a string for every scalar of every resource at once: ~15 KB per claim, 1.5 GB at 100,000
claims. Python keeps the memory of freed small objects in its own arenas, and an arena
holding one live object stays with the process, so that peak would stay the daemon's
resident size for good. Here the parser's events are composed into the same ``yaml.Node``
trees, but each item of ``spec.resources`` is handed to the caller as soon as it is
complete and dropped after: the peak is one resource, whatever the number of resources.

Only plain documents are read this way: one document, a mapping at the root, no anchors,
aliases or merge keys (``<<``: the constructor merges before lines and duplicate keys are
taken), no duplicate keys at the root or in ``spec``, no complex keys, nesting within the
limit. Anything else raises ``Fallback`` and the caller reads the whole document as
before, so every finding and message stays exactly what the whole-document reader gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml's parser when present (as the loader uses); its events are the same classes.
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

OnResource = Callable[[int, Node], None]
MERGE_TAG = "tag:yaml.org,2002:merge"


class Fallback(Exception):
    """The document is not a plain one (see the module docstring): read it whole."""


class _Composer:
    def __init__(self, loader: Any, max_depth: int) -> None:
        self.loader = loader
        self.max_depth = max_depth

    def _tag(self, kind: type[Node], event: Any, value: str | None) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, value, event.implicit)
        return str(tag)

    def node(self, depth: int) -> Node:
        """The next node, composed as ``yaml.compose`` composes it."""
        if depth > self.max_depth:
            raise Fallback("nesting")
        loader = self.loader
        event = loader.get_event()
        if getattr(event, "anchor", None) is not None:
            raise Fallback("anchor")
        ev: Any = event  # libyaml's marks are not the stubs' Mark class
        if isinstance(event, ScalarEvent):
            return ScalarNode(
                self._tag(ScalarNode, ev, ev.value), ev.value, ev.start_mark, ev.end_mark, ev.style
            )
        if isinstance(event, SequenceStartEvent):
            seq = SequenceNode(
                self._tag(SequenceNode, ev, None), [], ev.start_mark, None, ev.flow_style
            )
            while not loader.check_event(SequenceEndEvent):
                seq.value.append(self.node(depth + 1))
            seq.end_mark = loader.get_event().end_mark
            return seq
        if isinstance(event, MappingStartEvent):
            mapping = self._mapping_start(ev)
            while not loader.check_event(MappingEndEvent):
                mapping.value.append((self.key(depth + 1), self.node(depth + 1)))
            mapping.end_mark = loader.get_event().end_mark
            return mapping
        raise Fallback(type(ev).__name__)  # an alias

    def key(self, depth: int) -> Node:
        """A mapping key; a merge key (``<<``) is left to the whole reader, whose
        constructor merges before the lines and duplicate keys are taken."""
        key = self.node(depth)
        if key.tag == MERGE_TAG:
            raise Fallback("merge key")
        return key

    def _mapping_start(self, event: Any) -> MappingNode:
        return MappingNode(
            self._tag(MappingNode, event, None),
            [],
            event.start_mark,
            None,
            flow_style=event.flow_style,
        )

    def mapping(self, depth: int, special: dict[str, Callable[[], Node]]) -> MappingNode:
        """A mapping whose values under the keys of ``special`` are read by those."""
        loader = self.loader
        event = loader.get_event()
        if not isinstance(event, MappingStartEvent) or event.anchor is not None:
            raise Fallback("not a mapping")
        mapping = self._mapping_start(event)
        seen: set[str] = set()
        while not loader.check_event(MappingEndEvent):
            key = self.key(depth + 1)
            if not isinstance(key, ScalarNode) or key.value in seen:
                raise Fallback("complex or duplicate key")
            seen.add(key.value)
            read = special.get(key.value)
            value = read() if read is not None else self.node(depth + 1)
            mapping.value.append((key, value))
        mapping.end_mark = loader.get_event().end_mark
        return mapping

    def items(self, depth: int, on_item: OnResource) -> Node:
        """A sequence handed over item by item, returned empty (anything else composed as is)."""
        loader = self.loader
        if not loader.check_event(SequenceStartEvent):
            return self.node(depth)
        event = loader.get_event()
        if event.anchor is not None:
            raise Fallback("anchor")
        seq = SequenceNode(
            self._tag(SequenceNode, event, None),
            [],
            event.start_mark,
            None,
            flow_style=event.flow_style,
        )
        index = 0
        while not loader.check_event(SequenceEndEvent):
            on_item(index, self.node(depth + 1))
            index += 1
        seq.end_mark = loader.get_event().end_mark
        return seq


class ResourceStream:
    """One pass over a Router document's text (see the module docstring).

    Args:
        text: the YAML.
        max_depth: nesting beyond which the document is left to the whole reader.

    Raises:
        Fallback: the document has anchors (checked before parsing).
    """

    def __init__(self, text: str, *, max_depth: int) -> None:
        if "&" in text:  # without an anchor there is no alias, so nothing is shared
            raise Fallback("anchors")
        self._loader = _Parser(text)
        self._composer = _Composer(self._loader, max_depth)

    def construct(self, node: Node) -> Any:
        """The Python value of ``node``, as the safe loader constructs it."""
        return self._loader.construct_document(node)

    def read(self, on_resource: OnResource) -> MappingNode:
        """Compose the document, handing each ``spec.resources`` item to ``on_resource``
        (index, node) as soon as it is read.

        Returns:
            The root node, its ``spec.resources`` left empty.

        Raises:
            Fallback: the document is not plain (see the module docstring).
            yaml.YAMLError: the parser refused the text.
        """
        loader, composer = self._loader, self._composer
        try:
            if not isinstance(loader.get_event(), StreamStartEvent):
                raise Fallback("stream")
            if not isinstance(loader.get_event(), DocumentStartEvent):
                raise Fallback("no document")

            def resources() -> Node:
                return composer.items(2, on_resource)

            def spec() -> Node:
                if not loader.check_event(MappingStartEvent):
                    return composer.node(1)
                return composer.mapping(1, {"resources": resources})

            root = composer.mapping(0, {"spec": spec})
            if not isinstance(loader.get_event(), DocumentEndEvent):
                raise Fallback("document end")
            if not isinstance(loader.get_event(), StreamEndEvent):
                raise Fallback("more than one document")
            return root
        finally:
            loader.dispose()
