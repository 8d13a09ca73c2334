"""WireGuard handshake age per peer and allowed-IPs coverage per claim."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from routerd.core.doctor import DoctorContext, Status
from routerd.core.resources import OverlayPeer
from routerd.doctor import wireguard
from routerd.doctor.inputs import resolve
from routerd.doctor.wireguard import AllowedIndex
from tests.unit.doctor.intents import with_facts
from tests.unit.doctor.kit import Scene, config_of, one, sample

Recorded = Callable[[str], Scene]
CHECK = "OverlayPeer/cloud WireGuard handshake"


def test_recent_handshake_passes_and_shows_the_age(recorded: Recorded) -> None:
    f = one(recorded("healthy").doctor(), CHECK)
    assert f.status is Status.PASS and "s ago" in f.detail


def test_handshake_older_than_180s_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.at(s.host.clock() + 400)
    f = one(s.doctor(), CHECK)
    assert f.status is Status.WARN and "stale" in f.detail


def test_never_shaken_peer_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    never = sample("peer ")
    stranger = never["what"].split()[1]
    s.adopt(never)
    text = s.rec["topology"]["config"]
    real_key = text.split("publicKey: ")[1].split()[0]
    cfg = config_of(text.replace(real_key, stranger))
    f = one(s.doctor(startup=cfg), CHECK)
    assert f.status is Status.WARN and "no handshake" in f.detail


def test_peer_not_on_the_device_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    text = s.rec["topology"]["config"]
    real_key = text.split("publicKey: ")[1].split()[0]
    other = "T05QUkVNLVJPVVRFUi1QVUJMSUMtS0VZLVJFUExBQ0U="
    f = one(s.doctor(startup=config_of(text.replace(real_key, other))), CHECK)
    assert f.status is Status.WARN and "not configured" in f.detail


def test_no_wireguard_underlay_skips(recorded: Recorded) -> None:
    s = recorded("healthy")
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    peer = inputs.config.get(OverlayPeer, "cloud")
    assert peer is not None
    route_peer = peer.model_copy(
        update={
            "spec": peer.spec.model_copy(
                update={"underlay": peer.spec.underlay.model_copy(update={"type": "route"})}
            )
        }
    )
    assert wireguard.handshake(inputs, route_peer).status is Status.SKIP


def test_unprivileged_wg_skips(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.adopt(sample("permission denied", "wg"))
    f = one(s.doctor(), CHECK)
    assert f.status is Status.SKIP and "permission denied" in f.detail


def test_claim_address_covered_by_the_delivering_peer_passes(recorded: Recorded) -> None:
    f = one(recorded("healthy").doctor(), "vm31 peer allowed IPs")
    assert f.status is Status.PASS and "10.40.8.31/32 within 10.40.8.31/32" in f.detail


def test_uncovered_address_fails(recorded: Recorded) -> None:
    s = recorded("healthy")
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    other = replace(inputs.intents["vm31"], address="10.40.8.77/32", ip="10.40.8.77")
    f = wireguard.coverage(inputs, other)
    assert f.status is Status.FAIL and "not in the allowed IPs" in f.detail


def test_missing_wireguard_device_fails_coverage(recorded: Recorded) -> None:
    s = recorded("healthy")
    missing = sample("no such WireGuard device")
    s.host.with_command(missing)
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    intent = with_facts(inputs.intents["vm31"], tunnel=missing["argv"][2])
    f = wireguard.coverage(inputs, intent)
    assert f.status is Status.FAIL and "not a WireGuard interface" in f.detail


def test_the_private_key_dump_is_never_requested(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.doctor("hybrid", probe=True)
    assert s.host.calls and not [c for c in s.host.calls if c[:2] == ("wg", "show") and "dump" in c]


def test_coverage_index_gives_each_peers_first_covering_cidr() -> None:
    index = AllowedIndex(
        {
            "A": "10.40.8.0/24 10.40.8.31/32 fd00::/64",
            "B": "(none)",
            "C": "0.0.0.0/0",
            "D": "10.40.9.0/24",
        }
    )
    assert index.holders("10.40.8.31") == {"A": "10.40.8.0/24", "C": "0.0.0.0/0"}
    assert index.holders("192.0.2.9") == {"C": "0.0.0.0/0"}
    many = AllowedIndex({"P": " ".join(f"10.16.{i // 256}.{i % 256}/32" for i in range(10_000))})
    assert many.holders("10.16.39.15") == {"P": "10.16.39.15/32"}
    assert many.holders("10.16.39.16") == {}
