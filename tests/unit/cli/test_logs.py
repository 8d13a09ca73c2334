"""Logging: transition fields in JSON and text, key redaction, throttled repeats."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.cli.logs import REDACTED, RepeatThrottle, redact, setup_logging
from routerd.core.desired import WireGuardDevice
from routerd.core.engine import Engine, EngineSettings
from routerd.core.lifecycle import TransitionRecord
from routerd.core.port import Change, ChangeResult
from routerd.keys import KeyFiles, generate_private_key, read_private_key
from tests.support import configs
from tests.unit.core.fakehost import FakeHost
from tests.unit.daemon import harness

KEY = generate_private_key()
KEY_HEX = base64.b64decode(KEY).hex()
LEAK = logging.getLogger("tests.leaky")


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger's handlers and level back after ``setup_logging``.

    Name: root_logging. Scope: function. Depends: nothing.
    """
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    for h in root.handlers:
        if h not in saved:
            h.close()
    root.handlers[:] = saved
    root.setLevel(level)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(f"privateKey: {KEY}", id="yaml"),
        pytest.param(f"[Interface]\nPrivateKey = {KEY}\nListenPort = 51820", id="wg-quick"),
        pytest.param(json.dumps({"private_key": KEY}), id="json"),
        pytest.param(repr({"private_key": KEY, "port": 1}), id="python-repr"),
        pytest.param(f"set=1\nprivate_key={KEY_HEX}\nlisten_port=51820", id="uapi-hex"),
        pytest.param(f"preshared_key={KEY_HEX}", id="uapi-psk"),
        pytest.param(f"PresharedKey = {KEY}", id="wg-quick-psk"),
    ],
)
def test_redact_masks_labelled_keys(line):
    masked = redact(line)
    assert KEY not in masked and KEY_HEX not in masked
    assert REDACTED in masked


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(f"public_key={KEY}", id="public-key"),
        pytest.param("privateKeyFile: /etc/routerd/keys/wg-sam.key", id="key-file-path"),
        pytest.param("claim transition claim=cloud-vm-21 from=pending to=captured", id="plain"),
    ],
)
def test_redact_leaves_non_secrets_alone(line):
    assert redact(line) == line


def _engine(tmp_path: Path, host: FakeHost) -> tuple[Engine, list[TransitionRecord]]:
    cfg = configs.single("azure", "onprem", tmp_path)
    eng = Engine(
        host, cfg, keys=KeyFiles(), settings=EngineSettings(key_dir=str(tmp_path / "keys"))
    )
    seen: list[TransitionRecord] = []
    eng.listeners.append(lambda _snap, records: seen.extend(records))
    return eng, seen


def test_json_lines_carry_each_transition_as_fields(tmp_path, root_logging):
    out = io.StringIO()
    setup_logging("info", "json", stream=out)
    eng, seen = _engine(tmp_path, FakeHost())
    eng.run_pass()
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    logged = [
        (d["claim"], d["address"], d["from"], d["to"], d["reason"])
        for d in docs
        if d["msg"].startswith("claim transition")
    ]
    assert seen, "the pass walked the claim"
    assert logged == [(r.claim, r.address, r.from_state, r.to_state, r.reason or "-") for r in seen]
    assert {d["level"] for d in docs if d["msg"].startswith("claim transition")} == {"info"}


def test_text_lines_show_each_transition_once_as_key_value(tmp_path, root_logging):
    out = io.StringIO()
    setup_logging("info", "text", stream=out)
    eng, seen = _engine(tmp_path, FakeHost())
    eng.run_pass()
    lines = [line for line in out.getvalue().splitlines() if "claim transition" in line]
    assert len(lines) == len(seen)
    for line, r in zip(lines, seen, strict=True):
        assert "level=INFO" in line
        for key, value in (("claim", r.claim), ("from", r.from_state), ("to", r.to_state)):
            assert line.count(f" {key}=") == 1, line
            assert f" {key}={value}" in line


def test_kv_fields_with_spaces_are_quoted_in_text(root_logging):
    out = io.StringIO()
    setup_logging("info", "text", stream=out)
    logging.getLogger("t").info("plugin finished", extra={"kv_plugin": "inv", "kv_error": "a b"})
    assert out.getvalue().rstrip().endswith('plugin finished plugin=inv error="a b"')


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _throttled(window: float = 30.0) -> tuple[logging.Logger, list[str], Clock]:
    clock = Clock()
    lines: list[str] = []
    logger = logging.getLogger(f"tests.throttle.{id(clock)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    handler.addFilter(RepeatThrottle(window, handler.handle, clock=clock))
    logger.addHandler(handler)
    return logger, lines, clock


def test_repeated_identical_warnings_are_logged_once_then_summarised():
    log, lines, clock = _throttled(window=30.0)
    for _ in range(5):
        log.warning("apply failed change=%s error=%s", "route 10.40.8.21/32", "EPERM")
        clock.now += 1
    log.warning("apply failed change=%s error=%s", "route 10.40.8.22/32", "EPERM")
    assert lines == [
        "apply failed change=route 10.40.8.21/32 error=EPERM",
        "apply failed change=route 10.40.8.22/32 error=EPERM",
    ]
    clock.now += 30
    log.warning("apply failed change=%s error=%s", "route 10.40.8.21/32", "EPERM")
    assert lines[2:] == [
        "apply failed change=route 10.40.8.21/32 error=EPERM repeated=4 window=30s",
        "apply failed change=route 10.40.8.21/32 error=EPERM",
    ]


def test_info_lines_are_never_throttled():
    log, lines, _clock = _throttled()
    for _ in range(3):
        log.info("claim transition claim=a from=verified to=degraded")
    assert len(lines) == 3


def test_pending_repeats_are_summarised_when_logging_shuts_down(root_logging):
    out = io.StringIO()
    handler = setup_logging("info", "json", stream=out)
    for _ in range(3):
        logging.getLogger("tests.flush").warning("plugin failed plugin=inv exit=1")
    handler.close()
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d.get("repeated") for d in docs] == [None, 2]


class LeakyHost(FakeHost):
    """A backend double that dumps its WireGuard configuration into the log, as a careless
    backend might: the UAPI request (hex key), a wg-quick file (base64 key) and an error."""

    def apply(self, changes: list[Change]) -> list[ChangeResult]:
        for c in changes:
            if isinstance(c.new, WireGuardDevice) and c.new.private_key_file:
                key = read_private_key(c.new.private_key_file)
                hex_key = base64.b64decode(key).hex()
                LEAK.debug("uapi set request:\nset=1\nprivate_key=%s\nlisten_port=51820", hex_key)
                LEAK.warning("fallback config:\n[Interface]\nPrivateKey = %s", key)
                LEAK.error("wg setconf failed", exc_info=ValueError(f"bad private_key={hex_key}"))
        return super().apply(changes)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_daemon_pass_logs_no_key_material(tmp_path, monkeypatch, root_logging, fmt):
    out = io.StringIO()
    setup_logging("debug", fmt, stream=out)
    rig = harness.build(tmp_path, monkeypatch, host=LeakyHost())
    rig.daemon.engine.run_pass()  # generates the key file, then applies the device
    inline = rig.config_path.read_text().replace(
        "listenPort: 51820", f"listenPort: 51820\n        privateKey: {KEY}"
    )
    rig.config_path.write_text(inline)
    assert rig.daemon.reload() is False
    rig.daemon.engine.close()

    key = read_private_key(rig.key_file)
    text = out.getvalue()
    assert text.count(REDACTED) >= 3, "the leaky lines were logged, masked"
    for secret in (key, base64.b64decode(key).hex(), KEY, KEY_HEX):
        assert secret not in text
