"""WireGuard configuration as data: UAPI deltas, parsing, full configs (no device needed)."""

from __future__ import annotations

from routerd.backends.linux import wireguard as wg
from routerd.core.desired import WgPeer, WireGuardDevice
from routerd.core.wgkey import public_key
from routerd.keys import generate_private_key

PRIV = generate_private_key()
PUB = public_key(PRIV)
A = public_key(generate_private_key())
B = public_key(generate_private_key())


def device(*peers: WgPeer, port: int = 51820) -> WireGuardDevice:
    return WireGuardDevice("wg-sam", public_key=PUB, listen_port=port, peers=peers)


def test_fresh_device_gets_everything():
    want = device(WgPeer(A, frozenset({"10.0.0.1/32"}), "192.0.2.1:51820", 25))
    lines = wg.uapi_set_lines(want, None, private_hex="ab" * 32)
    assert lines == [
        "set=1",
        "private_key=" + "ab" * 32,
        "listen_port=51820",
        "fwmark=0",
        f"public_key={wg.b64_to_hex(A)}",
        "replace_allowed_ips=true",
        "allowed_ip=10.0.0.1/32",
        "endpoint=192.0.2.1:51820",
        "persistent_keepalive_interval=25",
    ]


def test_nothing_to_send_when_equal():
    want = device(WgPeer(A, frozenset({"10.0.0.1/32"})))
    assert wg.uapi_set_lines(want, want) == []


def test_new_allowed_ip_is_appended_and_a_lost_one_replaces():
    have = device(WgPeer(A, frozenset({"10.0.0.1/32"})), WgPeer(B, frozenset({"10.9.0.1/32"})))
    grown = device(
        WgPeer(A, frozenset({"10.0.0.1/32", "10.0.0.2/32"})), WgPeer(B, frozenset({"10.9.0.1/32"}))
    )
    assert wg.uapi_set_lines(grown, have) == [
        "set=1",
        f"public_key={wg.b64_to_hex(A)}",
        "allowed_ip=10.0.0.2/32",
    ]
    assert wg.uapi_set_lines(have, grown) == [
        "set=1",
        f"public_key={wg.b64_to_hex(A)}",
        "replace_allowed_ips=true",
        "allowed_ip=10.0.0.1/32",
    ]


def test_undesired_peer_is_removed():
    have = device(WgPeer(A, frozenset({"10.0.0.1/32"})), WgPeer(B))
    want = device(WgPeer(A, frozenset({"10.0.0.1/32"})))
    assert wg.uapi_set_lines(want, have) == [
        "set=1",
        f"public_key={wg.b64_to_hex(B)}",
        "remove=true",
    ]


def test_uapi_get_parsed_with_public_key_derived_and_handshake_age():
    text = "\n".join(
        [
            f"private_key={wg.b64_to_hex(PRIV)}",
            "listen_port=51820",
            f"public_key={wg.b64_to_hex(A)}",
            "preshared_key=" + "00" * 32,
            "endpoint=192.0.2.2:51820",
            "last_handshake_time_sec=1000",
            "last_handshake_time_nsec=0",
            "persistent_keepalive_interval=25",
            "allowed_ip=10.255.40.0/32",
            "allowed_ip=10.50.0.5/32",
            f"public_key={wg.b64_to_hex(B)}",
            "last_handshake_time_sec=0",
            "persistent_keepalive_interval=0",
            "errno=0",
        ]
    )
    state = wg.parse_uapi_get("wg-sam", text, mtu=1420, now=1030.0)
    assert (state.device.public_key, state.device.listen_port, state.device.mtu) == (
        PUB,
        51820,
        1420,
    )
    assert state.device.peers == tuple(
        sorted(
            [
                WgPeer(A, frozenset({"10.255.40.0/32", "10.50.0.5/32"}), "192.0.2.2:51820", 25),
                WgPeer(B),
            ],
            key=lambda p: p.public_key,
        )
    )
    assert state.handshakes == {A: 30.0}  # B never completed one


def test_wg_dump_parsed_without_touching_the_private_key():
    text = (
        f"(redacted)\t{PUB}\t51820\toff\n"
        f"{A}\t(none)\t192.0.2.2:51820\t10.255.40.0/32,10.50.0.5/32\t1000\t0\t0\t25\n"
    )
    state = wg.parse_wg_dump("wg-sam", text, now=1010.0)
    assert state.device.public_key == PUB and state.device.fwmark == 0
    assert state.device.peers == (
        WgPeer(A, frozenset({"10.255.40.0/32", "10.50.0.5/32"}), "192.0.2.2:51820", 25),
    )
    assert state.handshakes == {A: 10.0}


def test_full_config_for_wg_syncconf():
    want = device(WgPeer(A, frozenset({"10.0.0.2/32", "10.0.0.1/32"}), "192.0.2.1:51820", 25))
    text = wg.render_wg_config(want, PRIV, {A: "psk"})
    assert text.splitlines() == [
        "[Interface]",
        f"PrivateKey = {PRIV}",
        "ListenPort = 51820",
        "FwMark = off",
        "",
        "[Peer]",
        f"PublicKey = {A}",
        "PresharedKey = psk",
        "AllowedIPs = 10.0.0.1/32, 10.0.0.2/32",
        "Endpoint = 192.0.2.1:51820",
        "PersistentKeepalive = 25",
    ]
