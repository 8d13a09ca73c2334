"""Judging many claims against one observation: what claims share is looked at once.

``assess_delivery`` and ``path_check`` read, for each claim, much that the claim shares with
every other claim of its shape: the host's and the capture interface's sysctls, the
tunnel's link, the WireGuard peer, the MSS clamp table, the capture segment's and the
tunnel's addresses. A full pass judges every claim against one observation, so
``Judgement`` answers the shared part once per shape (capture interface, tunnel, peer and
clamp paths) and looks at each claim's own objects only: its route, the peer covering its
address, its provider-side answer. ``assess_path``'s checks read only the shape and the
claim's evidence, which claims with equal evidence share (one object): they are answered
once per run of claims with the same shape and evidence.

It only ever says "everything holds" on its own. A claim for which anything fails is judged
by ``assess_delivery`` itself, so reasons, messages and keys are those of judging the claim
alone (``tests/unit/core/test_judgement.py`` compares the two over every single failure).
"""

from __future__ import annotations

from routerd.core import capture
from routerd.core.assess import (
    HANDSHAKE_MAX_AGE,
    VERIFIED,
    Verdict,
    assess_delivery,
    assess_path,
    path_holds,
    path_verified,
    probe_source,
)
from routerd.core.desired import (
    MAIN_TABLE,
    AbsentAddress,
    MssClampTable,
    Observed,
    Route,
    WireGuardDevice,
)
from routerd.core.lowering import IP_FORWARD, ClaimIntent
from routerd.core.port import PathCheck, PathEvidence

_PROXY_ARP = "proxy-arp"
_MAIN = str(MAIN_TABLE)
_BLOCKING = frozenset({"not-assigned", "pending"})
"""Provider answers that fail a provider-side capture."""
_CHECK = tuple.__new__
"""Makes a ``PathCheck`` from a tuple of its fields (no keyword handling)."""

Shape = tuple[str, str, str, str, int | None, tuple[tuple[str, str], ...]]


class Judgement:
    """One observation's verdicts on capture and delivery, and its path checks.

    Args:
        o: the observation (not changed while this judgement is in use).
        standby: capture interfaces whose proxy-ARP capture is switched off on purpose.
        max_handshake_age: the age beyond which a WireGuard handshake is stale.
    """

    __slots__ = (
        "_last",
        "_last_check",
        "_last_path",
        "_peers",
        "_probes",
        "_segments",
        "_shapes",
        "max_age",
        "o",
        "standby",
    )

    def __init__(
        self,
        o: Observed,
        standby: frozenset[str] = frozenset(),
        max_handshake_age: float = HANDSHAKE_MAX_AGE,
    ) -> None:
        self.o = o
        self.standby = standby
        self.max_age = max_handshake_age
        self._last_path: tuple[object, object, bool] = (None, None, False)
        self._last_check: tuple[object, tuple[str, str, str, str, str], tuple[str, ...]] = (
            None,
            ("", "", "", "", ""),
            (),
        )
        self._shapes: dict[Shape, bool] = {}
        self._peers: dict[tuple[str, str], frozenset[str]] = {}
        self._probes: dict[tuple[str, str, str], str] = {}
        self._segments: dict[str, tuple[str, ...]] = {}
        self._last: tuple[object, bool] = (None, False)  # the last facts judged, and theirs

    def delivery(self, c: ClaimIntent) -> Verdict | None:
        """``assess_delivery(c, o, standby)``: the verdict when capture or delivery fails.

        Args:
            c: the claim's intent.

        Returns:
            The failing verdict, or None when the observation supports delivering.
        """
        f = c.facts
        last, shared = self._last
        if f is not last:  # claims of one shape share their facts, and mostly come in a row
            shape = (
                f.capture_type,
                f.capture_interface,
                f.tunnel,
                f.wg_public_key,
                f.mss,
                f.mss_paths,
            )
            held = self._shapes.get(shape)
            if held is None:
                held = self._shapes[shape] = self._shared_holds(c)
            shared = held
            self._last = (f, shared)
        if not shared:
            return assess_delivery(c, self.o, self.standby)
        # the checks that read the claim's own objects (inline: one claim after another)
        o, ip = self.o, c.ip
        objects = o.objects
        if f.capture_type == _PROXY_ARP:
            route = objects.get(capture.route_key(ip))
            if not (
                isinstance(route, Route)
                and route.type == "unicast"
                and route.dev != f.capture_interface
            ):
                return assess_delivery(c, o, self.standby)
        else:
            seen = objects.get(("absent", ip))
            if isinstance(seen, AbsentAddress) and (seen.present_on or seen.local_routes):
                return assess_delivery(c, o, self.standby)
            answer = o.assignments.get(ip)
            if answer is not None and answer.status in _BLOCKING:
                return assess_delivery(c, o, self.standby)
        route = objects.get(("route", _MAIN, c.address))
        if not isinstance(route, Route) or route.dev != f.tunnel:
            return assess_delivery(c, o, self.standby)
        if f.wg_public_key and c.address not in self._peers[(f.tunnel, f.wg_public_key)]:
            return assess_delivery(c, o, self.standby)
        return None

    def path(self, c: ClaimIntent, evidence: PathEvidence | None) -> Verdict:
        """``assess_path(c, o, evidence, max_handshake_age)`` for a claim whose capture and
        delivery hold.

        Args:
            c: the claim's intent.
            evidence: the claim's latest path evidence (None: none yet).

        Returns:
            The verdict; whether the path checks pass is worked out once per run of claims
            with the same shape and the same evidence object (``assess.path_holds``).
        """
        f = c.facts
        last, seen, held = self._last_path
        if f is not last or evidence is not seen:
            held = path_holds(c, self.o, evidence, self.max_age)
            self._last_path = (f, evidence, held)
        if not held:
            return assess_path(c, self.o, evidence, max_handshake_age=self.max_age)
        if f.capture_type == _PROXY_ARP:  # a proxy-ARP capture leaves nothing unproven
            return VERIFIED
        return path_verified(c, self.o)

    def _shared_holds(self, c: ClaimIntent) -> bool:
        """Every check of capture and delivery that reads only what the shape shares."""
        o, capif = self.o, c.capture_interface
        if capif and not o.link_exists(capif):
            return False
        if o.sysctl(IP_FORWARD) != "1":
            return False
        if c.capture_type == _PROXY_ARP and not capture.interface_captures(
            capif, o, standby=capif in self.standby
        ):
            return False
        link = o.links.get(c.tunnel)
        if link is None or not link.exists or not link.up:
            return False
        if c.wg_public_key:
            dev = o.objects.get(("wg", c.tunnel))
            peer = dev.peer(c.wg_public_key) if isinstance(dev, WireGuardDevice) else None
            if peer is None:
                return False
            self._peers[(c.tunnel, c.wg_public_key)] = peer.allowed_ips
        if c.mss_paths:
            table = o.objects.get(("nft", "inet", "routerd_mss"))
            for iif, oif in c.mss_paths:
                rule = table.covers(iif, oif) if isinstance(table, MssClampTable) else None
                if rule is None or (c.mss is not None and rule.mss > c.mss):
                    return False
        return True

    def path_check(self, c: ClaimIntent) -> PathCheck:
        """``assess.path_check(c, o)``: the end-to-end check to ask the backend for.

        Args:
            c: the claim's intent.

        Returns:
            The check, with the probe's source and the capture segment's address worked
            out once per tunnel and per capture interface.
        """
        f, ip = c.facts, c.ip
        last, shared, candidates = self._last_check
        if f is not last:  # claims of one shape share their facts, and mostly come in a row
            probe = (f.tunnel, f.local_overlay, f.peer_overlay)
            source = self._probes.get(probe)
            if source is None:
                source = self._probes[probe] = probe_source(c, self.o)
            capif = f.capture_interface
            candidates = ()
            if f.capture_type == _PROXY_ARP and capif:
                found = self._segments.get(capif)
                if found is None:
                    link = self.o.links.get(capif)
                    found = capture.segment_candidates(link.addresses if link else ())
                    self._segments[capif] = found
                candidates = found
            shared = (f.tunnel, f.wg_public_key, source, f.peer_overlay if source else "", capif)
            self._last_check = (f, shared, candidates)
        segment = ""
        for segment in candidates:
            if segment != ip:
                break
        else:
            segment = ""
        tunnel, key, source, peer, capif = shared
        return _CHECK(PathCheck, (c.name, ip, tunnel, key, source, peer, capif, segment))
