"""The committed routerd/v1 code is what tools/genproto makes from proto/routerd/v1.

Three questions, kept apart so a failure says which one to act on:

* Did the protos change without regenerating? Asked by comparing descriptors: what protoc
  compiles from proto/ now against the descriptor each committed ``*_pb2.py`` carries. A
  descriptor does not depend on the generator's version, so this runs on any machine.
* Was routerd/v1 made by the generator the lock pins? The version stamps in the committed
  files against requirements/lock.txt (a lock bump without regenerating fails here).
* Is every committed file byte for byte what the locked generator makes (comments, stubs)?
  Regenerated in-process with the installed grpcio-tools. When that is not the locked version
  (a machine that did not run tools/bootstrap), the stamps are normalised first, and if the
  output still differs the byte comparison is skipped with the reason instead of reporting
  every file stale.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[3]
PROTOS = sorted((ROOT / "proto" / "routerd" / "v1").glob("*.proto"))
COMMITTED = ROOT / "routerd" / "v1"
LOCK = ROOT / "requirements" / "lock.txt"

# The generator's and protoc's version stamps in generated code.
GRPC_STAMP = re.compile(r"^GRPC_GENERATED_VERSION = '([^']+)'$", re.M)
PROTOBUF_STAMP = re.compile(r"^# Protobuf Python Version: (\S+)$", re.M)
PROTOBUF_CHECK = re.compile(
    r"(_runtime_version\.ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,)"
    r"\s*\d+,\s*\d+,\s*\d+,"
)


def locked_version(package: str) -> str:
    """The version requirements/lock.txt pins for ``package``."""
    match = re.search(rf"^{re.escape(package)}==([^\s;\\]+)", LOCK.read_text(), re.M)
    assert match, f"{LOCK} pins no {package}: run tools/lock"
    return match.group(1)


def installed_generator() -> str:
    return importlib.metadata.version("grpcio-tools")


def protoc_args(*outputs: str) -> list[str]:
    include = str(importlib.resources.files("grpc_tools") / "_proto")
    return ["protoc", f"-I{ROOT / 'proto'}", f"-I{include}", *outputs, *map(str, PROTOS)]


def generated_files(out: Path) -> dict[str, str]:
    outputs = (f"--python_out={out}", f"--grpc_python_out={out}", f"--pyi_out={out}")
    assert protoc.main(protoc_args(*outputs)) == 0
    return {p.name: p.read_text() for p in sorted((out / "routerd" / "v1").iterdir())}


def committed_files() -> dict[str, str]:
    return {
        p.name: p.read_text()
        for p in sorted(COMMITTED.iterdir())
        if p.name != "__init__.py" and p.is_file()
    }


def without_stamps(text: str) -> str:
    text = GRPC_STAMP.sub("GRPC_GENERATED_VERSION = '*'", text)
    text = PROTOBUF_STAMP.sub("# Protobuf Python Version: *", text)
    return PROTOBUF_CHECK.sub(r"\1 *, *, *,", text)


def without_json_names(file: descriptor_pb2.FileDescriptorProto) -> None:
    """Drop what protoc adds to a descriptor set but the Python generator leaves out."""

    def strip(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
        for message in messages:
            for field in [*message.field, *message.extension]:
                field.ClearField("json_name")
            strip(message.nested_type)

    strip(file.message_type)
    for field in file.extension:
        field.ClearField("json_name")


def test_the_protos_have_not_changed_since_routerd_v1_was_generated(tmp_path):
    out = tmp_path / "set.pb"
    assert protoc.main(protoc_args(f"--descriptor_set_out={out}")) == 0
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    # protoc lists a file's imports before it: compare the sets, not the order
    assert sorted(f.name for f in compiled.file) == [f"routerd/v1/{p.name}" for p in PROTOS]
    changed = []
    for fresh in compiled.file:
        without_json_names(fresh)
        stem = Path(fresh.name).stem
        module = importlib.import_module(f"routerd.v1.{stem}_pb2")
        committed = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        if committed != fresh:
            changed.append(fresh.name)
    names = ", ".join(f"proto/{name}" for name in changed)
    assert not changed, f"{names} changed since routerd/v1 was generated: run tools/genproto"


def test_routerd_v1_was_generated_by_the_locked_generator():
    want = locked_version("grpcio-tools")
    stamps = {
        name: m.group(1)
        for name, text in committed_files().items()
        if (m := GRPC_STAMP.search(text))
    }
    assert len(stamps) == len(PROTOS), "every *_pb2_grpc.py carries GRPC_GENERATED_VERSION"
    wrong = {name: v for name, v in stamps.items() if v != want}
    assert not wrong, (
        f"routerd/v1 was generated by grpcio-tools {wrong} but requirements/lock.txt pins {want}: "
        "run tools/bootstrap, then tools/genproto, and commit routerd/v1"
    )


def test_committed_code_matches_the_protos(tmp_path):
    fresh = generated_files(tmp_path)
    committed = committed_files()
    assert sorted(fresh) == sorted(committed), "run tools/genproto and commit routerd/v1"
    have, want = installed_generator(), locked_version("grpcio-tools")
    if have == want:
        stale = [name for name in fresh if fresh[name] != committed[name]]
        assert not stale, f"stale generated files {stale}: run tools/genproto"
        return
    stale = [n for n in fresh if without_stamps(fresh[n]) != without_stamps(committed[n])]
    if stale:
        pytest.skip(
            f"installed grpcio-tools {have} is not the locked {want} and its output differs "
            f"beyond the version stamps ({stale}); the byte comparison needs the locked "
            "generator (run tools/bootstrap). The descriptor comparison still ran."
        )


def test_the_normalised_comparison_sees_past_stamps_only():
    text = committed_files()[f"{PROTOS[0].stem}_pb2.py"]
    grpc_text = committed_files()[f"{PROTOS[0].stem}_pb2_grpc.py"]
    restamped = PROTOBUF_STAMP.sub("# Protobuf Python Version: 9.9.9", text)
    restamped = PROTOBUF_CHECK.sub(r"\1 9, 9, 9,", restamped)
    assert restamped != text
    assert without_stamps(restamped) == without_stamps(text)
    regrpc = GRPC_STAMP.sub("GRPC_GENERATED_VERSION = '9.9.9'", grpc_text)
    assert regrpc != grpc_text and without_stamps(regrpc) == without_stamps(grpc_text)
    assert without_stamps(text.replace("routerd.v1", "routerd.v2")) != without_stamps(text)


def test_genproto_refuses_a_generator_the_lock_does_not_pin(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 1.0.0\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    proc = subprocess.run(
        [ROOT / "tools" / "genproto", str(out)],
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "grpcio-tools '1.0.0'" in proc.stderr
    assert f"pins {locked_version('grpcio-tools')}" in proc.stderr
    assert "tools/bootstrap" in proc.stderr
    assert not out.exists()


def test_every_proto_is_routerd_v1_and_states_the_additive_rule():
    assert PROTOS
    for p in PROTOS:
        text = p.read_text()
        assert "package routerd.v1;" in text, p.name
        assert "additive only" in text, f"{p.name}: header must state the v1 compatibility rule"
