"""Diff desired against observed: the changes that make the host match (pure).

Removals are limited to objects the backend reports as owned, so routerd never deletes what
it did not create. Changes come out in one canonical order, whatever order the desired and
observed mappings iterate in: removals of stale objects first (a moved proxy neighbour must
leave its old interface), then devices, sysctls and addresses, then routes and neighbours,
then the clamp table; within a kind, by key. Two engines that want the same thing from the
same host therefore produce the same plan, change for change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from itertools import chain
from operator import attrgetter

from routerd.core.desired import (
    IMPLIED_KINDS,
    DataplaneObject,
    DesiredState,
    Key,
    Observed,
    implied,
    satisfies,
)
from routerd.core.frozen import maker
from routerd.core.persistent import PSet
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
        The changes in canonical order (``canonical``); empty when the host already matches.
    """
    want = desired.objects
    have = observed.objects
    if keys is None:
        removals: Iterable[Key] = (k for k in observed.owned if k not in want)
        candidates: Iterable[tuple[Key, DataplaneObject]] = want.items()
        reported: Iterable[Key] = have
    else:
        scope = set(keys)
        removals = (k for k in scope if k in observed.owned and k not in want)
        candidates = ((k, want[k]) for k in scope if k in want)
        reported = (k for k in scope if k in have)
    removes = _Kinds()
    for key in removals:
        if skip is None or not skip(key):
            removes.add(Change("remove", key, None, have.get(key)))
    candidates = chain(candidates, _implied(desired, reported))
    return removes.ordered() + _wanted(desired, have, candidates, skip).ordered()


def _implied(
    desired: DesiredState, reported: Iterable[Key]
) -> Iterator[tuple[Key, DataplaneObject]]:
    """The desired objects of reported keys that claims need with no object lowered (an
    address that must be absent, reported where it is present: ``implied``)."""
    want, owners = desired.objects, desired.owners
    for key in reported:
        if key[0] in IMPLIED_KINDS and key not in want and key in owners:
            obj = implied(key)
            if obj is not None:
                yield key, obj


def _wanted(
    desired: DesiredState,
    have: Mapping[Key, DataplaneObject],
    candidates: Iterable[tuple[Key, DataplaneObject]],
    skip: Callable[[Key], bool] | None,
) -> _Kinds:
    """The adds and replaces among ``candidates`` (the loop a first pass runs 10,000s of
    times: locals bound, owners sorted by their set)."""
    out = _Kinds()
    groups, seen_of, owners_of = out.groups, have.get, desired.owners.get
    for key, obj in candidates:
        seen = seen_of(key)
        if seen is not None and (seen == obj or satisfies(obj, seen)):
            continue
        if skip is not None and skip(key):
            continue
        if seen is None and key[0] in IMPLIED_KINDS:
            continue  # an absence is reported only where it is not met
        owners = owners_of(key)
        ordered = owners.ordered() if type(owners) is PSet else _sorted(owners)
        if seen is None:
            change = _change("add", key, obj, None, ordered)
        else:
            change = _change("replace", key, obj, seen, ordered)
        group = groups.get(key[0])
        if group is None:
            groups[key[0]] = [change]
        else:
            group.append(change)
    return out


class _Kinds:
    """Changes of one op grouped by the kind of their key, for the canonical order: the
    kinds by their rank, each kind by key (one sort of keys per kind, no sort key built
    per change).

    A large group (a first pass's routes) is first put in the order its keys were made in:
    lowering makes them claim by claim, in the claims' order, while a desired state's
    mapping hands them over in hash order. The key sort then reads memory in order and
    meets long sorted runs (claims tend to be listed in address order): about half the
    time at 100,000 routes. The result is the key order either way, a group's keys being
    distinct.
    """

    __slots__ = ("groups",)

    def __init__(self) -> None:
        self.groups: dict[str, list[Change]] = {}

    def add(self, change: Change) -> None:
        group = self.groups.get(change.key[0])
        if group is None:
            self.groups[change.key[0]] = [change]
        else:
            group.append(change)

    def ordered(self) -> list[Change]:
        out: list[Change] = []
        for kind in sorted(self.groups, key=lambda k: (_ORDER.get(k, 9), k)):
            group = self.groups[kind]
            if len(group) > _LARGE:
                group.sort(key=_made)
            group.sort(key=_KEY)
            out += group
        return out


_KEY = attrgetter("key")
_LARGE = 1024  # a group this size or smaller is sorted by key alone


def _made(change: Change) -> int:
    """Where the change's key lives in memory: the order keys were made in."""
    return id(change.key)


_change = maker(Change)  # the adds of a first pass are made by the ten thousand


def _sorted(owners: AbstractSet[str] | None) -> tuple[str, ...]:
    return () if owners is None else tuple(sorted(owners))
