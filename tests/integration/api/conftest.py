"""Fixtures for the API and routerctl integration tests (see ``harness``)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api.harness import Served, serving


@pytest.fixture
def sockdir() -> Iterator[Path]:
    """A short directory for Unix sockets (paths must stay under 108 bytes).

    Name: sockdir / Scope: function / Depends: nothing.
    """
    path = Path(tempfile.mkdtemp(prefix="rdapi-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def served(tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A running daemon (FakeHost backend) serving the API on ``sockdir/run/routerd.sock``.

    Name: served / Scope: function / Depends: tmp_path, sockdir, monkeypatch.
    """
    with serving(tmp_path, str(sockdir / "run" / "routerd.sock"), monkeypatch) as s:
        yield s
