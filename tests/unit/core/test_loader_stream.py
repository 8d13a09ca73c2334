"""The streaming reader loads exactly what the whole-document reader loads, and keeps little.

``load_text`` reads a plain document resource by resource and hands anything else to the
whole-document reader (``stream=False``). The properties:

* for every shipped example and for documents made by splicing YAML fragments into valid
  ones (syntax errors, unknown fields, bad values, duplicate keys, anchors, reordered
  envelopes), both readers give the same config, the same line index and the same
  findings, message for message and line for line;
* plain documents really are streamed (a fallback for them would pass the first property
  and keep the memory this exists to save);
* loading holds one resource's YAML at a time (the peak of traced memory beyond what the
  config keeps does not grow by the YAML tree of every claim).

Runs are derandomized (the same examples every run), so a failure is reproducible.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.claims import Names, config_text
from routerd.core import loader
from routerd.core.line_index import LineIndex
from routerd.core.loader import LoadResult, load_text
from routerd.providers import config_checks

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("**/*.yaml"))
NAMES = Names("ens19", "wg-sam")

PROPERTY = settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def outcome(r: LoadResult) -> tuple[Any, ...]:
    config = r.config
    kept = None
    if config is not None:
        kept = (
            config.name,
            [(type(x).__name__, x.to_doc()) for x in config],
            dict(config.lines),
        )
    return ([i.render() for i in r.errors], [w.render() for w in r.warnings], kept)


def both(text: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    checks = [config_checks]
    streamed = load_text(text, "router.yaml", extra_checks=checks)
    whole = load_text(text, "router.yaml", extra_checks=checks, stream=False)
    return outcome(streamed), outcome(whole)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_loads_alike_both_ways(path: Path) -> None:
    text = path.read_text()
    a, b = both(text)
    assert a == b
    if "&" not in text and isinstance(yaml.safe_load(text), dict):
        assert loader._stream(text, str(path)) is not None, "a plain document was read whole"


def _seeds() -> list[str]:
    mixed = (ROOT / "examples/azure/onprem.yaml").read_text()
    flow = config_text("provider", 3, NAMES)
    bad = config_text("proxy-arp", 3, NAMES).replace("address: 10.16.0.1/32", "address: 10.16.0.1")
    reordered = (
        "spec:\n  resources:\n"
        + flow.split("  resources:\n", 1)[1]
        + "metadata: {name: late}\nkind: Router\napiVersion: routerd.net/v1alpha1\n"
    )
    return [mixed, flow, bad, reordered]


SEEDS = _seeds()
FRAGMENTS = [
    "\n", " ", "  ", "- ", ": ", "#c\n", "x: 1\n", "      extra: 1\n", "      spec: {}\n",
    "    - {}\n", "    - 7\n", "    - kind: Nope\n", "&a ", "*a", "<<: {a: 1}\n", "'", '"',
    "!!str ", "2026-02-30", "[", "}", "name: dup\n", "      metadata: {name: c1}\n",
    "      kind: RemoteAddressClaim\n", "address: 10.0.0.1/24\n", "type: garp\n", "\t",
    "---\n", "resources: []\n", "spec: {resources: [1]}\n",
]  # fmt: skip


def spliced() -> st.SearchStrategy[str]:
    """A valid document with up to three fragments spliced in at random places."""
    cut = st.tuples(st.integers(0, 10_000), st.sampled_from(FRAGMENTS))
    return st.tuples(st.sampled_from(SEEDS), st.lists(cut, max_size=3)).map(_splice)


def _splice(t: tuple[str, list[tuple[int, str]]]) -> str:
    text, cuts = t
    for at, frag in cuts:
        i = at % (len(text) + 1)
        text = text[:i] + frag + text[i:]
    return text


VALUES = ["", "7", "x", "10.0.0.1", "10.16.0.1/32", "[a, b]", "{}", "null", "true", "'q'", "c1"]


def edited() -> st.SearchStrategy[str]:
    """A valid document with up to four lines deleted, repeated or given another value:
    mostly still YAML, so mostly streamed, with findings of every kind."""
    edit = st.tuples(st.integers(0, 10_000), st.sampled_from(["del", "dup", *VALUES]))
    return st.tuples(st.sampled_from(SEEDS), st.lists(edit, max_size=4)).map(_edit)


def _edit(t: tuple[str, list[tuple[int, str]]]) -> str:
    text, edits = t
    lines = text.split("\n")
    for at, what in edits:
        i = at % len(lines)
        if what == "del":
            del lines[i]
        elif what == "dup":
            lines.insert(i, lines[i])
        elif ": " in lines[i]:
            lines[i] = lines[i].split(": ", 1)[0] + ": " + what
    return "\n".join(lines)


@PROPERTY
@given(st.one_of(spliced(), edited()))
def test_spliced_and_edited_documents_load_alike_both_ways(text: str) -> None:
    a, b = both(text)
    assert a == b


def test_plain_documents_are_streamed_and_others_read_whole() -> None:
    plain = config_text("provider", 3, NAMES)
    assert loader._stream(plain, None) is not None
    anchored = plain.replace("peerRef: peer,", "peerRef: &p peer,", 1)
    duplicated = plain.replace("kind: Router\n", "kind: Router\nkind: Router\n")
    two_docs = plain + "---\n" + plain
    # merge keys: the whole reader merges before it takes lines and duplicate keys, so a
    # merged key that repeats one written beside it is a finding, and merged resources count
    merged_dup = plain.replace(
        "        domainRef: bench\n",
        "        <<: {domainRef: x, ownerSide: cloud}\n" + "        domainRef: bench\n",
        1,
    )
    merged_resources = plain.replace(
        "spec:\n  resources:\n", "spec:\n  <<: {resources: [7]}\n  resources:\n", 1
    )
    merged_root = plain.replace("kind: Router\n", "kind: Router\n<<: {metadata: {name: z}}\n")
    merged_only = plain.replace("        domainRef: bench\n", "        <<: {domainRef: bench}\n", 1)
    merged = (merged_dup, merged_resources, merged_root)
    for other in (anchored, duplicated, two_docs, merged_only, *merged):
        assert loader._stream(other, None) is None
        a, b = both(other)
        assert a == b
        if other in merged:
            assert any("duplicate key" in m for m in a[0]), a[0]


def _peak_beyond_kept(n: int) -> float:
    """Bytes per claim loading peaks at beyond what the loaded config keeps."""
    text = config_text("provider", n, NAMES)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = load_text(text)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.valid
    return (peak - kept) / n if kept > before else float("inf")


def test_loading_holds_one_resource_of_yaml_at_a_time() -> None:
    # The whole-document reader peaks at ~15 KB a claim beyond what it keeps (a node, two
    # marks and a string per scalar of every claim); streaming adds only the parser's copy
    # of the text (~0.5 KB a claim) to one resource's tree.
    assert _peak_beyond_kept(2_000) < 2_000


def test_the_line_index_reads_like_the_dict_it_replaces() -> None:
    lines = LineIndex()
    written = [
        [("", 10), ("kind", 11), ("spec", 13), ("spec.address", 14)],
        [("", 20), ("kind", 21), ("spec", 23), ("spec.address", 24)],
        [("", 30), ("spec", 31)],
    ]
    plain: dict[tuple[int, str], int] = {}
    for i, entries in enumerate(written):
        lines.add(i, entries)
        plain.update({(i, path): line for path, line in entries})
    assert dict(lines) == plain and len(lines) == len(plain)
    assert lines.get((1, "spec.address")) == 24 and lines.get((2, "kind")) is None
    assert lines.get((3, "")) is None and lines == plain
    assert repr(lines) == "LineIndex(3 resources, 2 shapes)"
    with pytest.raises(ValueError, match="out of order"):
        lines.add(5, [])
