"""Setting gobgpd's global section and neighbors without resetting what is already right
(routerd.bgp.configure), against a fake stub that reports back what gobgpd reports.

The echo the fake returns has the defaults gobgpd 3.10 fills in (local AS, ``0.0.0.0`` /
``::`` listen addresses, ``0.0.0.0`` local address, idle-hold 30 s), as seen from a real
gobgpd; the namespace tests run the same ``apply`` against gobgpd itself.
"""

from __future__ import annotations

from typing import Any

from routerd.bgp import configure
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.core.exchange import Neighbor, SpeakerSettings

RR, C = "10.99.0.1", "10.99.0.31"


class FakeGobgp:
    """Records calls; reports what was set the way gobgpd does (defaults filled in)."""

    def __init__(self) -> None:
        self.global_: api.Global | None = None
        self.peers: dict[str, api.Peer] = {}
        self.calls: list[str] = []

    def GetBgp(self, request: Any, timeout: float) -> api.GetBgpResponse:
        g = api.Global()
        if self.global_ is not None:
            g.CopyFrom(self.global_)
            if not g.listen_addresses:
                g.listen_addresses.extend(["0.0.0.0", "::"])
        return api.GetBgpResponse(**{"global": g})

    def StartBgp(self, request: api.StartBgpRequest, timeout: float) -> None:
        self.calls.append("StartBgp")
        self.global_ = getattr(request, "global")

    def StopBgp(self, request: Any, timeout: float) -> None:
        self.calls.append("StopBgp")
        self.global_, self.peers = None, {}

    def ListPeer(self, request: Any, timeout: float) -> list[api.ListPeerResponse]:
        return [api.ListPeerResponse(peer=p) for p in self.peers.values()]

    def AddPeer(self, request: api.AddPeerRequest, timeout: float) -> None:
        self.calls.append(f"AddPeer {request.peer.conf.neighbor_address}")
        echo = api.Peer()
        echo.CopyFrom(request.peer)
        assert self.global_ is not None
        echo.conf.local_asn = self.global_.asn
        echo.timers.config.idle_hold_time_after_reset = 30
        echo.transport.local_address = "0.0.0.0"
        echo.state.session_state = api.PeerState.SessionState.ACTIVE
        self.peers[request.peer.conf.neighbor_address] = echo

    def DeletePeer(self, request: api.DeletePeerRequest, timeout: float) -> None:
        self.calls.append(f"DeletePeer {request.address}")
        del self.peers[request.address]


def settings(
    *neighbors: Neighbor, router_id: str = "10.99.0.11", listen: str = ""
) -> SpeakerSettings:
    return SpeakerSettings(65000, 1, router_id, listen, neighbors=neighbors)


def test_first_apply_starts_bgp_and_adds_every_neighbor() -> None:
    fake = FakeGobgp()
    applied = configure.apply(fake, settings(Neighbor(RR), Neighbor(C)))  # type: ignore[arg-type]
    assert applied.fresh and applied.added == (RR, C)
    assert fake.calls == ["StartBgp", f"AddPeer {RR}", f"AddPeer {C}"]
    peer = fake.peers[RR]
    assert peer.conf.peer_asn == 65000, "iBGP when the neighbor's AS is left at 0"
    assert (peer.timers.config.hold_time, peer.timers.config.keepalive_interval) == (9, 3)
    assert peer.afi_safis[0].add_paths.config.receive


def test_a_second_apply_changes_nothing_despite_the_defaults_in_the_echo() -> None:
    for listen in ("", "10.99.0.11"):
        fake = FakeGobgp()
        wanted = settings(Neighbor(RR, description="rr"), listen=listen)
        configure.apply(fake, wanted)  # type: ignore[arg-type]
        fake.calls.clear()
        applied = configure.apply(fake, wanted)  # type: ignore[arg-type]
        assert applied == configure.Applied(False) and fake.calls == []


def test_a_changed_neighbor_is_re_added_and_only_that_one() -> None:
    fake = FakeGobgp()
    configure.apply(fake, settings(Neighbor(RR), Neighbor(C)))  # type: ignore[arg-type]
    fake.calls.clear()
    applied = configure.apply(fake, settings(Neighbor(RR), Neighbor(C, hold_time=30, keepalive=10)))  # type: ignore[arg-type]
    assert fake.calls == [f"DeletePeer {C}", f"AddPeer {C}"]
    assert applied.removed == (C,) and applied.added == (C,) and not applied.fresh
    fake.calls.clear()
    configure.apply(fake, settings(Neighbor(RR)))  # type: ignore[arg-type]
    assert fake.calls == [f"DeletePeer {C}"]


def test_a_changed_router_id_restarts_bgp() -> None:
    fake = FakeGobgp()
    configure.apply(fake, settings(Neighbor(RR)))  # type: ignore[arg-type]
    fake.calls.clear()
    applied = configure.apply(fake, settings(Neighbor(RR), router_id="10.99.0.12"))  # type: ignore[arg-type]
    assert applied.fresh
    assert fake.calls == ["StopBgp", "StartBgp", f"AddPeer {RR}"]
