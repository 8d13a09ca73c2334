"""Inputs a hostile or careless client sends, shared by the loader, API, plugin and daemon tests.

Each builder returns text (or bytes) that is small on the wire and expensive for a naive
parser; the docstring says which limit it exercises.
"""

from __future__ import annotations


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each anchor repeats the previous one ``width`` times.

    At the defaults about 600 bytes that expand to ``9**9`` (387 million) scalars: exercises
    the alias expansion limit. It is a valid Router envelope, so only the limit can stop it.
    """
    lines = [
        "apiVersion: routerd.net/v1alpha1",
        "kind: Router",
        "metadata: {name: bomb}",
        "x-bomb:",
        f"  l0: &l0 [{', '.join(['lol'] * width)}]",
    ]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    lines.append(f"spec: {{resources: [], note: *l{levels - 1}}}")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 12, width: int = 9) -> str:
    """Merge keys (``<<: [*a, *a, ...]``) that PyYAML flattens while constructing.

    Exercises the limit being applied *before* construction.
    """
    lines = ["m0: &m0 {a: 1, b: 2, c: 3}"]
    for i in range(1, levels):
        refs = ", ".join([f"*m{i - 1}"] * width)
        lines.append(f"m{i}: &m{i} {{<<: [{refs}]}}")
    return "\n".join(lines) + "\n"


def recursive_alias() -> str:
    """An anchor used inside itself: an infinite document (exercises the cycle check)."""
    return "spec: &loop {resources: [*loop]}\n"


def deep_nesting(depth: int = 500) -> str:
    """Flow sequences nested ``depth`` deep (exercises the nesting limit)."""
    return "spec: " + "[" * depth + "]" * depth + "\n"


def deep_json(depth: int = 100_000) -> str:
    """JSON arrays nested ``depth`` deep (the C decoder recurses per level)."""
    return "[" * depth + "]" * depth


def not_utf8_config() -> tuple[bytes, int]:
    """A config with one Latin-1 byte in a comment on line 3; returns (bytes, byte offset)."""
    head = b"apiVersion: routerd.net/v1alpha1\nkind: Router\n# caf"
    return head + b"\xe9\nmetadata: {name: x}\n", len(head)
