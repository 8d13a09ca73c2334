"""PSet.ordered: the members in sorted order, however the set was made."""

from __future__ import annotations

import random

from routerd.core.persistent import PSet


def test_a_set_made_from_a_list_orders_its_members_as_one_made_member_by_member() -> None:
    rng = random.Random(5)
    for n in (0, 1, 2, 3, 50, 2000):
        labels = [f"RemoteAddressClaim/c{i}" for i in range(n)]
        for order in (sorted(labels), labels, rng.sample(labels, n)):
            made = PSet(order + order[: n // 3])  # repeated members count once
            grown: PSet[str] = PSet()
            for label in reversed(order):
                grown = grown.add(label)
            assert made.ordered() == grown.ordered() == tuple(sorted(labels))
            assert made == grown and len(made) == n
            assert made.add_all(order[:5]).ordered() == tuple(sorted(labels))
            if n:
                gone = made.discard(order[0])
                assert gone.ordered() == tuple(sorted(set(labels) - {order[0]}))


def test_adding_while_keeping_the_order_orders_as_a_plain_add() -> None:
    rng = random.Random(9)
    labels = [f"RemoteAddressClaim/c{i}" for i in range(300)]
    for made in (PSet(rng.sample(labels, 300)), PSet(labels[:1]), PSet(), PSet(labels[:2])):
        for item in ("HybridRoute/a", "zz", labels[0], labels[-1], "RemoteAddressClaim/c150x"):
            kept, plain = made.add_keeping_order(item), made.add(item)
            assert kept == plain
            assert kept.ordered() == plain.ordered() == tuple(sorted({*made, item}))
