"""Durations, WireGuard keys and key files."""

from __future__ import annotations

import os
import stat

import pytest

from routerd.core.duration import format_duration, parse_duration
from routerd.core.wgkey import public_key
from routerd.keys import ensure_private_key


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10),
        ("4m30s", 270),
        ("1h", 3600),
        ("250ms", 0.25),
        ("1.5h", 5400),
        ("0s", 0),
    ],
)
def test_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "10", "10 s", "1d", "-5s", "s"])
def test_bad_durations(bad):
    with pytest.raises(ValueError, match="Go syntax"):
        parse_duration(bad)


def test_format_duration():
    assert [format_duration(x) for x in (270, 3600, 0.25, 0)] == ["4m30s", "1h", "250ms", "0s"]
    # under half a millisecond: microseconds, not "0ms", and the value reads back
    assert [format_duration(x) for x in (0.000262, 1e-7)] == ["262µs", "1µs"]
    assert parse_duration(format_duration(0.000262)) == pytest.approx(0.000262)


def test_x25519_rfc7748_vector():
    # RFC 7748 §6.1 (Alice): private a546e36b..., public 8520f009...
    import base64

    priv = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    pub = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    assert public_key(base64.b64encode(priv).decode()) == base64.b64encode(pub).decode()


def test_key_file_generated_0600_in_0700_dir_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "wg0.key"
    pub, created = ensure_private_key(path)
    assert created and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    content = path.read_bytes()
    pub2, created2 = ensure_private_key(path)
    assert (pub2, created2) == (pub, False) and path.read_bytes() == content
