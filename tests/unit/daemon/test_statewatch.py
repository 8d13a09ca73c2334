"""The state database is checked while serving: damage and a swapped file become the store fault."""

from __future__ import annotations

import os

from routerd.daemon import statewatch
from routerd.state.store import Store
from tests.unit.state.test_guard import damage_middle, filled


def test_the_periodic_quick_check_finds_damage_queries_have_not_hit(tmp_path):
    db = filled(tmp_path)
    store = Store.open(tmp_path)
    assert statewatch.check_once(store, quick=True) == ""
    damage_middle(db)
    assert statewatch.check_once(store, quick=False) == "", "identity alone cannot see it"
    problem = statewatch.check_once(store, quick=True)
    assert problem and store.fault.startswith(problem)
    assert "routerd state check" in store.fault
    store.close()


def test_a_removed_database_is_reported(tmp_path):
    filled(tmp_path)
    store = Store.open(tmp_path)
    os.unlink(store.path)
    assert "was removed while routerd runs" in statewatch.check_once(store, quick=False)
    assert statewatch.check_once(store, quick=True) == store.fault, "the first finding stays"
    store.close()
