"""keepalived.conf rendering: golden files per shape (tests/netns/test_keepalived_conf.py has
keepalived itself check each one).

Goldens live in tests/golden/keepalived/; regenerate with
``ROUTERD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/redundancy/test_render.py`` and review
the diff.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from routerd.core.redundancy import PairPlan, VirtualAddress, token_address
from routerd.redundancy.render import render

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "keepalived"
UPDATE = os.environ.get("ROUTERD_UPDATE_GOLDEN") == "1"
FIFO = Path("/run/routerd/keepalived/notify.fifo")

ONPREM = PairPlan(
    ref="RedundancyGroup/site-a",
    name="site-a",
    role="onprem",
    interface="ens19",
    vrid=42,
    priority=150,
    peers=("10.40.8.3",),
    source_address="",
    advert_interval=0.1,
    addresses=(VirtualAddress("10.40.8.254/24", "ens19"),),
    preempt=False,
    hold_down=None,
    track_interfaces=(),
)

SHAPES: dict[str, tuple[PairPlan, bool]] = {
    "onprem-nopreempt": (ONPREM, False),
    "onprem-takeover": (ONPREM, True),
    "onprem-preempt": (dataclasses.replace(ONPREM, preempt=True), False),
    "onprem-hold-down-tracked": (
        dataclasses.replace(
            ONPREM,
            hold_down=300.0,
            source_address="10.40.8.2",
            peers=("10.40.8.3", "10.40.8.4"),
            advert_interval=0.25,
            track_interfaces=("ens20", "wg-sam"),
            addresses=(
                VirtualAddress("10.40.8.254/24", "ens19"),
                VirtualAddress("10.40.9.254/24", "ens19"),
            ),
        ),
        False,
    ),
    "cloud-token": (
        dataclasses.replace(ONPREM, role="cloud", interface="eth0", addresses=(token_address(42),)),
        False,
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_rendered_config_matches_golden(shape):
    plan, takeover = SHAPES[shape]
    text = render(plan, fifo=FIFO, takeover=takeover)
    path = GOLDEN / f"{shape}.conf"
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"missing golden {path}; run with ROUTERD_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{shape} differs; review, then ROUTERD_UPDATE_GOLDEN=1"


def test_takeover_only_changes_priority_and_preemption():
    normal = render(ONPREM, fifo=FIFO).splitlines()
    takeover = render(ONPREM, fifo=FIFO, takeover=True).splitlines()
    assert set(normal) - set(takeover) == {
        "# Rendered by routerd from RedundancyGroup/site-a; routerd overwrites any edit.",
        "    priority 150",
        "    nopreempt",
    }
    assert "    priority 254" in takeover
