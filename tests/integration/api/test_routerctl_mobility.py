"""routerctl's mobility commands against a running daemon: goldens per format, exit codes.

The daemon's mobility port is a ``FakeMobility`` with three sites (this router serves
site-a) and a fixed clock, so the goldens hold whole lines; times and ages are normalised as
in test_routerctl. Regenerate with ``ROUTERD_UPDATE_GOLDEN=1`` and review the ``git diff``.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable

import pytest
import yaml

from routerd.api.mobility_port import Conflict
from routerd.cli import ctl_mobility, ctl_output
from tests.integration.api.harness import Served, run_ctl
from tests.integration.api.test_routerctl import check_golden, normalise
from tests.support.fake_mobility import T0, FakeMobility
from tests.unit.docs.test_doc_runs import DOCS, contains
from tests.unit.docs.test_doc_runs import normalise as doc_normalise

pytestmark = pytest.mark.integration


def seeded(served: Served, clock: Callable[[], float] | None = None) -> FakeMobility:
    """The daemon's port: 10.40.8.21 at site-b (BGP), .22 here (a host answered), .23 in a
    tie, .24 pinned at site-c."""
    fake = FakeMobility(clock=clock)
    served.daemon.mobility = fake  # type: ignore[attr-defined]
    fake.learn("10.40.8.21", "site-b", 4, peer="10.255.0.2")
    fake.set_home(
        "10.40.8.22", "site-a", 2, "presence", "garp from 52:54:00:00:08:16 on lan", kind="garp"
    )
    tie = Conflict(
        "tie",
        "site-b and site-c both originate it with sequence 3",
        "stop one of the two VMs, or routerctl move it where it runs",
    )
    fake.set_home("10.40.8.23", "site-b", 3, "bgp", "BGP from 10.255.0.2, sequence 3",
                  kind="bgp", peer="10.255.0.2", conflicts=(tie,))  # fmt: skip
    fake.pins["10.40.8.24"] = fake.pin("10.40.8.24", "site-c", "database maintenance")
    fake.calls.clear()
    return fake


@pytest.fixture
def world(served: Served, monkeypatch: pytest.MonkeyPatch) -> tuple[Served, FakeMobility]:
    """Name: world / Scope: function / Depends: served, monkeypatch. ``seeded``, then
    10.40.8.21 moved here; routerctl's "ago" is measured from a fixed now, so the width of
    the age columns (and the goldens) does not change with the day they run."""
    now = T0 + 3600
    monkeypatch.setattr(ctl_mobility, "ago", functools.partial(ctl_output.ago, now=now))
    monkeypatch.setattr(ctl_mobility, "when", functools.partial(ctl_output.when, now=now))
    fake = seeded(served)
    r = served.ctl("move", "10.40.8.21", "--to", "site-a", "--cause", "wave 3 cutover")
    assert r.code == 0, r.err
    return served, fake


def ok(served: Served, *argv: str) -> str:
    r = served.ctl(*argv)
    assert r.code == 0, (argv, r.out, r.err)
    return r.out


COMMANDS = {
    "where": ("where", "10.40.8.21"),
    "where-conflict": ("where", "10.40.8.23"),
    "get-homes": ("get", "homes"),
    "history-address": ("history", "address", "10.40.8.21"),
    "move": ("move", "10.40.8.25", "10.40.8.22", "--to", "site-a"),
}


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_mobility_commands_match_their_goldens(world, fmt):
    served, _ = world
    for name, argv in COMMANDS.items():
        out = ok(served, *argv, "-o", fmt)
        if fmt == "json":
            json.loads(out)
        elif fmt == "yaml":
            yaml.safe_load(out)
        check_golden(f"{name}.{fmt}", normalise(out, served))


def test_where_json_has_what_scripts_read(world):
    served, _ = world
    data = json.loads(ok(served, "where", "10.40.8.21", "-o", "json"))
    assert (data["address"], data["home"], data["sequence"]) == ("10.40.8.21", "site-a", 5)
    assert data["since"].endswith("Z") and data["evidence"]["detail"] == "wave 3 cutover"


def test_prose_commands_match_their_goldens(world):
    served, fake = world
    pin = ok(served, "pin", "10.40.8.22", "--site", "site-b", "--cause", "db maintenance")
    again = ok(served, "pin", "10.40.8.22", "--site", "site-b")
    unpin = ok(served, "unpin", "10.40.8.22")
    none = ok(served, "unpin", "10.40.8.22")
    check_golden("pin.txt", normalise(pin + again + unpin + none, served))
    watch = ok(served, "watch", "homes", "--since", "0", "--count", "4")
    check_golden("watch-homes.table", normalise(watch, served))
    watch = ok(served, "watch", "homes", "--since", "0", "--count", "4", "-o", "json")
    assert [json.loads(line)["seq"] for line in watch.splitlines()] == ["1", "2", "3", "4"]
    check_golden("watch-homes.json", normalise(watch, served))
    filtered = ok(served, "watch", "homes", "--since", "0", "--address", "10.40.8.21",
                  "--count", "2", "-o", "json")  # fmt: skip
    assert [json.loads(line)["seq"] for line in filtered.splitlines()] == ["1", "4"]
    check_golden("history-domain.table", normalise(ok(served, "history", "domain", "lab"), served))
    assert ok(served, "get", "homes", "--domain", "lab") == ok(served, "get", "homes")
    assert fake.pins == {"10.40.8.24": fake.pins["10.40.8.24"]}


def test_a_refused_move_exits_2_and_lists_what_to_do(world):
    served, fake = world
    before = list(fake.journal)
    r = served.ctl("move", "10.40.8.26", "10.40.8.24", "192.0.2.5", "--to", "site-a")
    assert r.code == 2 and r.out == ""
    check_golden("move-refused.txt", normalise(r.err, served))
    r = served.ctl("move", "10.40.8.26", "--to", "site-b")
    assert r.code == 2 and r.out == ""
    check_golden("move-remote.txt", normalise(r.err, served))
    assert fake.journal == before
    dry = served.ctl("move", "10.40.8.26", "10.40.8.24", "--to", "site-a", "--dry-run")
    assert dry.code == 2
    check_golden("move-dry-run.txt", normalise(dry.out, served))
    assert fake.journal == before


def test_no_wait_prints_queued_and_exits_0(world):
    served, fake = world
    fake.auto_apply = False
    r = served.ctl("move", "10.40.8.26", "--to", "site-a", "--no-wait")
    assert r.code == 0 and "10.40.8.26  queued" in r.out
    assert fake.queue == [("10.40.8.26", "")]


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (("where", "10.40.8.300"), 2, "address: '10.40.8.300' is not an IPv4 address"),
        (("where", "192.0.2.1"), 2, "192.0.2.1 is not a mobile address on this router"),
        (("get", "homes", "--domain", "edge"), 2, "domain: no mobile domain 'edge'"),
        (("get", "claims", "--domain", "lab"), 2, "--domain applies to get homes only"),
        (("pin", "10.40.8.30", "--site", "site-a"), 2, "RemoteAddressClaim/legacy-db"),
        (("watch", "homes", "--claim", "x"), 2, "--claim applies to watch claims"),
        (("watch", "claims", "--address", "10.40.8.21"), 2, "apply to watch homes"),
        (("watch", "homes", "--since", "99"), 2, "ahead of the move journal"),
    ],
)
def test_bad_requests_exit_2_with_the_field_and_what_to_do(world, argv, code, needle):
    served, _ = world
    r = served.ctl(*argv)
    assert r.code == code and needle in r.err, (r.code, r.err)


def test_a_router_without_mobility_says_what_to_configure(served):
    r = served.ctl("where", "10.40.8.21")
    assert r.code == 2
    assert "mobility is not configured on this router" in r.err
    assert "AddressMobilityDomain.spec.mobility" in r.err


@pytest.mark.parametrize(
    "argv",
    [
        ("move", "10.40.8.21", "--to", "site-a"),
        ("where", "10.40.8.21"),
        ("pin", "10.40.8.21", "--site", "site-a"),
        ("unpin", "10.40.8.21"),
        ("get", "homes"),
        ("watch", "homes"),
        ("history", "address", "10.40.8.21"),
    ],
)
def test_each_command_says_routerd_is_not_running(sockdir, argv):
    path = str(sockdir / "nothing.sock")
    r = run_ctl("--socket", path, *argv)
    assert r.code == 1 and f"routerd is not running at {path}" in r.err


@pytest.mark.parametrize(
    "argv",
    [
        ("move", "10.40.8.21"),
        ("move", "--to", "site-a"),
        ("pin", "10.40.8.21"),
        ("where",),
        ("history", "address"),
        ("get", "homes", "-o", "xml"),
    ],
)
def test_usage_errors_exit_2(argv):
    assert run_ctl(*argv).code == 2


PAGE = "docs/moving-addresses.md"
FOLLOWS = ("routerctl", "watch", "homes")
"""Not run here: a watch without --count follows the journal until stopped."""


def test_the_mobility_page_shows_what_its_commands_print(served):
    seeded(served, clock=time.time)  # ages as the page shows them ("14m ago")
    docs = [d for d in DOCS if d.page == PAGE]
    assert len([d for d in docs if d.output is not None]) >= 5
    for doc in docs:
        if doc.words[: len(FOLLOWS)] == FOLLOWS:
            continue
        r = served.ctl(*doc.argv[1:])
        refused = "--to" in doc.argv and "site-b" in doc.argv
        assert r.code == (2 if refused else 0) and "Traceback" not in r.err, (str(doc), r.err)
        if doc.output is not None:
            missing = contains(doc_normalise(r.out + r.err), doc_normalise(doc.output))
            assert missing is None, f"{doc}: the page shows {missing!r}; it prints:\n{r.out}{r.err}"
