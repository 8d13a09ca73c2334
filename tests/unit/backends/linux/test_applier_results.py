"""The applier's successful results are the ``ChangeResult`` the dataclass makes."""

from __future__ import annotations

import dataclasses

import pytest

from routerd.backends.linux.applier import _done
from routerd.core.port import Change, ChangeResult


def test_a_success_is_made_as_the_dataclass_makes_it():
    c = Change("add", ("route", "254", "10.0.0.1/32"), None, None, ("RemoteAddressClaim/a",))
    got, want = _done(c), ChangeResult(c, True)
    assert type(got) is ChangeResult
    assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
    assert (got.change, got.ok, got.error, got.errno, got.retryable) == (c, True, "", None, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.ok = False  # type: ignore[misc]
