"""assess: each piece of evidence behind a state, and what happens when it fails or is missing.

Every test starts from an observation that supports ``verified`` and takes away exactly one
piece, so a check that stopped looking at its evidence (or started counting an absent or
unfinished answer as success) fails here.
"""

from __future__ import annotations

from dataclasses import fields
from dataclasses import replace as dataclass_replace
from typing import Any

import pytest

from routerd.core.assess import assess, path_check, probe_source
from routerd.core.assignment import Assignment, AssignmentQuery, query_for
from routerd.core.assignment_watch import AssignmentWatch
from routerd.core.desired import (
    AbsentAddress,
    LinkState,
    Observed,
    Route,
    Sysctl,
    WgPeer,
    WireGuardDevice,
)
from routerd.core.lowering import ClaimIntent, ShapeFacts
from routerd.core.port import InputRoute, PathEvidence

KEY = "T05QUkVNLVJPVVRFUi1QVUJMSUMtS0VZLVJFUExBQ0U="
FACTS = {f.name for f in fields(ShapeFacts)}


def replace(c: ClaimIntent, **changes: Any) -> ClaimIntent:
    """``c`` with ``changes``, whether they are the claim's own fields or its shape's."""
    shape = {k: v for k, v in changes.items() if k in FACTS}
    own = {k: v for k, v in changes.items() if k not in FACTS}
    return dataclass_replace(c, facts=dataclass_replace(c.facts, **shape), **own)


CLOUD = ClaimIntent(
    name="onprem-vm-31",
    address="10.40.8.31/32",
    ip="10.40.8.31",
    facts=ShapeFacts(
        capture_type="provider-secondary-ip",
        capture_interface="ens5",
        tunnel="wg0",
        peer="onprem-1",
        wg_public_key=KEY,
        local_overlay="10.255.40.0",
        peer_overlay="10.255.40.1",
        mss=None,
        mss_paths=(),
        clamps=(),
        sysctls=(),
        shared_keys=(),
        provider="aws",
    ),
    nic_ref="eni-0a1b2c3d4e5f60789",
)
ONPREM = replace(
    CLOUD,
    name="cloud-vm-21",
    address="10.40.8.21/32",
    ip="10.40.8.21",
    capture_type="proxy-arp",
    capture_interface="ens19",
    provider="",
    nic_ref="",
)
ROUTED = PathEvidence("wg0")


def healthy(c: ClaimIntent, *, overlay: tuple[str, ...] = ("10.255.40.0/31",)) -> Observed:
    """An observation in which every check for ``c`` passes."""
    o = Observed()
    o.links = {
        c.tunnel: LinkState(c.tunnel, addresses=overlay),
        c.capture_interface: LinkState(c.capture_interface),
    }
    objs = [
        Sysctl("net.ipv4.ip_forward", "1"),
        Route(c.address, c.tunnel, 120),
        WireGuardDevice(c.tunnel, peers=(WgPeer(KEY, frozenset({c.address})),)),
    ]
    if c.capture_type == "proxy-arp":
        objs += [
            Sysctl(f"net.ipv4.conf.{c.capture_interface}.proxy_arp", "1"),
            Sysctl(f"net.ipv4.conf.{c.capture_interface}.forwarding", "1"),
            Sysctl("net.ipv4.conf.all.proxy_arp", "0"),
        ]
    else:
        objs.append(AbsentAddress(c.ip))
    o.objects = {obj.key: obj for obj in objs}
    o.handshakes = {(c.tunnel, KEY): 5.0}
    return o


def judged(c: ClaimIntent, o: Observed, ev: PathEvidence | None = ROUTED) -> tuple[str, str]:
    v = assess(c, o, ev)
    return v.state.value, v.reason


# -- proxy-arp: the capture is observed on this host, nothing is left unproven ---------------


def test_proxy_arp_claim_with_all_evidence_is_verified_with_nothing_unproven() -> None:
    v = assess(ONPREM, healthy(ONPREM), ROUTED)
    assert (v.state.value, v.reason, v.message) == ("verified", "", "")


def _set(o: Observed, name: str, value: str) -> Observed:
    o.objects[("sysctl", name)] = Sysctl(name, value)
    return o


def test_forwarding_off_on_the_capture_interface_keeps_the_claim_pending() -> None:
    o = _set(healthy(ONPREM), "net.ipv4.conf.ens19.forwarding", "0")
    v = assess(ONPREM, o, ROUTED)
    assert (v.state.value, v.reason) == ("pending", "capture-forwarding-disabled")
    assert v.key == ("sysctl", "net.ipv4.conf.ens19.forwarding")


def test_proxy_arp_answers_when_on_for_the_interface_or_for_all() -> None:
    off = _set(healthy(ONPREM), "net.ipv4.conf.ens19.proxy_arp", "0")
    v = assess(ONPREM, off, ROUTED)
    assert (v.state.value, v.reason) == ("pending", "proxy-arp-disabled")
    assert v.key == ("sysctl", "net.ipv4.conf.ens19.proxy_arp")
    every = _set(off, "net.ipv4.conf.all.proxy_arp", "1")
    assert judged(ONPREM, every) == ("verified", "")


@pytest.mark.parametrize(
    ("route", "why"),
    [
        (None, "no route for 10.40.8.21"),
        (Route("10.40.8.21/32", "ens19", 120), "leaves by ens19 itself"),
        (Route("10.40.8.21/32", "", 120, type="blackhole"), "is blackhole"),
    ],
)
def test_capture_needs_routerds_unicast_route_leaving_by_another_device(
    route: Route | None, why: str
) -> None:
    o = healthy(ONPREM)
    del o.objects[("route", "254", ONPREM.address)]
    if route is not None:
        o.objects[route.key] = route
    v = assess(ONPREM, o, ROUTED)
    assert (v.state.value, v.reason, v.key) == (
        "pending",
        "capture-route-missing",
        ("route", "254", ONPREM.address),
    )
    assert why in v.message


@pytest.mark.parametrize(
    ("link", "reason"),
    [(LinkState("wg0", up=False), "tunnel-down"), (None, "tunnel-missing")],
)
def test_a_route_gone_with_its_tunnel_names_the_tunnel(link: LinkState | None, reason: str) -> None:
    """The kernel deletes a device's routes when it goes down or away: the capture route is
    missing then, but the tunnel is what to fix."""
    o = healthy(ONPREM)
    del o.objects[("route", "254", ONPREM.address)]
    if link is None:
        del o.links["wg0"]
    else:
        o.links["wg0"] = link
    v = assess(ONPREM, o, ROUTED)
    assert (v.state.value, v.reason, v.key) == ("pending", reason, ("wg", "wg0"))


def test_a_capture_interface_in_standby_holds_its_claims_and_says_what_still_answers() -> None:
    o = _set(healthy(ONPREM), "net.ipv4.conf.ens19.proxy_arp", "0")
    v = assess(ONPREM, o, ROUTED, standby=frozenset({"ens19"}))
    assert (v.state.value, v.reason, v.key) == ("pending", "capture-standby", None)
    assert "routes kept" in v.message and "all.proxy_arp" not in v.message
    loud = assess(
        ONPREM, _set(o, "net.ipv4.conf.all.proxy_arp", "1"), ROUTED, standby=frozenset({"ens19"})
    )
    assert "net.ipv4.conf.all.proxy_arp=1 still answers" in loud.message
    assert loud.key is None  # not routerd's to change
    late = assess(ONPREM, healthy(ONPREM), ROUTED, standby=frozenset({"ens19"}))
    assert (late.reason, late.key) == (
        "capture-standby",
        ("sysctl", "net.ipv4.conf.ens19.proxy_arp"),
    )
    assert "net.ipv4.conf.ens19.proxy_arp=1 still answers" in late.message
    assert judged(ONPREM, healthy(ONPREM)) == ("verified", "")  # standby elsewhere: no effect
    assert assess(ONPREM, healthy(ONPREM), ROUTED, standby=frozenset({"ens20"})).level == 3


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (InputRoute("10.40.8.254", "unicast", "wg0"), ""),
        (InputRoute("10.40.8.254", "unicast", "ens19"), "capture-route-missing"),
        (InputRoute("10.40.8.254", "unreachable", ""), "capture-route-missing"),
        (InputRoute("10.40.8.254", error="No route to host"), "capture-route-missing"),
        (InputRoute("10.40.8.254", "unicast", "ens20"), "route-lookup-mismatch"),
    ],
)
def test_the_kernels_input_route_lookup_proves_the_capture(found: InputRoute, reason: str) -> None:
    v = assess(ONPREM, healthy(ONPREM), PathEvidence("wg0", capture=found))
    assert (v.state.value, v.reason) == (("verified", "") if not reason else ("delivering", reason))
    if reason:
        assert "route get 10.40.8.21 from 10.40.8.254 iif ens19" in v.message


def test_the_path_check_asks_from_an_address_of_the_capture_segment() -> None:
    o = healthy(ONPREM)
    o.links["ens19"] = LinkState("ens19", addresses=("10.40.8.1/24",))
    assert path_check(ONPREM, o).capture_source == "10.40.8.254"
    o.links["ens19"] = LinkState("ens19", addresses=("10.40.8.254/24", "10.40.9.1/32"))
    assert path_check(ONPREM, o).capture_source == "10.40.8.253"
    o.links["ens19"] = LinkState("ens19")  # no IPv4 subnet: no lookup asked for
    assert path_check(ONPREM, o).capture_source == ""
    assert path_check(CLOUD, healthy(CLOUD)).capture_source == ""


# -- provider-secondary-ip: what the provider's metadata says ---------------------------------


def test_provider_lists_the_address_on_the_nic_then_nothing_is_unproven() -> None:
    o = healthy(CLOUD)
    o.assignments = {CLOUD.ip: Assignment("assigned", "AWS instance metadata: assigned")}
    v = assess(CLOUD, o, ROUTED)
    assert (v.state.value, v.message) == ("verified", "")


def test_provider_does_not_list_the_address_keeps_the_claim_pending_with_its_words() -> None:
    o = healthy(CLOUD)
    said = "AWS instance metadata: 10.40.8.31 is not assigned to eni-0a1b2c3d4e5f60789"
    o.assignments = {CLOUD.ip: Assignment("not-assigned", said)}
    v = assess(CLOUD, o, ROUTED)
    assert (v.state.value, v.reason, v.message) == ("pending", "provider-ip-not-assigned", said)


def test_first_metadata_read_still_running_is_not_success() -> None:
    o = healthy(CLOUD)
    o.assignments = {CLOUD.ip: Assignment("pending", "the first AWS read is running")}
    assert judged(CLOUD, o) == ("pending", "provider-check-pending")


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (None, "no provider metadata was consulted"),
        (Assignment("unknown", "AWS instance metadata unreachable: timed out"), "timed out"),
    ],
)
def test_unreachable_metadata_declares_the_capture_and_says_so(
    answer: Assignment | None, why: str
) -> None:
    o = healthy(CLOUD)
    if answer is not None:
        o.assignments = {CLOUD.ip: answer}
    v = assess(CLOUD, o, ROUTED)
    assert v.state.value == "verified"
    assert v.message.startswith("capture declared, provider side unproven: ")
    assert why in v.message


def test_claims_without_metadata_share_one_verdict_of_the_same_text() -> None:
    # a full pass of provider-side claims nobody asks the provider about makes one per claim
    o = healthy(CLOUD)
    first, again = assess(CLOUD, o, ROUTED), assess(CLOUD, o, ROUTED)
    assert first is again
    assert first == (
        3,
        "",
        "capture declared, provider side unproven: no provider metadata was consulted",
        None,
        False,
    )
    o.assignments = {CLOUD.ip: Assignment("unknown", "timed out")}
    assert assess(CLOUD, o, ROUTED).message.endswith(": timed out")


def test_os_address_is_reported_before_the_provider_answer() -> None:
    o = healthy(CLOUD)
    o.objects[("absent", CLOUD.ip)] = AbsentAddress(CLOUD.ip, (("ens5", "10.40.8.31/24"),))
    o.assignments = {CLOUD.ip: Assignment("assigned")}
    assert judged(CLOUD, o) == ("pending", "os-address-present")


def test_only_provider_claims_with_a_profile_are_asked() -> None:
    assert query_for(ONPREM) is None
    assert query_for(replace(CLOUD, provider="")) is None
    q = query_for(CLOUD)
    assert q is not None
    assert (q.address, q.provider, q.nic_ref, q.interface) == (
        "10.40.8.31",
        "aws",
        "eni-0a1b2c3d4e5f60789",
        "ens5",
    )


class Port:
    """A provider port that records what it was asked and answers from ``answers``."""

    def __init__(self) -> None:
        self.asked: list[frozenset[AssignmentQuery]] = []
        self.answers: dict[str, Assignment] = {}

    def start(self, on_change: object) -> None:
        del on_change

    def close(self) -> None:
        pass

    def assignments(self, queries: frozenset[AssignmentQuery]) -> dict[str, Assignment]:
        self.asked.append(queries)
        return self.answers


def test_the_watch_asks_about_provider_claims_and_names_those_whose_answer_changed() -> None:
    port = Port()
    watch = AssignmentWatch(port)
    intents = {CLOUD.name: CLOUD, ONPREM.name: ONPREM}
    watch.update(intents, intents)
    assert watch.read() == set()  # the same (empty) answers: nothing moved
    assert port.asked == [frozenset({query_for(CLOUD)})]
    assert watch.read() == set() and port.asked[1] is port.asked[0]  # the same query set
    port.answers = {CLOUD.ip: Assignment("not-assigned", "gone")}
    assert watch.read() == {CLOUD.name}
    assert watch.read() == set()  # the same mapping object: nothing to compare
    port.answers = {CLOUD.ip: Assignment("not-assigned", "gone")}
    assert watch.read() == set()  # another mapping with the same answers
    watch.update({}, [CLOUD.name])  # the claim went: nothing is asked about it any more
    watch.read()
    assert port.asked[-1] == frozenset()


def test_the_watch_follows_moved_shared_and_unchanged_claims() -> None:
    port = Port()
    watch = AssignmentWatch(port)
    twin = replace(CLOUD, name="twin")  # another claim of the same address
    watch.update({CLOUD.name: CLOUD, twin.name: twin}, [CLOUD.name, twin.name])
    watch.read()
    first = port.asked[-1]
    assert first == frozenset({query_for(CLOUD)})
    watch.update({CLOUD.name: CLOUD, twin.name: twin}, [CLOUD.name, twin.name])  # no change
    watch.read()
    assert port.asked[-1] is first  # the query set was not made again
    port.answers = {CLOUD.ip: Assignment("not-assigned", "gone")}
    assert watch.read() == {CLOUD.name, twin.name}  # both claims of the address
    moved = replace(CLOUD, address="10.40.8.99/32", ip="10.40.8.99")
    watch.update({CLOUD.name: moved}, [CLOUD.name])
    watch.read()
    assert port.asked[-1] == frozenset({query_for(CLOUD), query_for(moved)})  # twin stays
    watch.update({}, [twin.name])
    watch.read()
    assert port.asked[-1] == frozenset({query_for(moved)})
    port.answers = {"10.40.8.99": Assignment("not-assigned", "gone")}
    assert watch.read() == {CLOUD.name}  # only the moved claim asks about its new address


# -- delivery and the end-to-end path ---------------------------------------------------------


def test_stale_or_missing_handshake_holds_delivering() -> None:
    o = healthy(ONPREM)
    o.handshakes = {}
    assert judged(ONPREM, o) == ("delivering", "handshake-stale")
    o.handshakes = {("wg0", KEY): 181.0}
    assert judged(ONPREM, o) == ("delivering", "handshake-stale")


def test_no_path_evidence_yet_or_a_wrong_lookup_holds_delivering() -> None:
    assert judged(ONPREM, healthy(ONPREM), None) == ("delivering", "route-lookup-mismatch")
    assert judged(ONPREM, healthy(ONPREM), PathEvidence("eth0")) == (
        "delivering",
        "route-lookup-mismatch",
    )


def test_failed_probe_holds_delivering() -> None:
    ev = PathEvidence("wg0", probe_ok=False, detail="no answer from 10.255.40.1")
    v = assess(ONPREM, healthy(ONPREM), ev)
    assert (v.state.value, v.reason, v.message) == (
        "delivering",
        "overlay-probe-failed",
        "no answer from 10.255.40.1",
    )


def test_unfinished_first_probe_is_not_success() -> None:
    ev = PathEvidence("wg0", probe_ok=None, detail="running", probe_pending=True)
    assert judged(ONPREM, healthy(ONPREM), ev) == ("delivering", "overlay-probe-pending")


def test_no_probe_possible_never_blocks_verified() -> None:
    assert judged(ONPREM, healthy(ONPREM), PathEvidence("wg0", probe_ok=None)) == ("verified", "")


# -- when the probe may run at all ------------------------------------------------------------


def test_probe_runs_from_an_overlay_address_observed_on_the_tunnel() -> None:
    chk = path_check(ONPREM, healthy(ONPREM))
    assert (chk.local_overlay, chk.peer_overlay) == ("10.255.40.0", "10.255.40.1")
    assert (chk.claim, chk.address, chk.tunnel, chk.capture_interface) == (
        "cloud-vm-21",
        "10.40.8.21",
        "wg0",
        "ens19",
    )


@pytest.mark.parametrize(
    ("intent", "tunnel_addresses"),
    [
        (ONPREM, ()),  # descriptive: the config names the address, nothing assigns it
        (ONPREM, ("10.255.40.8/31",)),  # another address on the tunnel
        (replace(ONPREM, peer_overlay=""), ("10.255.40.0/31",)),  # no peer address
        (replace(ONPREM, local_overlay=""), ("10.255.40.0/31",)),  # no local address
    ],
)
def test_no_probe_without_both_ends(intent: ClaimIntent, tunnel_addresses: tuple[str, ...]) -> None:
    o = healthy(intent, overlay=tunnel_addresses)
    assert probe_source(intent, o) == ""
    chk = path_check(intent, o)
    assert (chk.local_overlay, chk.peer_overlay) == ("", "")
    assert judged(intent, o, PathEvidence("wg0")) == ("verified", "")


def test_no_probe_when_the_tunnel_is_not_observed() -> None:
    o = healthy(ONPREM)
    del o.links["wg0"]
    assert probe_source(ONPREM, o) == ""
