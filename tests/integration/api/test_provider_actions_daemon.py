"""routerd assigns the secondary IP itself: a daemon, its reconciler and the AWS double.

The real Daemon (engine, store, API, the provider-actions component) runs over the FakeHost
port double; the provider side is the AWS double (moto behind the enforcing layer), reached
through boto3's default chain (IMDS credentials), and the engine's provider evidence reads
the double's instance metadata, which lists the ENI's addresses as moto holds them. So the
claim is ``pending`` (provider-ip-not-assigned) until routerd's own action assigns the
address, and ``verified`` only after the provider shows it: nothing here is declared.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routerd.daemon import provider_actions
from routerd.providers.evidence import IMDS_ENV, MetadataEvidence
from routerd.providers.executor_factory import ENDPOINT_ENV
from tests.integration.api.harness import Served, make_daemon, serve
from tests.support.wait import wait_until
from tests.unit.providers.action_kit import router_text
from tests.unit.providers.exec_worlds import World, world_factory  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def aws(
    world_factory: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> World:
    """The AWS double serving instance metadata as the router's ENI (nics[0]).

    Every log record is captured from the start (a test scans them for credentials).
    Name: aws / Scope: function / Depends: world_factory, monkeypatch, caplog.
    """
    caplog.set_level("DEBUG")
    world: World = world_factory("aws")
    world.fake.serve_instance(world.nics[0])
    monkeypatch.setenv(ENDPOINT_ENV, world.server.url)
    return world


@contextlib.contextmanager
def acting_daemon(
    aws: World, tmp: Path, sockdir: Path, mp: pytest.MonkeyPatch, **policy: Any
) -> Iterator[Served]:
    """A daemon whose config captures one address through an executing AWS profile."""
    text = router_text(aws, {aws.free[0]: aws.nics[0]}, policy=policy or None)
    socket = str(sockdir / "run" / "routerd.sock")
    daemon, host = make_daemon(tmp, socket, mp, text=text)
    daemon.engine.provider = MetadataEvidence(env={IMDS_ENV: aws.server.url}, wait=5.0)
    stop = provider_actions.start(daemon)
    s = serve(daemon, host, tmp)
    try:
        yield s
    finally:
        stop()
        s.close()


@pytest.fixture
def acting(
    aws: World, tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    """Name: acting / Scope: function / Depends: aws, tmp_path, sockdir, monkeypatch."""
    with acting_daemon(aws, tmp_path, sockdir, monkeypatch) as s:
        yield s


def claim_state(s: Served, name: str) -> str:
    view = s.daemon.engine.snapshot.claims.get(name)
    return "absent" if view is None else view.state


def test_claim_goes_pending_then_verified_through_routerds_own_action(
    aws: World, acting: Served, caplog: pytest.LogCaptureFixture
) -> None:
    ip, nic = aws.free[0], aws.nics[0]
    name = f"vm-0-{ip.replace('.', '-')}"
    wait_until(
        lambda: None if claim_state(acting, name) == "verified" else claim_state(acting, name),
        timeout=30,
        what="claim verified",
    )
    assert aws.held_by(ip) == [nic]
    history = acting.daemon.store.journal(claim=name)
    [action] = acting.daemon.store.list_actions()
    assert action.finished_at is not None
    assert (history[0].from_state, history[0].to_state) == ("pending", "captured")
    assert history[0].at >= action.finished_at, "captured only after routerd's own action"
    assert history[-1].to_state == "verified"
    listed = json.loads(acting.ctl("action", "list", "-o", "json").out)["actions"]
    assert [(a["operation"], a["status"], a["claim"]) for a in listed] == [
        ("assign", "succeeded", name)
    ]
    assert aws.server.applied == {"assign": 1}
    described = acting.ctl("action", "describe", str(listed[0]["id"]))
    assert described.code == 0 and "succeeded" in described.out
    shown = described.out + acting.ctl("action", "describe", "1", "-o", "yaml").out
    shown += json.dumps(listed) + caplog.text
    for secret in aws.secrets:
        assert secret not in shown, "a credential reached routerctl, gRPC or the log"
    refused = acting.ctl("action", "undo", str(listed[0]["id"]))
    assert refused.code == 2 and f"RemoteAddressClaim/{name} still wants" in refused.err


def test_removed_claim_is_released_and_a_release_can_be_undone(aws: World, acting: Served) -> None:
    ip, nic = aws.free[0], aws.nics[0]
    wait_until(lambda: None if aws.held_by(ip) == [nic] else "not assigned yet", timeout=30)
    Path(acting.daemon.opts.config_path).write_text(router_text(aws, {}))
    assert acting.daemon.reload()

    def released() -> str | None:
        done = acting.daemon.store.list_actions(statuses=("succeeded",))
        return None if done and done[0].operation == "unassign" else "no release journaled"

    wait_until(released, timeout=30)
    release = acting.daemon.store.list_actions()[0]
    assert (release.operation, release.status) == ("unassign", "succeeded")
    assert aws.held_by(ip) == []
    assert acting.daemon.store.provider_holdings() == {}
    undo = acting.ctl("action", "undo", str(release.id))
    assert undo.code == 0, undo.err
    wait_until(lambda: None if aws.held_by(ip) == [nic] else "undo not run", timeout=30)
    time.sleep(0.5)
    assert aws.held_by(ip) == [nic], "an undone release stays: routerd does not own it"
    assert acting.daemon.store.provider_holdings() == {}
    assert aws.server.applied == {"assign": 2, "unassign": 1}


def test_an_action_awaiting_approval_holds_the_claim_pending_until_approved(
    aws: World, tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip, nic = aws.free[0], aws.nics[0]
    name = f"vm-0-{ip.replace('.', '-')}"
    with acting_daemon(aws, tmp_path, sockdir, monkeypatch, approval="required") as s:

        def waiting() -> str | None:
            found = s.daemon.store.list_actions(statuses=("awaiting-approval",))
            return None if found else "no action awaiting approval"

        wait_until(waiting, timeout=30)
        s.wait_passes(2)
        view = s.daemon.engine.snapshot.claims[name]
        assert (view.state, view.reason) == ("pending", "provider-ip-not-assigned")
        assert aws.held_by(ip) == [] and not aws.server.applied
        [action] = s.daemon.store.list_actions()
        approved = s.ctl("action", "approve", str(action.id))
        assert approved.code == 0 and f"approved action {action.id}" in approved.out
        wait_until(
            lambda: None if claim_state(s, name) == "verified" else claim_state(s, name),
            timeout=30,
        )
        assert aws.held_by(ip) == [nic]
        again = s.ctl("action", "approve", str(action.id))
        assert again.code == 2 and "only actions awaiting approval" in again.err
