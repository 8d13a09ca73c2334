"""The committed routerd/v1 code is exactly what tools/genproto makes from proto/routerd/v1.

Regenerates in-process (grpc_tools.protoc.main, the same compiler tools/genproto runs) into a
temp dir and compares every file, so a proto edit without regenerating fails here.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[3]
PROTOS = sorted((ROOT / "proto" / "routerd" / "v1").glob("*.proto"))
COMMITTED = ROOT / "routerd" / "v1"


def generated_files(out: Path) -> dict[str, str]:
    include = str(importlib.resources.files("grpc_tools") / "_proto")
    args = [
        "protoc",
        f"-I{ROOT / 'proto'}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--pyi_out={out}",
        *[str(p) for p in PROTOS],
    ]
    assert protoc.main(args) == 0
    return {p.name: p.read_text() for p in sorted((out / "routerd" / "v1").iterdir())}


def test_committed_code_matches_the_protos(tmp_path):
    fresh = generated_files(tmp_path)
    committed = {
        p.name: p.read_text()
        for p in sorted(COMMITTED.iterdir())
        if p.name != "__init__.py" and p.is_file()
    }
    assert sorted(fresh) == sorted(committed), "run tools/genproto and commit routerd/v1"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated files {stale}: run tools/genproto"


def test_every_proto_is_routerd_v1_and_states_the_additive_rule():
    assert PROTOS
    for p in PROTOS:
        text = p.read_text()
        assert "package routerd.v1;" in text, p.name
        assert "additive only" in text, f"{p.name}: header must state the v1 compatibility rule"
