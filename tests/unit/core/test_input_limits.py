"""Every parser that sees outside input is bounded: each hostile input fails with the limit it hit.

The memory test runs the loader in a child process under ``RLIMIT_AS``: before the limits, the
600-byte alias bomb needed gigabytes and died with MemoryError (or took the machine down); now it
must come back with one clear error inside a budget a real config of that size never needs.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench import claims
from routerd.configfile import load_file, read_text_file
from routerd.core.input_limits import (
    InputLimitError,
    InputLimits,
    NotUtf8Error,
    check_tree,
    decode_utf8,
)
from routerd.core.loader import load_text, parse_yaml
from routerd.core.plugins.protocol import ResultDecodeError, decode_result
from tests.support import hostile

ROOT = Path(__file__).resolve().parents[3]


def only_error(text: str) -> str:
    result = load_text(text, "router.yaml")
    assert not result.valid
    [issue] = result.errors
    return issue.render()


def test_an_alias_bomb_is_refused_by_the_expansion_limit():
    text = hostile.alias_bomb()
    assert len(text) < 700
    msg = only_error(text)
    assert "aliases expand this document" in msg and "alias bomb" in msg
    assert msg.startswith("router.yaml: Router: ")


def test_a_merge_key_bomb_is_refused_before_construction_flattens_it():
    _, _, issues = parse_yaml(hostile.merge_bomb())
    [issue] = issues
    assert "aliases expand this document" in issue.message


def test_a_recursive_alias_is_refused_with_its_line():
    _, _, [issue] = parse_yaml(hostile.recursive_alias(), "f.yaml")
    assert "recursive alias" in issue.message and issue.line == 1


def test_nesting_deeper_than_the_limit_is_refused_with_its_line():
    _, _, [issue] = parse_yaml(hostile.deep_nesting(), "f.yaml")
    assert "nesting is deeper than 64 levels" in issue.message and issue.line == 1
    block = "".join(" " * i + "a:\n" for i in range(80)) + " " * 80 + "1\n"
    _, _, [issue] = parse_yaml(block)
    assert "nesting is deeper" in issue.message and issue.line is not None


def test_nesting_counted_through_aliases_is_refused():
    """No line nests deeper than 41, but the alias puts 40 levels under 30 more."""
    inner = "[" * 40 + "x" + "]" * 40
    _, _, issues = parse_yaml(f"a: &a {inner}\n")
    assert not issues
    outer = "[" * 30 + "*a" + "]" * 30
    _, _, [issue] = parse_yaml(f"a: &a {inner}\nb: {outer}\n")
    assert "nesting is deeper" in issue.message


def test_anchors_used_to_share_a_block_stay_valid():
    """DRY use of aliases (one delivery block for every claim) is far inside the limit."""
    text = claims.config_text("proxy-arp", 300, claims.Names("lan0", "wg0"))
    delivery = "delivery: {peerRef: peer, tunnelInterface: wg0}"
    assert text.count(delivery) == 300
    first = text.index(delivery)
    shared = (
        text[:first]
        + "delivery: &d {peerRef: peer, tunnelInterface: wg0}"
        + text[first + len(delivery) :].replace(delivery, "delivery: *d")
    )
    plain, aliased = load_text(text), load_text(shared)
    assert aliased.valid, [e.render() for e in aliased.errors]
    assert aliased.config is not None and plain.config is not None
    assert aliased.config.digest() == plain.config.digest()


def test_the_size_limit_is_checked_before_parsing(tmp_path):
    small = InputLimits(max_bytes=1000)
    _, _, [issue] = parse_yaml("a: " + "x" * 2000, limits=small)
    assert "more than the 1000 bytes routerd accepts" in issue.message
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * 5000)
    with pytest.raises(InputLimitError, match="5003 bytes"):
        read_text_file(big, small)


def test_a_config_file_that_is_not_utf8_names_the_file_and_byte_offset(tmp_path):
    data, offset = hostile.not_utf8_config()
    path = tmp_path / "router.yaml"
    path.write_bytes(data)
    result = load_file(path)
    [issue] = result.errors
    assert issue.file == str(path) and issue.line == 3
    assert f"byte 0xe9 at byte offset {offset} (line 3, column 6)" in issue.message
    assert "save it as UTF-8" in issue.render()


def test_a_utf16_file_gets_a_conversion_hint():
    with pytest.raises(NotUtf8Error, match="UTF-16: convert it"):
        decode_utf8("apiVersion: x\n".encode("utf-16"))


@pytest.mark.parametrize(
    ("value", "kind", "why"),
    [
        ("2026-02-30", "timestamp", "day is out of range"),
        ("1" * 5000, "int", "Exceeds the limit (4300 digits)"),
        ("!!timestamp soon", "timestamp", ""),
        ("!!int 0x", "int", "invalid literal"),
    ],
)
def test_a_scalar_the_constructor_cannot_convert_is_an_error_with_its_line(value, kind, why):
    _, _, [issue] = parse_yaml(f"a: 1\nb: {value}\n")
    assert issue.line == 2
    assert f"cannot be read as {kind} ({why}" in issue.message and "quote it" in issue.message
    assert "set_int_max_str_digits" not in issue.message


def test_a_control_character_is_an_error_with_its_line():
    _, _, [issue] = parse_yaml("a: 1\nb: x\x00y\n")
    assert issue.line == 2 and "#x0000" in issue.message


def test_plugin_stdout_is_bounded_like_a_config():
    with pytest.raises(ResultDecodeError, match="nests deeper"):
        decode_result(hostile.deep_json().encode())
    with pytest.raises(ResultDecodeError, match="nesting is deeper than 64"):
        decode_result(json.dumps({"a": json.loads(hostile.deep_json(100))}).encode())
    with pytest.raises(ResultDecodeError, match="aliases expand"):
        decode_result(hostile.alias_bomb().encode())


def test_check_tree_walks_json_without_recursion():
    check_tree(json.loads(hostile.deep_json(60)))
    with pytest.raises(InputLimitError):
        check_tree(json.loads(hostile.deep_json(900)))


BOMB_UNDER_RLIMIT = textwrap.dedent(
    """
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    from routerd.core.loader import load_text
    from routerd.core.plugins.protocol import ResultDecodeError, decode_result
    from tests.support import hostile
    result = load_text(hostile.alias_bomb(levels=12), "bomb.yaml")
    print(result.errors[0].render())
    try:
        decode_result(hostile.alias_bomb(levels=12).encode())
    except ResultDecodeError as e:
        print(e)
    """
)


def test_a_bomb_fails_fast_under_a_memory_limit_with_a_clear_error():
    """9**12 nodes would need terabytes; 1 GiB of address space is plenty to refuse it."""
    limit = 1024 * 1024 * 1024
    code = BOMB_UNDER_RLIMIT.replace("(LIMIT, LIMIT)", f"({limit}, {limit})")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first.startswith("bomb.yaml: Router: aliases expand this document")
    assert "aliases expand this document" in second


def test_routerd_validate_reports_a_latin1_file_and_a_bomb_without_a_traceback(tmp_path, capsys):
    from routerd.cli import routerd_main

    data, offset = hostile.not_utf8_config()
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(data)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(hostile.alias_bomb())
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        for path, expected in ((latin1, f"byte offset {offset}"), (bomb, "aliases expand")):
            assert routerd_main.main(["validate", "-c", str(path)]) == 2
            out = capsys.readouterr().out
            assert f"error: {path}" in out and expected in out and "Traceback" not in out
    finally:  # main() installs its own log handler on a stream that ends with this test
        root.handlers[:] = saved
        root.setLevel(level)
