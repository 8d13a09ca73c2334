"""The mobility lab's own logic that needs no namespace: verdicts, figures, rules, configs.

A wrong gap or overlap computation would turn a broken move into a passing check, and a
wrong rule in the hand-played controller would make its floor figures meaningless; these
run everywhere (no ``lab`` mark).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from routerd.core.exchange import LearnedPath
from tools.labkit import mobmeasure as mm
from tools.labkit.cli import build_parser
from tools.labkit.handplay_rules import Book, CtlConfig, Peer, findings, step
from tools.labkit.mobconfig import Keys, controller_config, router_config, rr_config
from tools.labkit.mobfabric import DoubleAssignment, MobilityFabric
from tools.labkit.mobtopo import DOMAIN, EXCLUDE, GATEWAY, SITE, SITES, initial_homes
from tools.labkit.routers import ROUTERD

BIRD = """BIRD 2.0.12 ready.
Table master4:
10.40.8.50/32        unicast [site2_10_255_0_21 22:46:46.728] * (100) [i]
\tvia 10.255.0.21 on wg1r
\tType: BGP univ
\tBGP.local_pref: 2
\tBGP.large_community: (65000, 100, 2) (65000, 101, 2)
                     unicast [site1_10_255_0_11 22:46:46.700] (100) [i]
\tvia 10.255.0.11 on wg1r
\tBGP.large_community: (65000, 100, 1) (65000, 101, 1)
10.40.8.21/32        unicast [site3_10_255_0_31 22:46:46.728] * (100) [i]
\tBGP.large_community: (65000, 100, 3) (65000, 101, 1)
10.40.8.99/32        unicast [site3_10_255_0_31 22:46:46.728] * (100) [i]
\tBGP.large_community: (64999, 100, 3) (65000, 101, 1)
"""


def test_bird_routes_list_every_path_with_site_and_sequence() -> None:
    table = mm.parse_bird_routes(BIRD)
    assert table == {"10.40.8.50": ((1, 1), (2, 2)), "10.40.8.21": ((3, 1),)}


def probe(sent: list[float], recv: dict[int, float]) -> dict[str, object]:
    return {"targets": ["10.40.8.50"], "sent": [sent], "recv": [recv]}


def test_longest_gap_counts_the_edges_of_the_window() -> None:
    assert mm.longest_gap([1.0, 1.01, 1.3], 0.99, 1.31) == pytest.approx(0.29)
    assert mm.longest_gap([1.0, 1.01], 0.99, 2.0) == pytest.approx(0.99)  # never resumed
    assert mm.longest_gap([], 0.0, 0.5) == pytest.approx(0.5)


def test_handover_counts_only_requests_sent_after_the_moment() -> None:
    sent = [0.0, 0.01, 0.02, 0.03]
    p = probe(sent, {0: 0.005, 3: 0.035})
    assert mm.handover(p, 0.015) == (pytest.approx(0.02), [])
    late = probe(sent, {0: 0.005, 1: 0.1})  # a request from before the move answered late
    assert mm.handover(late, 0.015) == (None, ["10.40.8.50"])


def test_lost_and_answered_between() -> None:
    p = probe([0.0, 0.01, 0.02, 0.03], {0: 0.001, 2: 0.021})
    assert mm.lost(p, 0.0, 0.025) == {"10.40.8.50": 1}
    assert mm.answered_between(p, 0.02, 0.03) == ["10.40.8.50"]
    assert mm.answered_between(p, 0.03, 0.04) == []


def sweeps(pattern: str, step_s: float = 0.05) -> list[tuple[float, dict[str, tuple[str, ...]]]]:
    """'1' = one MAC answered, '2' = two MACs, per round."""
    macs = {"1": ("aa",), "2": ("aa", "bb")}
    return [(i * step_s, {"10.40.8.50": macs[c]}) for i, c in enumerate(pattern)]


def test_a_brief_overlap_of_two_responders_is_a_sighting() -> None:
    failures, sightings = mm.two_responders(sweeps("11221111"), ["10.40.8.50"])
    assert failures == [] and sightings == 1


def test_two_responders_proven_longer_than_the_tolerance_fail() -> None:
    failures, _ = mm.two_responders(sweeps("1222221"), ["10.40.8.50"])
    assert len(failures) == 1 and "at least 150 ms" in failures[0]


def test_gateway_answers_by_another_mac_are_reported() -> None:
    rounds = [(0.0, {GATEWAY: ("gw",)}), (0.1, {GATEWAY: ("gw", "rt")}), (0.2, {})]
    assert mm.gateway_answers(rounds, GATEWAY, "gw") == (2, ["rt at 0.100"])


def test_two_homes_tie_fails_at_once_and_lingering_old_home_after_the_tolerance() -> None:
    tie = [(0.0, {"a": ((1, 5), (2, 5))})]
    assert mm.two_homes(tie)[0]
    brief = [(0.0, {"a": ((1, 5),)}), (0.2, {"a": ((1, 5), (2, 6))}), (0.4, {"a": ((2, 6),)})]
    assert mm.two_homes(brief) == ([], 1)
    long = [(t * 0.2, {"a": ((1, 5), (2, 6))}) for t in range(3)]
    assert "still originated below the top" in mm.two_homes(long)[0][0]


def cfg(site_id: int = 2) -> CtlConfig:
    peers = tuple(Peer(i, f"site-{'abc'[i - 1]}", "k", f"10.255.0.{i}1") for i in (1, 2, 3))
    return CtlConfig(
        site=f"site-{'abc'[site_id - 1]}",
        site_id=site_id,
        kind="onprem",
        asn=65000,
        router_id=f"10.255.0.{site_id}1",
        domain=DOMAIN,
        exclude=EXCLUDE,
        lan_if="ens19",
        proxy_if="gw0",
        wg_if="wg0",
        rr="10.255.0.1",
        hold=9,
        keepalive=3,
        peers=tuple(p for p in peers if p.site_id != site_id),
        sites=((1, ("10.255.0.11",)), (2, ("10.255.0.21",)), (3, ("10.255.0.31",))),
        run_dir="/nonexistent",
    )


def path(site: int, seq: int, address: str = "10.40.8.50") -> LearnedPath:
    return LearnedPath(address, site, seq, f"10.255.0.{site}1", "10.255.0.1", "")


def test_arrival_originates_above_the_highest_sequence_and_records_where_it_came_from() -> None:
    book, c = Book(), cfg()
    paths = {"10.40.8.50": (path(1, 4),)}
    homes = step(book, c, paths, session_up=True, now=1.0)
    assert homes["10.40.8.50"].site_id == 1
    homes = step(book, c, paths, session_up=True, evidence=[("10.40.8.50", 1.5, "m")], now=2.0)
    assert homes["10.40.8.50"].site_id == 2 and book.own["10.40.8.50"].sequence == 5
    assert [(a.address, a.mac, a.from_site) for a in book.arrivals] == [("10.40.8.50", "m", 1)]


def test_stale_evidence_never_reclaims() -> None:
    book, c = Book(), cfg()
    step(book, c, {}, session_up=True, evidence=[("10.40.8.50", 0.5, "m")], now=1.0)
    assert "10.40.8.50" in book.own
    step(book, c, {"10.40.8.50": (path(1, 2),)}, session_up=True, now=2.0)  # it moved on
    assert "10.40.8.50" not in book.own
    homes = step(
        book,
        c,
        {"10.40.8.50": (path(1, 2),)},
        session_up=True,
        evidence=[("10.40.8.50", 1.9, "m")],
        now=3.0,
    )
    assert homes["10.40.8.50"].site_id == 1 and "10.40.8.50" not in book.own


def test_equal_sequence_lower_site_wins_and_the_loser_withdraws() -> None:
    book, c = Book(), cfg()
    step(book, c, {}, session_up=True, requests=["10.40.8.50"], now=1.0)
    assert book.own["10.40.8.50"].sequence == 1
    homes = step(book, c, {"10.40.8.50": (path(1, 1),)}, session_up=True, now=2.0)
    assert homes["10.40.8.50"].site_id == 1 and not book.own


def test_a_lost_path_keeps_its_home_only_while_the_session_is_down() -> None:
    book, c = Book(), cfg()
    step(book, c, {"10.40.8.21": (path(3, 1, "10.40.8.21"),)}, session_up=True, now=1.0)
    kept = step(book, c, {}, session_up=False, now=2.0)
    assert kept["10.40.8.21"].site_id == 3 and kept["10.40.8.21"].stale
    gone = step(book, c, {}, session_up=True, now=3.0)
    assert "10.40.8.21" not in gone


def test_findings_name_sessions_conflicts_and_stale_sequences() -> None:
    book, c = Book(), cfg()
    step(book, c, {}, session_up=True, requests=["10.40.8.50"], now=1.0)
    names = {f["name"] for f in findings(book, c, {}, {"10.255.0.1": "active"})}
    assert names == {"bgp session", "home unconfirmed"}
    conflict = findings(book, c, {"10.40.8.50": (path(3, 1),)}, {"10.255.0.1": "established"})
    assert [f["name"] for f in conflict] == ["conflicting homes"]
    stale = findings(book, c, {"10.40.8.50": (path(3, 7),)}, {"10.255.0.1": "established"})
    assert [f["name"] for f in stale] == ["stale sequence"]
    assert findings(Book(), c, {}, {"10.255.0.1": "established"}) == []


def test_mobile_addresses_leave_out_routers_monitors_and_the_gateway() -> None:
    mobile = cfg().mobile()
    assert "10.40.8.50" in mobile and "10.40.8.100" in mobile
    assert not {"10.40.8.1", "10.40.8.2", "10.40.8.3", "10.40.8.5", "10.40.8.251"} & set(mobile)


def test_router_config_has_the_mobility_block_of_the_design(tmp_path: Path) -> None:
    keys = Keys.create(tmp_path / "keys")
    a = yaml.safe_load(router_config(SITE["site-a"], "ab12", keys))
    c = yaml.safe_load(router_config(SITE["site-c"], "ab12", keys))
    kinds = {r["kind"]: r["spec"] for r in a["spec"]["resources"]}
    assert kinds["BGPSpeaker"]["routerID"] == "10.255.0.11"
    assert kinds["BGPSpeaker"]["neighbors"][0]["address"] == "10.255.0.1"
    mob = kinds["AddressMobilityDomain"]["mobility"]
    assert mob["localSite"] == "site-a" and mob["capture"]["type"] == "proxy-arp"
    assert mob["gateway"] == {"address": GATEWAY, "mac": "02:00:00:28:08:fe"}
    assert [s.get("peerRef") for s in mob["sites"]] == [None, "site-b", "site-c"]
    cloud = {r["kind"]: r["spec"] for r in c["spec"]["resources"]}["AddressMobilityDomain"]
    assert cloud["mobility"]["capture"]["type"] == "provider-secondary-ip"
    assert "gateway" not in cloud["mobility"]
    peers = [r for r in a["spec"]["resources"] if r["kind"] == "WireGuardPeer"]
    assert {p["metadata"]["name"] for p in peers} == {"rr", "site-b", "site-c"}
    assert all(p["spec"]["interface"] == "wgab12a" for p in peers)


def test_the_controller_and_reflector_configs_agree_with_the_routerd_config(tmp_path: Path) -> None:
    keys = Keys.create(tmp_path / "keys")
    for site in SITES:
        c = controller_config(site, "ab12", keys, tmp_path)
        assert c.router_id == site.overlay and c.site_id == site.site_id
        assert {p.public_key for p in c.peers} == {
            keys.public(s.letter) for s in SITES if s != site
        }
    clients = {(cl.address, cl.site_id) for cl in rr_config().clients}
    assert clients == {(s.overlay, s.site_id) for s in SITES}


def test_the_lab_starts_with_every_vm_at_its_site() -> None:
    homes = initial_homes()
    assert homes["10.40.8.50"] == "site-a" and homes["10.40.8.60"] == "site-c"
    assert homes["10.40.8.150"] == "site-c" and "10.40.8.251" not in homes


def test_the_fabric_refuses_an_address_on_two_nics() -> None:
    fabric = MobilityFabric.__new__(MobilityFabric)
    fabric.holder = {"10.40.8.60": "p-cm1"}
    with pytest.raises(DoubleAssignment, match="one address, one NIC"):
        fabric.assign("p-rt", ["10.40.8.60"])


def test_cli_mobility_options() -> None:
    args = build_parser().parse_args(
        [
            "mobility",
            "-o",
            "json",
            "--runs",
            "2",
            "--scenario",
            "partition",
            "--control",
            "hand-played",
        ]
    )
    assert (args.output, args.runs, args.scenario, args.control) == (
        "json",
        2,
        ["partition"],
        "hand-played",
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["mobility", "--runs", "0"])


def test_router_configs_validate_once_routerd_has_the_mobility_kinds(tmp_path: Path) -> None:
    resources = pytest.importorskip("routerd.core.resources")
    if not hasattr(resources, "BGPSpeaker"):
        pytest.skip("this routerd has no BGPSpeaker kind yet (address mobility config)")
    keys = Keys.create(tmp_path / "keys")
    for site in SITES:
        path = tmp_path / f"{site.name}.yaml"
        path.write_text(router_config(site, "ab12", keys))
        proc = subprocess.run(
            [str(ROUTERD), "validate", "-c", str(path)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cloud_actions_router_config_executes_and_validates(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from tools.labkit.mobcloud import EXCLUDE as CLOUD_EXCLUDE
    from tools.labkit.mobcloud import PRIMARIES, MobilityCloud

    lab = SimpleNamespace(dir=tmp_path)
    mc = MobilityCloud(lab)  # type: ignore[arg-type]
    mc.url = "http://10.40.8.1:8080"
    mc.world = {"subnet": "subnet-0123", "nics": [f"eni-{i:017x}" for i in range(len(PRIMARIES))]}
    cloud = next(s for s in SITES if s.kind == "cloud")
    text = mc.rewrite(router_config(cloud, "ab12", Keys.create(tmp_path / "keys")))
    doc = yaml.safe_load(text)
    by_kind = {r["kind"]: r for r in doc["spec"]["resources"]}
    assert by_kind["CloudProviderProfile"]["spec"]["execution"] == "execute"
    mob = by_kind["AddressMobilityDomain"]["spec"]["mobility"]
    assert mob["capture"]["nicRef"] == mc.nic("router")
    assert set(CLOUD_EXCLUDE) <= set(mob["exclude"])
    assert by_kind["ProviderActionPolicy"]["spec"]["approval"] == "none"
    assert "ROUTERD_PROVIDER_ENDPOINT" in mc.router_env()
    assert not any("secret" in k.lower() or "key" in k.lower() for k in mc.router_env())
    resources = pytest.importorskip("routerd.core.resources")
    if not hasattr(resources, "BGPSpeaker"):
        pytest.skip("this routerd has no mobility kinds")
    path = tmp_path / "site-c.yaml"
    path.write_text(text)
    proc = subprocess.run(
        [str(ROUTERD), "validate", "-c", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_cloud_actions_picks_the_scenarios_that_fit(capsys: pytest.CaptureFixture) -> None:
    from tools.labkit.cli import cmd_mobility
    from tools.labkit.mobscenarios import default_scenarios

    assert "cloud-moves" in default_scenarios(True)
    assert "explicit-moves" not in default_scenarios(True)
    assert "cloud-moves" not in default_scenarios(False)
    args = build_parser().parse_args(["mobility", "--scenario", "cloud-moves"])
    assert cmd_mobility(args) != 0
    assert "needs --cloud-actions" in capsys.readouterr().out
    args = build_parser().parse_args(
        ["mobility", "--cloud-actions", "--scenario", "explicit-moves"]
    )
    assert cmd_mobility(args) != 0
    assert "not with --cloud-actions" in capsys.readouterr().out


def test_this_routerd_is_found_able_to_run_the_mobility_lab(tmp_path: Path) -> None:
    """The lab's ``auto`` mode falls back to the hand-played controller when it thinks
    routerd has no mobility: that check must see this checkout's daemon as capable."""
    from tools.labkit.mobcontrol import Routerd

    config = tmp_path / "site-a.yaml"
    config.write_text(router_config(SITES[0], "ab12", Keys.create(tmp_path)))
    ok, why = Routerd.available(config)
    assert ok, why
