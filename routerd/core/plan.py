"""Diff desired against observed: the changes that make the host match (pure).

Removals are limited to objects the backend reports as owned, so routerd never deletes what
it did not create. Changes come out in one canonical order, whatever order the desired and
observed mappings iterate in: removals of stale objects first (a moved proxy neighbour must
leave its old interface), then devices, sysctls and addresses, then routes and neighbours,
then the clamp table; within a kind, by key. Two engines that want the same thing from the
same host therefore produce the same plan, change for change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from routerd.core.desired import DataplaneObject, DesiredState, Key, Observed, satisfies
from routerd.core.port import Change

# Devices first: a per-interface sysctl (rp_filter on the tunnel) needs its interface.
_ORDER = {
    "gateway": 0,
    "wg": 0,
    "sysctl": 1,
    "addr": 2,
    "absent": 3,
    "route": 4,
    "pneigh": 5,
    "nft": 6,
}


def canonical(change: Change) -> tuple[bool, int, Key]:
    """The sort key of a change in a plan (see the module docstring)."""
    return (change.op != "remove", _ORDER.get(change.key[0], 9), change.key)


def diff(
    desired: DesiredState,
    observed: Observed,
    *,
    keys: Iterable[Key] | None = None,
    skip: Callable[[Key], bool] | None = None,
) -> list[Change]:
    """Changes that bring ``observed`` to ``desired``.

    Args:
        desired: what lowering produced.
        observed: what the backend saw.
        keys: consider only these keys (a scoped pass); None considers every desired key
            and every owned one.
        skip: keys to leave alone this pass (objects in backoff).

    Returns:
        The changes in canonical order; empty when the host already matches.
    """
    want = desired.objects
    have = observed.objects
    changes: list[Change] = []
    if keys is None:
        removals: Iterable[Key] = (k for k in observed.owned if k not in want)
        candidates: Iterable[tuple[Key, DataplaneObject]] = want.items()
    else:
        scope = set(keys)
        removals = (k for k in scope if k in observed.owned and k not in want)
        candidates = ((k, want[k]) for k in scope if k in want)
    for key in removals:
        if skip is None or not skip(key):
            changes.append(Change("remove", key, old=have.get(key)))
    for key, obj in candidates:
        seen = have.get(key)
        if seen is not None and (seen == obj or satisfies(obj, seen)):
            continue
        if skip is not None and skip(key):
            continue
        owners = tuple(sorted(desired.owners.get(key, ())))
        if seen is None:
            changes.append(Change("add", key, new=obj, owners=owners))
        else:
            changes.append(Change("replace", key, new=obj, old=seen, owners=owners))
    changes.sort(key=canonical)
    return changes
