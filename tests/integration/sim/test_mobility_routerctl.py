"""``routerctl where/move/get homes/history`` against the routers of the mobility world.

The goldens of ``tests/integration/api/test_routerctl_mobility.py`` hold routerctl's output
against a fake port; this runs the same commands against real daemons whose mobility
component steps the controller, so what is checked is that the commands show what the
routers decided: the home after a live migration (with the VM's MAC as evidence and the
next sequence), an explicit move answered once originated, a remote move refused with the
router to call, and a derived claim held at ``delivering`` until its home announces it.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.api.harness import CtlRun, run_ctl
from tests.integration.sim.test_mobility_world import MIGRANT, MIGRANT_MAC, VM_C, claim, start

pytestmark = pytest.mark.integration


def ctl(world, router: str, *argv: str) -> CtlRun:  # type: ignore[no-untyped-def]
    return run_ctl("--socket", world.sockets[router], *argv)


def test_where_and_get_homes_follow_a_live_migration(routerd_world) -> None:  # type: ignore[no-untyped-def]
    world = start(routerd_world)
    before = ctl(world, "rc", "where", MIGRANT, "-o", "json")
    assert before.code == 0, before.err
    assert {k: json.loads(before.out)[k] for k in ("home", "sequence", "origin")} == {
        "home": "site-a",
        "sequence": 1,
        "origin": "bgp",
    }
    world.move_vm("migrant", "lan-b")
    world.advance(0.01)
    at_b = ctl(world, "rb", "where", MIGRANT)
    assert at_b.code == 0, at_b.err
    assert "Home:         site-b (this router's site)" in at_b.out
    assert "State:        local" in at_b.out
    assert "Sequence:     2" in at_b.out
    assert f"from {MIGRANT_MAC} on ens19" in at_b.out
    assert "Originating:  yes" in at_b.out
    table = ctl(world, "ra", "get", "homes")
    assert table.code == 0, table.err
    row = next(line.split() for line in table.out.splitlines() if line.startswith(MIGRANT))
    assert row[:5] == [MIGRANT, "lab", "site-b", "remote", "2"]
    listed = json.loads(ctl(world, "ra", "get", "homes", "-o", "json").out)
    homes = {h["address"]: (h["home"], h["sequence"]) for h in listed["homes"]}
    assert homes[MIGRANT] == ("site-b", 2) and homes[VM_C] == ("site-c", 1)
    history = ctl(world, "ra", "history", "address", MIGRANT)
    assert history.code == 0, history.err
    last = history.out.splitlines()[-1].split()  # one address: no ADDRESS column
    frm = last.index("site-a")
    assert last[frm : frm + 4] == ["site-a", "site-b", "2", "bgp"]


def test_move_from_the_command_line_and_its_refusal(routerd_world) -> None:  # type: ignore[no-untyped-def]
    world = start(routerd_world)
    moved = ctl(world, "rc", "move", "10.77.5.1", "10.77.5.2", "--to", "site-c", "--cause", "w1")
    assert moved.code == 0, moved.err
    rows = [line.split()[:3] for line in moved.out.splitlines()[1:]]
    assert rows == [["10.77.5.1", "moved", "1"], ["10.77.5.2", "moved", "1"]]
    world.advance(0.01)
    seen = json.loads(ctl(world, "ra", "where", "10.77.5.2", "-o", "json").out)
    assert (seen["home"], seen["sequence"]) == ("site-c", 1)
    refused = ctl(world, "ra", "move", "10.77.5.3", "--to", "site-c")
    assert refused.code == 2
    assert "[remote-site]" in refused.err and "call MoveAddress on site-c's router" in refused.err
    assert (
        json.loads(ctl(world, "ra", "where", "10.77.5.3", "-o", "json").out).get("home", "") == ""
    )


def test_a_claim_is_verified_only_once_its_home_announces_it(routerd_world) -> None:  # type: ignore[no-untyped-def]
    world = start(routerd_world, cloud=False)
    pinned = ctl(world, "ra", "pin", VM_C, "--site", "site-c", "--cause", "maintenance")
    assert pinned.code == 0, pinned.err
    world.advance(5)
    got = ctl(world, "ra", "get", "claims", "-o", "json")
    assert got.code == 0, got.err
    (held,) = [c for c in json.loads(got.out)["claims"] if c["name"] == claim(VM_C)]
    assert (held["state"], held["reason"]) == ("delivering", "home-not-originating")
    assert ctl(world, "rc", "move", VM_C, "--to", "site-c").code == 0
    world.advance(0.01)
    (now,) = [
        c
        for c in json.loads(ctl(world, "ra", "get", "claims", "-o", "json").out)["claims"]
        if c["name"] == claim(VM_C)
    ]
    assert now["state"] == "verified"
