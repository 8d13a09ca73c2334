"""``routerctl describe wireguardinterface`` names the key file the daemon really uses.

The sim backend keeps every private key in the state directory (a simulated router must not
write into the host's /etc), whatever ``privateKeyFile`` says; the linux backend uses
``privateKeyFile``. Whichever applies, the path shown must be a file that exists and holds
the key whose public half is shown beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routerd.core import wgkey
from tests.integration.api.harness import make_daemon, serve

pytestmark = pytest.mark.integration


def shown(out: str, label: str) -> str:
    match = re.search(rf"^{label}:\s+(.*)$", out, re.M)
    assert match, f"no {label!r} line in:\n{out}"
    return match.group(1)


@pytest.mark.parametrize("backend", ["sim", "fake"])
def test_the_key_path_shown_is_the_key_in_use(backend, tmp_path, sockdir, monkeypatch):
    daemon, host = make_daemon(tmp_path, str(sockdir / "r.sock"), monkeypatch, backend=backend)
    served = serve(daemon, host, tmp_path)
    try:
        r = served.ctl("describe", "wireguardinterface", "wg-sam")
        assert r.code == 0, r.err
    finally:
        served.close()
    path = Path(re.fullmatch(r"in (\S+) \(never shown\)", shown(r.out, "Private key")).group(1))
    assert path.is_file(), f"describe names {path}, which does not exist"
    assert wgkey.public_key(wgkey.read_private_key(path)) == shown(r.out, "Public key")
    configured = tmp_path / "keys" / "wg-sam.key"  # privateKeyFile in the config
    if backend == "sim":
        assert path == tmp_path / "state" / "keys" / "wg-sam.key"
        assert not configured.exists()
    else:
        assert path == configured
