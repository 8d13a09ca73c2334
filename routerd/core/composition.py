"""The desired state as a fold of claim pieces plus the tail, updated claim by claim.

``lower()`` builds one ``Composition`` and puts every claim's piece in; the engine keeps
one and puts or removes the pieces of the claims that changed. Either way the published
``Lowered`` is the same function of (context, set of pieces, tail inputs): nothing depends
on the order pieces arrived in, so there is no dict order to reproduce.

How the fold is defined (the invariants every operation keeps):

* *objects*: a key one claim wants holds that claim's object; a key several claims want
  holds the object of the claim with the smallest name (they normally all want the same
  sysctl value; a disagreement is rare and resolved by scanning only that key's claims);
  a key of the tail (``tail.lower_tail``) holds the tail's object, which wins.
* *owners*: for every key a claim needs (``ClaimPiece.keys``), the owner labels of those
  claims, plus the label of the resource a tail object comes from.
* the tail is computed again only when its inputs change: the context, the generation, the
  key files, which capture interfaces are in standby (and in use), the anycast gateways held
  in standby, or the claims' contributions (a CIDR entering or leaving a peer's allowed IPs,
  a path's smallest clamp changing); appending a claim on a route underlay leaves it alone.

The published mappings are persistent (``routerd.core.persistent``): publishing after a
one-claim change costs O(changes · log n), and a published ``Lowered`` never changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from operator import attrgetter
from typing import TypeVar

from routerd.core.capture import EVERY_INTERFACE
from routerd.core.config import RouterConfig
from routerd.core.desired import DataplaneObject, DesiredState, Key
from routerd.core.lowering import ClaimIntent, ClaimPiece, Lowered, ShapeFacts
from routerd.core.persistent import Map, PSet
from routerd.core.tail import TailInputs, lower_tail
from routerd.core.tail_overlay import TailOverlay

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

CLAIM_LABEL = "RemoteAddressClaim/"
_NO_OWNERS: PSet[str] = PSet()


def _tail_wins(_base: DataplaneObject | None, tail: DataplaneObject) -> DataplaneObject:
    return tail


def _all_owners(base: PSet[str] | None, tail: str) -> PSet[str]:
    # a fold's owner sets come ordered, and the diff asks the published one for its order
    return (base or _NO_OWNERS).add_keeping_order(tail)


class Composition:
    """The desired state of a context and a set of claim pieces (one thread).

    Args:
        context: the non-claim resources of the effective config.
        generation / key_dir / public_keys: the rest of the tail's inputs.
        capture_active: capture interface -> whether proxy-ARP capture is on there (an
            interface not named is on); see ``routerd.core.lowering.lower``.
    """

    def __init__(
        self,
        context: RouterConfig,
        *,
        generation: int = 0,
        key_dir: str = "/var/lib/routerd/keys",
        public_keys: Mapping[str, str] | None = None,
        capture_active: Mapping[str, bool] | None = None,
    ) -> None:
        self.context = context
        self.generation = generation
        self.key_dir = key_dir
        self.public_keys: Mapping[str, str] = Map(public_keys or {})
        self.inactive: frozenset[str] = _inactive(capture_active)
        self.gateway_standby: frozenset[str] = frozenset()
        self.pieces: dict[str, ClaimPiece] = {}
        self._objects: TailOverlay[DataplaneObject, DataplaneObject] = TailOverlay(_tail_wins)
        # which keys' owners changed is never asked (the objects' written keys are)
        self._owners: TailOverlay[PSet[str], str] = TailOverlay(_all_owners, track=False)
        # owner labels put since the owners were last written, by key: a key every claim
        # needs (a sysctl) gets its 10,000 labels in one set update, not 10,000
        self._owner_adds: dict[Key, list[str]] = {}
        self._keys: Map[str, tuple[Key, ...]] = Map()
        self._intents: Map[str, ClaimIntent] = Map()
        self._keys_edit = self._keys.mutate()
        self._intents_edit = self._intents.mutate()
        self._providers: dict[Key, int] = {}  # claims wanting a key, where more than one
        self._conflicts: set[Key] = set()  # keys whose claims want different objects
        self._allowed: dict[tuple[str, str], Counter[str]] = {}
        self._mss: dict[tuple[str, str], Counter[int]] = {}
        self._tail: dict[Key, tuple[DataplaneObject, str]] = {}
        self._tail_dirty = True
        self._published: Lowered | None = None
        self._facts: Counter[ShapeFacts] = Counter()

    # -- changes -------------------------------------------------------------------------

    def put(self, piece: ClaimPiece) -> bool:
        """Add a claim's piece, or replace the piece of the claim with that name.

        Returns:
            False when the claim already had an equal piece (nothing changed).
        """
        old = self.pieces.get(piece.name)
        if old is not None:
            if old == piece:
                return False
            self.remove(piece.name)
        self.pieces[piece.name] = piece
        label = piece.owner
        adds = self._owner_adds
        for k in piece.keys:
            labels = adds.get(k)
            if labels is None:
                adds[k] = [label]
            else:
                labels.append(label)
        for obj in piece.objects:
            self._provide(obj)
        self._keys_edit[piece.name] = piece.keys
        self._intents_edit[piece.name] = piece.intent
        self._facts[piece.intent.facts] += 1
        if self.inactive and self._facts[piece.intent.facts] == 1:
            self._tail_dirty = True  # a capture interface may have come into use
        self._contribute(piece, 1)
        self._published = None
        return True

    def put_all(self, pieces: Sequence[ClaimPiece]) -> list[ClaimPiece]:
        """``put`` of every piece; returns the pieces that changed something, in order.

        Into an empty composition (a first pass, the reference engine, ``lower()``) the
        pieces are folded in one go: each key's object and owner set is written once, not
        once per claim. The result is the one ``put`` after ``put`` gives.
        """
        if not pieces:
            return []
        if not self.pieces:
            by_name = {p.name: p for p in pieces}
            if len(by_name) == len(pieces):
                self._fold(pieces, by_name)
                return list(pieces)
        return [p for p in pieces if self.put(p)]

    def _fold(self, pieces: Sequence[ClaimPiece], by_name: dict[str, ClaimPiece]) -> None:
        """Put ``pieces`` (distinct names, ``by_name``) into a composition holding none."""
        fold = _Fold(self._providers, self._conflicts)
        start = 0
        intents = list(map(_INTENT, pieces))
        runs = list(_runs(map(_FACTS, intents)))
        for facts, n in runs:
            run = pieces[start : start + n]
            start += n
            fold.shared(facts, list(map(_OWNER, run)))
            fold.own(run, len(facts.shared_keys))
        self.pieces = by_name
        # by_name holds the names in the pieces' order
        self._keys_edit.update(zip(by_name, map(_KEYS, pieces), strict=True))
        self._intents_edit.update(zip(by_name, intents, strict=True))
        self._objects.set_bases(fold.objects)
        self._owners.set_bases(fold.owners())
        for k in list(self._conflicts):
            self._resolve(k)
        self._contribute_all(pieces, runs)
        self._published = None

    def _contribute_all(
        self, pieces: Sequence[ClaimPiece], runs: list[tuple[ShapeFacts, int]]
    ) -> None:
        """What ``put`` counts of each piece (shapes, allowed IPs, clamps), for a fold: the
        shape, clamps and peer of a run once, and each claim's /32 for a WireGuard peer."""
        self._tail_dirty = self._tail_dirty or bool(self.inactive)
        start = 0
        for facts, n in runs:
            run = pieces[start : start + n]
            start += n
            self._facts[facts] += n
            for clamp in facts.clamps:
                self._add_mss(clamp, n)
            if facts.wg_public_key:
                peer = (facts.tunnel, facts.wg_public_key)
                for cidr, m in Counter(p.intent.address for p in run).items():
                    if _count(self._allowed, peer, cidr, m):
                        self._tail_dirty = True

    def remove(self, name: str) -> ClaimPiece | None:
        """Take a claim's piece out; returns it (None when there was none)."""
        piece = self.pieces.pop(name, None)
        if piece is None:
            return None
        self._write_owners()
        label = piece.owner
        owners = self._owners
        for k in piece.keys:
            left = (owners.base(k) or _NO_OWNERS).discard(label)
            owners.set_base(k, left or None)
        for obj in piece.objects:
            self._unprovide(obj.key)
        del self._keys_edit[name]
        del self._intents_edit[name]
        facts = piece.intent.facts
        self._facts[facts] -= 1
        if not self._facts[facts]:
            del self._facts[facts]
            self._tail_dirty = self._tail_dirty or bool(self.inactive)
        self._contribute(piece, -1)
        self._published = None
        return piece

    def set_context(self, context: RouterConfig) -> None:
        """Another context; the caller puts every claim's piece lowered against it."""
        self.context = context
        self._tail_dirty = True
        self._published = None

    def set_tail_inputs(
        self,
        *,
        generation: int,
        key_dir: str,
        public_keys: Mapping[str, str],
        capture_active: Mapping[str, bool] | None = None,
        gateway_standby: frozenset[str] = frozenset(),
    ) -> None:
        keys = Map(public_keys)
        inactive = _inactive(capture_active)
        now = (generation, key_dir, keys, inactive, gateway_standby)
        was = (self.generation, self.key_dir, self.public_keys, self.inactive, self.gateway_standby)
        if now != was:
            (
                self.generation,
                self.key_dir,
                self.public_keys,
                self.inactive,
                self.gateway_standby,
            ) = now
            self._tail_dirty = True
            self._published = None

    @property
    def standby(self) -> frozenset[str]:
        """Proxy-ARP capture interfaces in use whose capture is switched off (all of them
        while ``EVERY_INTERFACE`` is off)."""
        if not self.inactive:
            return frozenset()
        used = {f.capture_interface for f in self._facts if f.capture_type == "proxy-arp"}
        if EVERY_INTERFACE in self.inactive:
            return frozenset(used)
        return self.inactive & used

    def _provide(self, obj: DataplaneObject) -> None:
        k = obj.key
        objects = self._objects
        current = objects.base(k)
        if current is None:
            objects.set_base(k, obj)
            return
        self._providers[k] = self._providers.get(k, 1) + 1
        if current != obj or k in self._conflicts:
            self._conflicts.add(k)
            self._resolve(k)

    def _unprovide(self, k: Key) -> None:
        left = self._providers.pop(k, 1) - 1
        if left == 0:
            self._objects.set_base(k, None)
            self._conflicts.discard(k)
            return
        if left > 1:
            self._providers[k] = left
        if k in self._conflicts:
            self._resolve(k)

    def _resolve(self, k: Key) -> None:
        """The object of the smallest-named claim wanting ``k`` (claims disagree on it)."""
        found: dict[str, DataplaneObject] = {}
        self._write_owners()
        for label in self._owners.base(k) or ():
            piece = self.pieces.get(label[len(CLAIM_LABEL) :])
            if piece is not None:
                for obj in piece.objects:
                    if obj.key == k:
                        found[piece.name] = obj
        self._objects.set_base(k, found[min(found)])
        if len(set(found.values())) == 1:
            self._conflicts.discard(k)

    def _write_owners(self) -> None:
        """Write the owner labels ``put`` collected (before anything reads owners)."""
        if not self._owner_adds:
            return
        owners = self._owners
        for k, labels in self._owner_adds.items():
            owners.set_base(k, (owners.base(k) or _NO_OWNERS).add_all(labels))
        self._owner_adds = {}

    def _contribute(self, piece: ClaimPiece, n: int) -> None:
        for tunnel, peer_key, cidr in piece.allowed:
            if _count(self._allowed, (tunnel, peer_key), cidr, n):
                self._tail_dirty = True
        for entry in piece.mss:
            self._add_mss(entry, n)

    def _add_mss(self, entry: tuple[str, str, int], n: int) -> None:
        """Count a clamp up or down; the tail is dirty when the path's smallest one moved."""
        iif, oif, mss = entry
        counts = self._mss.get((iif, oif))
        before = min(counts) if counts else None
        _count(self._mss, (iif, oif), mss, n)
        counts = self._mss.get((iif, oif))
        if before != (min(counts) if counts else None):
            self._tail_dirty = True

    # -- results -------------------------------------------------------------------------

    def publish(self) -> Lowered:
        """The desired state as of now (the same object until something changes)."""
        self._write_owners()
        if self._tail_dirty:
            self._refresh_tail()
        if self._published is None:
            self._keys, self._intents = self._keys_edit.finish(), self._intents_edit.finish()
            self._keys_edit, self._intents_edit = self._keys.mutate(), self._intents.mutate()
            desired = DesiredState(
                self._objects.finish(), self._owners.finish(), self._keys, self.generation
            )
            self._published = Lowered(desired, self._intents)
        return self._published

    def take_changed_keys(self) -> set[Key]:
        """Keys whose desired object appeared, changed or went since the last call."""
        out = self._objects.written
        self._objects.written = set()
        return out

    def shared_keys(self) -> set[Key]:
        """Keys no single claim has to itself: what claims share (sysctls, the WireGuard
        device, the clamp table, including keys a user manages) and every tail key."""
        self.publish()
        out = set(self._tail)
        for facts in self._facts:
            out.update(facts.shared_keys)
        return out

    def links(self) -> set[str]:
        """Interfaces the claims rely on: tunnels, capture interfaces, WireGuard devices."""
        self.publish()
        out = {k[1] for k in self._tail if k[0] == "wg"}
        for facts in self._facts:
            out.add(facts.tunnel)
            if facts.capture_interface:
                out.add(facts.capture_interface)
        return out

    def _refresh_tail(self) -> None:
        inputs = TailInputs(
            allowed={k: frozenset(c) for k, c in self._allowed.items()},
            mss={path: min(c) for path, c in self._mss.items()},
            generation=self.generation,
            key_dir=self.key_dir,
            public_keys=self.public_keys,
            standby=self.standby,
            gateway_standby=self.gateway_standby,
        )
        tail = lower_tail(self.context, inputs)
        for k in self._tail.keys() - tail.keys():
            self._objects.set_tail(k, None)
            self._owners.set_tail(k, None)
        for k, entry in tail.items():
            old = self._tail.get(k)
            if old is None or old[0] is not entry[0]:
                self._objects.set_tail(k, entry[0])
            if old is None or old[1] != entry[1]:
                self._owners.set_tail(k, entry[1])
        self._tail = tail
        self._tail_dirty = False
        self._published = None


class _Fold:
    """Objects and owner labels of pieces folded at once (``Composition._fold``).

    Claims of one shape come in runs sharing one ``ShapeFacts``: a run's shared objects
    and keys are taken once with the run's labels, and only each claim's own objects are
    looked at one by one. The first object offered for a key holds it; every further one
    counts as a provider, and one that differs puts the key in conflict (resolved later).
    Owner sets are shared where the owners are: the keys a claim has to itself (its route,
    its absence) get one set, and so do the shared keys the same runs need.
    """

    def __init__(self, providers: dict[Key, int], conflicts: set[Key]) -> None:
        self.objects: dict[Key, DataplaneObject] = {}
        self.providers = providers
        self.conflicts = conflicts
        self._alone: dict[Key, PSet[str]] = {}  # keys one claim needs, so far
        self._labels: dict[Key, list[str]] = {}  # keys of several claims' own objects
        self._runs: list[list[str]] = []  # the labels of each run
        self._shared: dict[Key, list[int]] = {}  # key -> the runs needing it

    def shared(self, facts: ShapeFacts, owners: list[str]) -> None:
        """The shape's shared keys and objects, for the claims labelled ``owners``."""
        run = len(self._runs)
        self._runs.append(owners)
        shared = self._shared
        for k in facts.shared_keys:
            got = shared.get(k)
            if got is None:
                shared[k] = [run]
            else:
                got.append(run)
        n = len(owners)
        objects = self.objects
        for obj in facts.sysctls:
            k = obj.key
            current = objects.get(k)
            if current is None:
                objects[k] = obj
                if n > 1:
                    self.providers[k] = n
            else:
                self._again(k, current, obj, n)

    def own(self, run: Sequence[ClaimPiece], shared: int) -> None:
        """Each claim's own keys (its piece's keys before the ``shared`` keys of its shape)
        with their owner, and its own objects (keyed by the first of those keys)."""
        objects, alone, labels, one = self.objects, self._alone, self._labels, PSet.one
        seen = objects.get
        for p in run:
            owner = p.owner
            mine = None
            keys = p.keys
            for k in keys[: len(keys) - shared] if shared else keys:
                if k in alone or k in labels:
                    self._another(k, owner)
                else:
                    if mine is None:
                        mine = one(owner)
                    alone[k] = mine
            for obj, k in zip(p.own, keys, strict=False):
                current = seen(k)
                if current is None:
                    objects[k] = obj
                else:
                    self._again(k, current, obj, 1)

    def _another(self, k: Key, label: str) -> None:
        """A claim's own key some claim before it needs too (two claims of one address)."""
        first = self._alone.pop(k, None)
        if first is not None:
            self._labels[k] = [*first, label]
        else:
            self._labels[k].append(label)

    def owners(self) -> dict[Key, PSet[str]]:
        """Every key's owner set."""
        out = self._alone
        out.update((k, PSet(v)) for k, v in self._labels.items())
        sets: dict[tuple[int, ...], PSet[str]] = {}
        for k, runs in self._shared.items():
            sig = tuple(runs)
            got = sets.get(sig) if k not in out else None
            if got is None:
                labels = [label for r in runs for label in self._runs[r]]
                if k in out:  # a key some claims share and others have to themselves
                    out[k] = PSet([*out[k], *labels])
                    continue
                got = sets[sig] = PSet(labels)
            out[k] = got
        return out

    def _again(self, k: Key, current: DataplaneObject, obj: DataplaneObject, n: int) -> None:
        self.providers[k] = self.providers.get(k, 1) + n
        if current is not obj and current != obj:
            self.conflicts.add(k)


_INTENT, _FACTS = attrgetter("intent"), attrgetter("facts")
_OWNER, _KEYS = attrgetter("owner"), attrgetter("keys")


def _inactive(capture_active: Mapping[str, bool] | None) -> frozenset[str]:
    return frozenset(i for i, on in (capture_active or {}).items() if not on)


def _runs(values: Iterable[T]) -> Iterator[tuple[T, int]]:
    """Runs of one object (by identity) and their lengths: the claims of one shape share
    their facts and clamps, so a fold hashes each once per run, not once per claim."""
    it = iter(values)
    for first in it:
        last, n = first, 1
        for v in it:
            if v is last:
                n += 1
            else:
                yield last, n
                last, n = v, 1
        yield last, n


def _count(table: dict[K, Counter[T]], key: K, value: T, n: int) -> bool:
    """Count ``value`` under ``key`` up or down; True when it appeared or went."""
    counts = table.setdefault(key, Counter())
    before = counts[value]
    counts[value] = before + n
    if counts[value] <= 0:
        del counts[value]
        if not counts:
            del table[key]
    return (before > 0) != (before + n > 0)
