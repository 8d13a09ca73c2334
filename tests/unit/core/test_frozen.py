"""``routerd.core.frozen.maker``: the fast constructor makes the instance ``cls(...)`` does."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from routerd.core.desired import MAIN_TABLE, AbsentAddress, Route, Sysctl, route_key
from routerd.core.frozen import maker
from routerd.core.lowering import ClaimIntent, ClaimPiece, ShapeFacts
from routerd.core.port import Change


def _facts() -> ShapeFacts:
    sysctls = (Sysctl("net.ipv4.ip_forward", "1"),)
    return ShapeFacts("proxy-arp", "ens19", "wg0", "p", "", "", "", None, (), (), sysctls, ())


def _same(a: object, b: object) -> None:
    assert type(a) is type(b)
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b)
    for f in dataclasses.fields(a):  # type: ignore[arg-type]
        assert getattr(a, f.name) == getattr(b, f.name)  # compare=False fields too


def test_a_made_route_is_the_route_the_class_makes_key_included():
    made = maker(Route)("10.0.0.1/32", "wg0", 120, "", MAIN_TABLE, "unicast")
    _same(made, Route("10.0.0.1/32", "wg0", 120))
    assert made.key == ("route", "254", "10.0.0.1/32")  # __post_init__ ran
    other = maker(Route)("10.0.0.1/32", "wg0", 120, "", 7, "blackhole")
    _same(other, Route("10.0.0.1/32", "wg0", 120, table=7, type="blackhole"))


def test_made_intents_pieces_and_changes_equal_constructed_ones_and_stay_frozen():
    facts = _facts()
    route = Route("10.0.0.1/32", "wg0", 120)
    args = ("c1", "10.0.0.1/32", "10.0.0.1", facts, True, "dom", "")
    intent = maker(ClaimIntent)(*args)
    _same(intent, ClaimIntent(*args))
    piece_args = ("c1", "RemoteAddressClaim/c1", intent, (route,), (route.key,))
    piece = maker(ClaimPiece)(*piece_args)
    _same(piece, ClaimPiece(*piece_args))
    assert piece.objects == (route, *facts.sysctls)
    change = maker(Change)("add", route.key, route, None, ("RemoteAddressClaim/c1",))
    _same(change, Change("add", route.key, new=route, owners=("RemoteAddressClaim/c1",)))
    for obj in (intent, piece, change):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, dataclasses.fields(obj)[0].name, "x")


def test_every_field_must_be_given():
    with pytest.raises(TypeError):
        maker(Route)("10.0.0.1/32", "wg0")


def test_classes_it_cannot_make_the_same_way_are_refused():
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class HiddenDefault:
        a: int
        b: list[int] = field(init=False, default_factory=list)

    for cls in (NoSlots, NotFrozen, HiddenDefault):
        with pytest.raises(TypeError, match=cls.__name__):
            maker(cls)


def test_a_route_made_with_its_key_given_equals_the_constructed_one():
    made = maker(Route, ("_key",))(
        "10.0.0.1/32", "wg0", 120, "", MAIN_TABLE, "unicast", route_key("10.0.0.1/32")
    )
    _same(made, Route("10.0.0.1/32", "wg0", 120))
    assert made.key == Route("10.0.0.1/32", "wg0", 120).key == ("route", "254", "10.0.0.1/32")
    absent = maker(AbsentAddress, ("_key",))("10.0.0.1", (), (), ("absent", "10.0.0.1"))
    _same(absent, AbsentAddress("10.0.0.1"))
    assert absent.key == AbsentAddress("10.0.0.1").key


def test_derived_must_name_fields_post_init_derives():
    with pytest.raises(TypeError, match="dst"):
        maker(Route, ("dst",))
