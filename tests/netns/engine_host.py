"""Functions that run *inside* a NetnsWorker child: a real Engine on a LinuxBackend.

``start`` builds what ``routerd serve`` builds (store, Linux backend, engine) plus, when
asked, a fake instance-metadata service on the namespace's loopback, which the engine's
``MetadataEvidence`` reads through ``ROUTERD_IMDS_URL`` exactly as on a cloud VM. Tests get
claim views back as plain tuples.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from routerd.backends.linux.backend import LinuxBackend
from routerd.core.engine import Engine, EngineSettings
from routerd.core.loader import load_text
from routerd.keys import KeyFiles
from routerd.providers.evidence import IMDS_ENV, MetadataEvidence
from routerd.state.store import Store
from tests.support.netns import STATE
from tests.unit.providers.conftest import load_fixture
from tests.unit.providers.fake_imds import FakeMetadataServer


def start(
    config_text: str, state_dir: str, log_path: str, *, imds: tuple[str, str] | None = None
) -> None:
    """Start the engine; ``imds=(provider, fixture)`` serves that metadata document."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger().setLevel(logging.INFO)
    env: dict[str, str] = {}
    if imds is not None:
        server = FakeMetadataServer(imds[0], load_fixture(*imds))
        STATE["imds"] = server
        env[IMDS_ENV] = server.url
    loaded = load_text(config_text)
    assert loaded.config is not None, [e.render() for e in loaded.errors]
    store = Store.open(Path(state_dir))
    backend = LinuxBackend(store, state_dir=Path(state_dir))
    engine = Engine(
        backend,
        loaded.config,
        store=store,
        keys=KeyFiles(),
        settings=EngineSettings(key_dir=str(Path(state_dir) / "keys")),
        provider=MetadataEvidence(env=env, interval=0.2, dmi_root=state_dir),
    )
    STATE.update(engine=engine, store=store)


def serve_metadata(provider: str, fixture: str) -> None:
    """What the fake metadata service answers from now on (the provider step, done or undone)."""
    server: FakeMetadataServer = STATE["imds"]
    server.responses = dict(load_fixture(provider, fixture))


def claim_after(name: str, want: str, timeout: float = 20.0) -> tuple[str, str, str]:
    """Run passes until claim ``name`` is in state ``want`` (or time is up); its view."""
    engine: Engine = STATE["engine"]
    deadline = time.monotonic() + timeout
    while True:
        engine.run_pass()
        view = engine.snapshot.claims[name]
        if view.state == want or time.monotonic() >= deadline:
            return view.state, view.reason, view.message
        time.sleep(0.1)


def stop() -> None:
    engine: Engine = STATE.pop("engine")
    engine.close(cleanup=True)
    STATE.pop("store").close()
    server: Any = STATE.pop("imds", None)
    if server is not None:
        server.close()


def stop_metadata() -> None:
    """The metadata service goes away (nothing listens on its port any more)."""
    STATE.pop("imds").close()
