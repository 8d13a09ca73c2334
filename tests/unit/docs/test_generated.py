"""The generated docs are exactly what tools/gendocs makes from the code today.

Regenerates everything into a temp dir through the script's own entry point and compares it
with the committed files, so a CLI flag, proto comment, reason code, provider command or
example value changed without running tools/gendocs fails here.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from tests.unit.docs.conftest import ROOT


def test_committed_docs_match_the_generator(gendocs: ModuleType, tmp_path: Path) -> None:
    assert gendocs.main([str(tmp_path)]) == 0
    fresh = {str(p.relative_to(tmp_path)): p.read_text() for p in tmp_path.rglob("*.md")}
    assert {"docs/reference/cli.md", "docs/reference/grpc.md"} <= set(fresh)
    stale = [rel for rel, text in sorted(fresh.items()) if (ROOT / rel).read_text() != text]
    assert not stale, f"stale generated docs {stale}: run tools/gendocs and commit them"


def test_the_cli_reference_covers_every_command(gendocs: ModuleType) -> None:
    text = (ROOT / gendocs.CLI_DOC).read_text()
    for heading in ("### routerd serve", "### routerctl doctor", "#### routerctl dynamic put"):
        assert f"\n{heading}\n" in text
    assert "`--cleanup-on-exit`" in text and "`--probe`" in text


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
