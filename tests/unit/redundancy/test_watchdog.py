"""The hang rules: silence while master, or a partner master while ours is silent."""

from __future__ import annotations

import pytest

from routerd.redundancy.adverts import Advert
from routerd.redundancy.watchdog import HangWatch

OURS = Advert("10.40.8.2", 42, 150, 0.1, outgoing=True)
PARTNER = Advert("10.40.8.3", 42, 100, 0.1, outgoing=False)


def master_at(t: float) -> HangWatch:
    w = HangWatch(42, 0.1)
    w.became_master(t)
    return w


def test_not_armed_until_an_own_advert_is_seen():
    w = master_at(10.0)
    assert w.deadline(master=True) is None  # a socket blind to our adverts never kills
    w.advert(OURS, 10.01, master=True)
    assert w.deadline(master=True) == pytest.approx(10.26)
    assert w.deadline(master=False) is None  # a backup does not advertise


def test_each_own_advert_moves_the_deadline_and_silence_is_explained():
    w = master_at(10.0)
    for t in (10.0, 10.1, 10.2):
        w.advert(OURS, t + 0.001, master=True)
    assert w.deadline(master=True) == pytest.approx(10.451)
    assert w.silence(10.5) == "master, but ours sent no advert for 299 ms"


def test_partner_master_while_ours_is_silent_is_a_hang():
    w = master_at(10.0)
    w.advert(OURS, 10.0, master=True)
    assert w.advert(PARTNER, 10.15, master=True) is None  # ours advertised 150 ms ago
    why = w.advert(PARTNER, 10.35, master=True)
    assert why == "10.40.8.3 advertises as master while ours sent none for 350 ms"


def test_a_hang_right_at_the_transition_is_seen_from_the_partner():
    w = master_at(10.0)  # no advert of ours at all since
    assert w.advert(PARTNER, 10.3, master=True) is not None


def test_an_excused_silence_is_counted_again_from_the_excuse():
    w = master_at(10.0)
    w.advert(OURS, 10.01, master=True)
    assert w.deadline(master=True) == pytest.approx(10.26)
    w.excuse(10.26)  # e.g. the kernel holds our adverts: look again 2.5 intervals later
    assert w.deadline(master=True) == pytest.approx(10.51)
    assert w.silence(10.51) == "master, but ours sent no advert for 500 ms"  # the real length
    # a partner master while ours is silent is still a hang: two masters, excuse or not
    assert w.advert(PARTNER, 10.51, master=True) is not None
    w.advert(OURS, 10.6, master=True)
    assert w.deadline(master=True) == pytest.approx(10.85)  # our advert counts again


def test_what_is_not_a_hang():
    w = master_at(10.0)
    assert w.advert(PARTNER, 11.0, master=False) is None  # we are backup: it is the master
    assert w.advert(Advert("10.40.8.3", 42, 0, 0.1, False), 11.0, master=True) is None
    assert w.advert(Advert("10.40.8.3", 7, 100, 0.1, False), 11.0, master=True) is None
    assert w.advert(Advert("10.40.8.2", 7, 150, 0.1, True), 11.0, master=True) is None
    assert not w.own_seen()  # another VRID's advert is not ours
