"""Fixtures for doctor unit tests: recorded scenes and a no-subprocess guard.

The doctor's host probes must all go through ``Host``; in unit tests that host replays
recordings, so any real process start is a bug (style rule 18). Tests that exercise the
real command runner ask for the ``real_subprocess`` fixture.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.doctor.kit import Scene, scene


@pytest.fixture
def real_subprocess() -> None:
    """Name: real_subprocess / Scope: function / Depends: none. Allows real processes."""


@pytest.fixture(autouse=True)
def _no_subprocess(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Name: _no_subprocess / Scope: function / Depends: monkeypatch.

    Fails any process start unless the test requested ``real_subprocess``.
    """
    if "real_subprocess" in request.fixturenames:
        return

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"doctor unit tests must not start processes: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Callable[[str], Scene]]:
    """Name: recorded / Scope: function / Depends: tmp_path.

    ``recorded(name) -> Scene`` replays ``tests/fixtures/doctor/<name>.json``; at teardown
    every replayed host must have been asked only recorded commands.
    """
    made: list[Scene] = []

    def make(name: str) -> Scene:
        s = scene(name, tmp_path / f"sys-{len(made)}")
        made.append(s)
        return s

    yield make
    for s in made:
        assert not s.host.unexpected, f"doctor asked unrecorded commands: {s.host.unexpected}"
