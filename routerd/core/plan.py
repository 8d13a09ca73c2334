"""Diff desired against observed: the changes that make the host match (pure).

Removals are limited to objects the backend reports as owned, so routerd never deletes what
it did not create. Changes are ordered so that a packet never finds a half-built path:
removals of stale objects first (a moved proxy neighbour must leave its old interface),
then devices, sysctls and addresses, then routes and neighbours, then the clamp table.
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.desired import DataplaneObject, DesiredState, Key, Observed, satisfies
from routerd.core.port import Change

# Devices first: a per-interface sysctl (rp_filter on the tunnel) needs its interface.
_ORDER = {"wg": 0, "sysctl": 1, "addr": 2, "absent": 3, "route": 4, "pneigh": 5, "nft": 6}


SatisfiedMemo = dict[Key, tuple[DataplaneObject, DataplaneObject]]
"""key -> the (desired, observed) pair last found satisfied. Callers whose desired and
observed objects persist across passes (the engine's lowering cache, the Linux backend's
observation cache) pass one memo to every call; a pair seen before is then recognised by
identity (~0.3 µs per key instead of a field-by-field comparison, measured 20 ms -> 8 ms
at 10,000 claims). The result is the same with or without it."""


def diff(
    desired: DesiredState,
    observed: Observed,
    *,
    skip: Callable[[Key], bool] | None = None,
    memo: SatisfiedMemo | None = None,
) -> list[Change]:
    """Changes that bring ``observed`` to ``desired``.

    Args:
        desired: what lowering produced.
        observed: what the backend saw.
        skip: keys to leave alone this pass (claims in backoff).
        memo: optional cache of pairs already found satisfied (see ``SatisfiedMemo``).

    Returns:
        Ordered changes; empty when the host already matches.
    """
    changes: list[Change] = []
    for key in observed.owned:
        if key not in desired.objects and (skip is None or not skip(key)):
            changes.append(Change("remove", key, old=observed.objects.get(key)))
    memo = {} if memo is None else memo
    seen_get, memo_get = observed.objects.get, memo.get
    for key, want in desired.objects.items():
        have = seen_get(key)
        pair = memo_get(key)
        if pair is not None and pair[0] is want and pair[1] is have:
            continue
        # Equal objects before sorting owners: three sysctls are owned by every claim.
        if have is not None and (have == want or satisfies(want, have)):
            memo[key] = (want, have)
            continue
        if skip is not None and skip(key):
            continue
        owners = tuple(sorted(desired.owners.get(key, ())))
        if have is None:
            changes.append(Change("add", key, new=want, owners=owners))
        else:
            changes.append(Change("replace", key, new=want, old=have, owners=owners))
    if len(memo) > 2 * len(desired.objects) + 64:
        for key in [k for k in memo if k not in desired.objects]:
            del memo[key]
    changes.sort(key=lambda c: (c.op != "remove", _ORDER.get(c.key[0], 9)))
    return changes
