"""The pair fence's table, rendered (the netns tests prove what the kernel does with it)."""

from __future__ import annotations

from routerd.redundancy.fence import HEARTBEAT_ETHERTYPE, OWNER_MARK, lease_seconds, render
from tests.netns.pair import plan_for


def test_the_table_renews_on_adverts_and_heartbeats_and_spares_own_addresses() -> None:
    plan = plan_for("ra")
    text = render(plan, ["10.40.8.12", "10.40.8.2"])
    assert text.startswith("table netdev routerd_fence\ndelete table netdev routerd_fence\n")
    assert OWNER_MARK in text and plan.ref in text
    assert "timeout 250ms" in text and lease_seconds(plan) == 0.25
    assert 'hook egress device "eth0"' in text
    assert f"ether type {HEARTBEAT_ETHERTYPE:#06x} update @alive {{ meta oif }} drop" in text
    assert "ip protocol vrrp update @alive { meta oif }" in text
    assert "elements = { 10.40.8.2, 10.40.8.12 }" in text  # sorted as addresses
    own = text.index("arp saddr ip @own accept")
    assert own < text.index("meta oif != @alive counter drop")


def test_no_own_address_leaves_the_set_empty() -> None:
    text = render(plan_for("rb", advert_interval=1.0), [])
    assert "set own { type ipv4_addr; }" in text and "timeout 2500ms" in text
