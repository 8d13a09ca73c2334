"""Fuzz the parsers of outside input: whatever comes in, the answer is a finding, never a crash.

Three properties, each over generated input:

* ``load_text`` / ``load_file`` return a ``LoadResult`` for any text or bytes (every problem an
  error with a message), never raise;
* YAML built from random trees with anchors and aliases either parses with its expansion
  inside the limit (checked by walking the *decoded* data, so a gap in the node-graph check
  would show here) or is refused by a limit;
* a plugin's stdout decodes to a result or fails with ``ResultDecodeError`` only.

Runs are derandomized (the same examples every run, no example database), so a failure is
reproducible from the test alone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routerd.configfile import load_file
from routerd.core.input_limits import InputLimits
from routerd.core.loader import LoadResult, load_text, parse_yaml
from routerd.core.plugins.protocol import ResultDecodeError, decode_result
from tests.support import hostile

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SEEDS = [
    hostile.alias_bomb(),
    hostile.merge_bomb(),
    hostile.recursive_alias(),
    hostile.deep_nesting(),
    "apiVersion: routerd.net/v1alpha1\nkind: Router\nmetadata: {name: r}\nspec: {resources: []}\n",
]


def text_documents() -> st.SearchStrategy[str]:
    """Arbitrary text, YAML-ish fragments and hostile seeds mutated by splicing."""
    yamlish = st.lists(
        st.sampled_from(["a:", " ", "\n", "- ", "[", "]", "{", "}", ",", "&x ", "*x", "<<: ",
                         "'", '"', "!!int ", "!!timestamp ", "? ", "---\n", "#", "\t", "2026-02-30",
                         "1" * 50, "\x00", "\ufeff", "é"]),
        max_size=60,
    ).map("".join)  # fmt: skip
    spliced = st.tuples(st.sampled_from(SEEDS), st.integers(0, 400), st.text(max_size=20)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )
    return st.one_of(st.text(max_size=400), yamlish, spliced, st.sampled_from(SEEDS))


@FUZZ
@given(text_documents())
def test_load_text_answers_every_text_with_a_result(text):
    result = load_text(text, "fuzz.yaml")
    assert isinstance(result, LoadResult)
    assert result.valid or result.errors
    assert all(e.message for e in result.errors)


@FUZZ
@given(st.binary(max_size=600) | text_documents().map(lambda t: t.encode("utf-8", "replace")))
def test_load_file_answers_every_byte_string_with_a_result(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "router.yaml"
        path.write_bytes(data)
        result = load_file(path)
    assert isinstance(result, LoadResult)
    assert all(e.file == str(path) for e in result.errors)


def anchored_yaml(draw: st.DrawFn) -> str:
    """A flow-style document of nested lists (at most 80 written nodes), some anchored, some
    leaves aliases of earlier anchors: small to write, anything from tame to a bomb."""
    anchors: list[str] = []
    written = [0]

    def node(depth: int) -> str:
        written[0] += 1
        kinds = ["leaf", "alias", "list"] if depth < 6 and written[0] < 80 else ["leaf", "alias"]
        kind = draw(st.sampled_from(kinds))
        if kind == "alias" and anchors:
            return f"*{draw(st.sampled_from(anchors))}"
        if kind == "list":
            body = "[" + ", ".join(node(depth + 1) for _ in range(draw(st.integers(0, 9)))) + "]"
        else:
            body = draw(st.sampled_from(["x", "1", "''", "true"]))
        if draw(st.booleans()):
            name = f"a{len(anchors)}"
            anchors.append(name)
            return f"&{name} {body}"
        return body

    entries = [f"k{i}: {node(0)}" for i in range(draw(st.integers(1, 6)))]
    return "\n".join(entries) + "\n"


def expanded_size(value: Any, budget: int) -> int:
    """Nodes in the decoded data with every shared object counted each time (stops at budget)."""
    count, stack = 0, [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            for k, v in item.items():
                stack += [k, v]
        elif isinstance(item, list):
            stack.extend(item)
    return count


SMALL = InputLimits(alias_floor=1000)
"""A small alias allowance keeps each example cheap; the rule checked is the same."""


@FUZZ
@given(st.composite(anchored_yaml)())
def test_accepted_yaml_never_expands_beyond_the_limit(text):
    data, lines, issues = parse_yaml(text, limits=SMALL)
    if issues:
        assert data is None or all("duplicate key" in i.message for i in issues)
        return
    written = len(text)  # every node takes at least one character
    budget = SMALL.max_expanded(written)
    assert expanded_size(data, budget) <= budget
    assert len(lines) <= budget


def plugin_outputs() -> st.SearchStrategy[bytes]:
    envelope = (
        '{{"apiVersion": "plugin.routerd.net/v1alpha1", "kind": "PluginResult", '
        '"status": {{"ttl": {ttl}, "resources": {res}}}}}'
    )
    json_like = st.builds(
        lambda ttl, res: envelope.format(ttl=ttl, res=res).encode(),
        st.sampled_from(['"60s"', "0", '"-1s"', "null", "[]", '"x"']),
        st.sampled_from(["[]", "[1]", '[{"kind": "X"}]', "null", "{}", "[" * 200 + "]" * 200]),
    )
    return st.one_of(st.binary(max_size=400), json_like, text_documents().map(str.encode))


@FUZZ
@given(plugin_outputs())
def test_plugin_stdout_decodes_or_fails_with_a_decode_error(stdout):
    try:
        decode_result(stdout)
    except ResultDecodeError as e:
        assert e.problems and all(p for p in e.problems)
