"""``routerctl describe`` shows what the daemon really does.

A WireGuard interface names the key file the daemon really uses.
The sim backend keeps every private key in the state directory (a simulated router must not
write into the host's /etc), whatever ``privateKeyFile`` says; the linux backend uses
``privateKeyFile``. Whichever applies, the path shown must be a file that exists and holds
the key whose public half is shown beside it.

A claim whose capture needs a provider step shows the exact provider commands with their
undo (routerd never runs them); a proxy-ARP claim shows none.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routerd.cli import provider_actions
from routerd.core import wgkey
from routerd.keys import read_private_key
from tests.integration.api.harness import make_daemon, serve
from tests.support.configs import example_text, with_keys

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
    assert wgkey.public_key(read_private_key(path)) == shown(r.out, "Public key")
    configured = tmp_path / "keys" / "wg-sam.key"  # privateKeyFile in the config
    if backend == "sim":
        assert path == tmp_path / "state" / "keys" / "wg-sam.key"
        assert not configured.exists()
    else:
        assert path == configured


def test_describe_claim_prints_the_provider_commands_and_their_undo(tmp_path, sockdir, monkeypatch):
    text = with_keys(example_text("aws", "cloud"), tmp_path / "keys")
    daemon, host = make_daemon(
        tmp_path, str(sockdir / "r.sock"), monkeypatch, text=text, backend="sim"
    )
    served = serve(daemon, host, tmp_path)
    try:
        r = served.ctl("describe", "claim", "onprem-vm-31")
        assert r.code == 0, r.err
    finally:
        served.close()
    [want] = provider_actions.for_config(daemon.engine.snapshot.effective.config)
    assert len(want.plans) == 2
    section = r.out[r.out.index(provider_actions.HEADING) :].splitlines()
    assert section == provider_actions.render([want])
    assert sum(line.startswith("    undo: aws ec2 ") for line in section) == 2


def test_describe_of_a_proxy_arp_claim_has_no_provider_section(tmp_path, sockdir, monkeypatch):
    daemon, host = make_daemon(tmp_path, str(sockdir / "r.sock"), monkeypatch, backend="sim")
    served = serve(daemon, host, tmp_path)
    try:
        r = served.ctl("describe", "claim", "cloud-vm-21")
        assert r.code == 0, r.err
    finally:
        served.close()
    assert "Capture:         proxy-arp" in r.out
    assert "Provider actions" not in r.out
