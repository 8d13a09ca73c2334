"""Key files behind the engine's key source: created once, never overwritten, re-read on change;
an engine given no key source says so instead of running without public keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routerd.core.engine import Engine, EngineSettings
from routerd.core.wgkey import public_key
from routerd.keys import KeyFiles, generate_private_key, read_private_key
from tests.support import configs
from tests.unit.core.fakehost import FakeHost


def test_a_missing_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = str(tmp_path / "keys" / "wg0.key")
    keys = KeyFiles()
    first = keys.public_key(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "keys").st_mode & 0o777 == 0o700
    assert first == public_key(read_private_key(path))
    assert KeyFiles().public_key(path) == first  # a new source reads, never regenerates


def test_a_replaced_key_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "wg0.key"
    keys = KeyFiles()
    old = keys.public_key(str(path))
    new_key = generate_private_key()
    path.write_text(new_key + "\n")
    os.utime(path, (1, 1))  # a different mtime even on a coarse-clock filesystem
    assert keys.public_key(str(path)) == public_key(new_key) != old


def test_a_file_without_a_valid_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wg0.key"
    path.write_text("not a key\n")
    with pytest.raises(ValueError):
        KeyFiles().public_key(str(path))


def test_an_engine_without_a_key_source_names_the_interface(tmp_path: Path) -> None:
    cfg = configs.single("azure", "onprem", tmp_path)
    settings = EngineSettings(key_dir=str(tmp_path / "keys"))
    engine = Engine(FakeHost(), cfg, settings=settings)
    with pytest.raises(RuntimeError, match=r"WireGuardInterface/\S+: this engine has no key"):
        engine.run_pass()
