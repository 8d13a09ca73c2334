"""The registry hooks of the Linux backend (nothing here touches the kernel)."""

from __future__ import annotations

from pathlib import Path

from routerd.backends.linux import factory
from routerd.backends.linux.routes import PROTO_NAME_LINE, ROUTERD_PROTO
from routerd.daemon import registry


def test_registry_points_at_the_factory():
    assert registry.module("linux") is factory
    ok, why = factory.available()
    assert isinstance(ok, bool) and (ok or why)


def test_protocol_name_written_once_and_only_into_an_existing_directory(tmp_path: Path):
    assert f"{ROUTERD_PROTO}\trouterd\n" == PROTO_NAME_LINE
    assert not factory.register_protocol_name(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    assert factory.register_protocol_name(tmp_path)
    conf = tmp_path / "routerd.conf"
    assert conf.read_text() == PROTO_NAME_LINE
    conf.write_text("196\told\n")
    assert factory.register_protocol_name(tmp_path)
    assert conf.read_text() == PROTO_NAME_LINE
