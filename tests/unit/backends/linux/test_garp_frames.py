"""The gratuitous-ARP frames ``send_many`` sends (built from a device's templates), against
``garp_frames`` (which builds each frame whole): any byte the templates got wrong would
announce a wrong address or MAC to the whole segment."""

from __future__ import annotations

import random
from typing import Any

import pytest

from routerd.backends.linux import garp


class FakePacketSocket:
    """An ``AF_PACKET`` socket bound to a device with ``mac``; records what is sent."""

    def __init__(self, mac: bytes, sent: list[bytes]) -> None:
        self.mac, self.sent = mac, sent

    def __enter__(self) -> FakePacketSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def bind(self, address: Any) -> None:
        return None

    def getsockname(self) -> tuple[str, int, int, int, bytes]:
        return ("eth0", garp.ETH_P_ARP, 0, 1, self.mac)

    def send(self, frame: bytes) -> int:
        self.sent.append(frame)
        return len(frame)


def test_sent_frames_are_the_frames_built_whole(monkeypatch: pytest.MonkeyPatch):
    rng = random.Random(4)
    for _ in range(50):
        mac = bytes(rng.randrange(256) for _ in range(6))
        addresses = [
            ".".join(str(rng.randrange(256)) for _ in range(4)) for _ in range(rng.randint(1, 5))
        ]
        sent: list[bytes] = []
        device = FakePacketSocket(mac, sent)
        monkeypatch.setattr(garp.socket, "socket", lambda *a, device=device: device)
        garp.send_many(addresses, "eth0")
        assert sent == [f for a in addresses for f in garp.garp_frames(mac, a)]
        host = bytes(rng.randrange(256) for _ in range(6))
        sent.clear()
        garp.send_many(addresses, "eth0", to=host.hex(":"))
        assert sent == [host + garp.garp_frames(mac, a)[0][6:] for a in addresses]
