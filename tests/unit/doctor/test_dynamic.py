"""doctor dynamic: decode, expiry (D4), supersession (D2), rejected parts (D3), policies.

The D-numbers are entries of docs/decisions.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routerd.core.config import RouterConfig
from routerd.core.doctor import Status
from routerd.core.dynamic import DynamicPart
from routerd.core.resources import Directive, RemoteAddressClaim
from routerd.state.store import Store
from tests.unit.doctor.kit import Scene, config_of, one

Recorded = Callable[[str], Scene]
POLICY = """
    - apiVersion: config.routerd.net/v1alpha1
      kind: DynamicOverridePolicy
      metadata:
        name: inventory-may-move
      spec:
        allow:
          - source: Plugin/inventory
            operations: [mask]
            targets:
              - apiVersion: hybrid.routerd.net/v1alpha1
                kind: RemoteAddressClaim
                name: vm31
"""
MASK_VM31 = Directive.model_validate(
    {
        "op": "mask",
        "target": {
            "apiVersion": "hybrid.routerd.net/v1alpha1",
            "kind": "RemoteAddressClaim",
            "name": "vm31",
        },
        "reason": "moved back",
    }
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Name: store / Scope: function / Depends: tmp_path."""
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


def startup(s: Scene, policy: bool = True) -> RouterConfig:
    return config_of(s.rec["topology"]["config"] + (POLICY if policy else ""))


def test_no_store_and_no_effective_config_is_one_skip(recorded: Recorded) -> None:
    report = recorded("healthy").doctor("dynamic")
    assert [(f.name, f.status) for f in report.findings] == [("inputs", Status.SKIP)]


def test_rejected_part_fails_as_a_whole_while_the_rest_builds(
    recorded: Recorded, store: Store
) -> None:
    s = recorded("healthy")
    now = s.host.clock()
    store.put_part(DynamicPart("Plugin/rogue", 1, now - 5, 300.0, (), (MASK_VM31,)))
    report = s.doctor("dynamic", startup=startup(s, policy=False), store=store)
    assert one(report, "effective config builds").status is Status.PASS
    f = one(report, "DynamicConfigPart Plugin/rogue@1 rejected")
    assert f.status is Status.FAIL and "not allowed by any DynamicOverridePolicy" in f.detail


def test_allowed_mask_with_superseded_and_expired_generations(
    recorded: Recorded, store: Store
) -> None:
    s = recorded("healthy")
    now = s.host.clock()
    claim = s.config.get(RemoteAddressClaim, "vm31")
    assert claim is not None
    moved = claim.model_copy(
        update={"metadata": claim.metadata.model_copy(update={"name": "vm31b"})}
    )
    store.put_part(DynamicPart("Plugin/inventory", 1, now - 50, 300.0, (moved,), (MASK_VM31,)))
    store.put_part(DynamicPart("Plugin/inventory", 2, now - 5, 300.0, (moved,), (MASK_VM31,)))
    store.put_part(DynamicPart("Plugin/old", 1, now - 900, 60.0, ()))
    report = s.doctor("dynamic", startup=startup(s), store=store)
    decode = one(report, "dynamic parts decode")
    assert decode.status is Status.PASS and decode.detail == "3 parts, 2 resources, 2 directives"
    expiry = one(report, "expired parts ignored")
    assert expiry.status is Status.WARN
    assert "2 active, 1 expired (ignored), 1 superseded" in expiry.detail
    assert "Plugin/old" in expiry.detail
    assert one(report, "effective config builds").detail.startswith("1 suppressed, 1 dynamic")
    assert one(report, "override policies present for masks").status is Status.PASS


def test_policy_rules_for_masks_that_do_not_exist_warn(recorded: Recorded, store: Store) -> None:
    s = recorded("healthy")
    report = s.doctor("dynamic", startup=startup(s), store=store)
    f = one(report, "override policies present for masks")
    assert f.status is Status.WARN and "1/1" in f.detail
    assert one(report, "expired parts ignored").status is Status.PASS


def test_a_part_that_does_not_decode_fails(recorded: Recorded, store: Store) -> None:
    s = recorded("healthy")
    now = s.host.clock()
    bad = [{"apiVersion": "hybrid.routerd.net/v1alpha1", "kind": "RemoteAddressClaim",
            "metadata": {"name": "x"}, "spec": {"address": "not-an-ip"}}]  # fmt: skip
    db = sqlite3.connect(store.path)
    db.execute(
        "INSERT INTO dynamic_config_parts(source, generation, received_at, ttl_seconds,"
        " expires_at, resources_json, directives_json, created_at, updated_at)"
        " VALUES ('Plugin/broken', 1, ?, 300, ?, ?, '[]', ?, ?)",
        (now, now + 300, json.dumps(bad), now, now),
    )
    db.commit()
    db.close()
    f = one(s.doctor("dynamic", startup=startup(s, policy=False), store=store), "parts decode")
    assert f.status is Status.FAIL and "Plugin/broken@1" in f.detail
