"""Claim views: the first pass's walk of the intents gives what setting each view gives."""

from __future__ import annotations

import pytest

from routerd.core.persistent import EMPTY_MAP, Map
from tests.unit.core.test_engine_scope import Rig

N = 40


@pytest.mark.parametrize("pick", ["every", "split", "all but one", "a few"])
def test_first_views_are_those_the_general_path_sets(tmp_path, pick):
    rig = Rig(tmp_path, N)
    rig.engine.run_pass()
    table = rig.engine.claims
    table.lifecycle.claims["c3"].state = "degraded"  # views copy the machines as they are
    table.origins["c5"] = "elsewhere"
    every = sorted(table.comp.publish().claims)
    assert len(every) == N
    touched = {
        "every": ({*every}, set(), {"c7"}),
        "split": ({*every[::2]}, {*every[1::2], "c4"}, {"gone"}),  # overlapping, one not a claim
        "all but one": ({*every[1:], "gone"}, {"went"}, set()),  # as many names as intents
        "a few": ({"c3", "c5"}, {"gone"}, set()),  # fewer names than intents
    }[pick]
    table.views = EMPTY_MAP  # no views yet: the first-pass form
    table.update_views(touched, [])
    first = table.views
    sentinel = next(iter(first.values()))
    table.views = Map({"sentinel": sentinel})  # a view to keep: the general form
    table.update_views(touched, [])
    general = table.views.delete("sentinel")
    assert first == general
    assert set(first) == set().union(*touched) - {"gone", "went"}
    models, origins = table.lifecycle.claims, table.origins
    assert all(v.state == models[n].state and v.origin == origins[n] for n, v in first.items())
    assert first["c3"].state == "degraded" and first["c5"].origin == "elsewhere"
