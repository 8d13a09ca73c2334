"""Fixtures for plugin tests: shell-script plugins in tmp_path, a state store, pid cleanup.

Plugins here are real executables (small POSIX shell scripts), because what is under test is
how routerd runs a child: no shell, clean environment, deadline, process-group kill.
"""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.state.store import Store
from tests.unit.core.plugins.kit import ScriptFactory, process_gone


@pytest.fixture
def script(tmp_path: Path) -> ScriptFactory:
    """Write an executable ``#!/bin/sh`` plugin under tmp_path/plugins; returns its path.

    Name: script / Scope: function / Depends: tmp_path
    """

    def make(name: str, body: str) -> str:
        path = tmp_path / "plugins" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
        path.chmod(0o755)
        return str(path)

    return make


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh state store in tmp_path/state.

    Name: store / Scope: function / Depends: tmp_path
    """
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


@pytest.fixture
def reap_pids() -> Iterator[list[int]]:
    """Pids a test records; any still running at teardown are killed by pid, so none leak.

    Name: reap_pids / Scope: function / Depends: -
    """
    pids: list[int] = []
    yield pids
    for pid in pids:
        if process_gone(pid) is not None:
            os.kill(pid, signal.SIGKILL)
