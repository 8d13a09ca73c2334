"""Fixtures for provider tests: fake metadata servers, fixture files, fake DMI roots.

Also two autouse guards for this tree: no subprocess (providers never execute anything;
action plans are display-only) and no connection to anything but loopback (no real cloud
call, ever: a reader whose base_url default leaks into a test fails here, loudly).
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.providers.fake_imds import FakeMetadataServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


@pytest.fixture(autouse=True)
def _no_subprocess_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name: _no_subprocess_no_network / Scope: function / Depends: monkeypatch.

    Fails any subprocess start and any TCP connection to a non-loopback host.
    """

    def no_subprocess(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"providers must not start processes: {args!r}")

    real_connect = socket.create_connection

    def loopback_only(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"real network access attempted: {address!r}")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    monkeypatch.setattr(socket, "create_connection", loopback_only)


def load_fixture(provider: str, name: str) -> dict[str, Any]:
    """A fixture file's path -> body map."""
    doc: dict[str, Any] = json.loads((FIXTURES / provider / name).read_text())
    return doc


@pytest.fixture
def fake_imds() -> Iterator[Callable[..., FakeMetadataServer]]:
    """Name: fake_imds / Scope: function / Depends: none.

    Factory ``fake_imds(provider, responses, **options) -> FakeMetadataServer`` on
    127.0.0.1:<ephemeral>; every server is shut down at teardown.
    """
    servers: list[FakeMetadataServer] = []

    def make(provider: str, responses: dict[str, Any], **options: Any) -> FakeMetadataServer:
        srv = FakeMetadataServer(provider, responses, **options)
        servers.append(srv)
        return srv

    yield make
    for srv in reversed(servers):
        srv.close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """Name: silent_url / Scope: function / Depends: none.

    URL of a socket that accepts connections (kernel backlog) but never answers: the
    shape of a metadata endpoint that hangs.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def refused_url() -> str:
    """Name: refused_url / Scope: function / Depends: none.

    URL of a loopback port nothing listens on (connection refused).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def dmi_root(tmp_path: Path) -> Callable[..., str]:
    """Name: dmi_root / Scope: function / Depends: tmp_path.

    ``dmi_root(sys_vendor="Amazon EC2", ...) -> root`` writes a fake
    ``sys/class/dmi/id`` tree and returns the root to pass as ``root=``.
    """

    def make(**fields: str) -> str:
        d = tmp_path / "sys" / "class" / "dmi" / "id"
        d.mkdir(parents=True, exist_ok=True)
        for name, value in fields.items():
            (d / name).write_text(value + "\n")
        return str(tmp_path)

    return make


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def example_text(provider: str, replace: dict[str, str] | None = None) -> str:
    """``examples/<provider>/cloud.yaml``, with literal substitutions applied (each must hit)."""
    text = (EXAMPLES / provider / "cloud.yaml").read_text()
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} not in examples/{provider}/cloud.yaml"
        text = text.replace(old, new)
    return text


from tests.unit.providers.exec_worlds import world, world_factory  # noqa: E402, F401
