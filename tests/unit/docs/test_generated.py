"""The generated docs are exactly what tools/gendocs makes from the code today.

Regenerates everything into a temp dir through the script's own entry point and compares it
with the committed files, so a CLI flag, proto comment, reason code, provider command or
example value changed without running tools/gendocs fails here.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from routerd.cli import routerctl_main, routerd_main
from tests.unit.docs.conftest import ROOT


def test_committed_docs_match_the_generator(gendocs: ModuleType, tmp_path: Path) -> None:
    assert gendocs.main([str(tmp_path)]) == 0
    fresh = {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*.md")}
    assert {"docs/reference/cli.md", "docs/reference/grpc.md"} <= set(fresh)
    stale = [rel for rel, text in sorted(fresh.items()) if (ROOT / rel).read_text() != text]
    assert not stale, f"stale generated docs {stale}: run tools/gendocs and commit them"


def walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from walk(child)


def test_the_cli_reference_covers_every_command_and_flag(gendocs: ModuleType) -> None:
    text = (ROOT / gendocs.CLI_DOC).read_text()
    for build in (routerd_main.build_parser, routerctl_main.build_parser):
        for parser in walk(build()):
            section = text.split(f"# {parser.prog}\n", 1)[1].split("\n#", 1)[0]
            for action in parser._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                for flag in action.option_strings:
                    assert f"`{flag}" in section or f", {flag}" in section, (parser.prog, flag)
                if action.help and action.help != argparse.SUPPRESS and "%" not in action.help:
                    assert " ".join(action.help.split()) in section, (parser.prog, action.help)


def test_the_grpc_reference_covers_every_service(gendocs: ModuleType) -> None:
    text = (ROOT / gendocs.GRPC_DOC).read_text()
    for proto in sorted((ROOT / "proto" / "routerd" / "v1").glob("*.proto")):
        for line in proto.read_text().splitlines():
            if line.startswith(("service ", "message ")):
                assert f"\n### {line.split()[1]}\n" in text, line
    assert "stream [ClaimEvent](#claimevent)" in text
    assert "`map<string, int32>`" in text


def test_generated_blocks_are_only_rewritten_inside_their_markers(gendocs: ModuleType) -> None:
    page = "intro\n<!-- gendocs:reasons -->\nold\n<!-- /gendocs -->\nafter\n"
    out = gendocs.fill_blocks(page, "x.md")
    assert out.startswith("intro\n<!-- gendocs:reasons -->\n| Code |")
    assert out.endswith("<!-- /gendocs -->\nafter\n")
    assert "old" not in out
