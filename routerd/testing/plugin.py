"""The pytest plugin of ``routerd.testing`` (entry point ``pytest11``: ``routerd``).

Fixtures:

* ``routerd_world`` — a function that starts a world and returns a ``RunningWorld``::

      def test_cutover(routerd_world):
          world = routerd_world(WORLD_YAML)          # or routerd_world(file=PATH)
          world.faults.inject("route-deleted", router="r1", address="10.0.0.9")
          assert world.claim("r1", "vm-9").state == "verified"

  Every world it started is closed when the test ends, pass or fail; a reconcile pass that
  crashed inside routerd fails the test at teardown.
* ``routerd_example_world`` — the shipped two-site example (examples/worlds/azure.yaml),
  already started.

Loading the plugin imports nothing heavy (it is loaded in every pytest session of an
environment with routerd installed); a session whose tests use the fixtures imports the
daemon side once, after collection, rather than inside its first test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .world import RunningWorld

WorldStarter = Callable[..., "RunningWorld"]
FIXTURES = ("routerd_world", "routerd_example_world")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if any(name in getattr(item, "fixturenames", ()) for item in items for name in FIXTURES):
        from routerd.daemon.world import preload

        preload()


@pytest.fixture
def routerd_world() -> Iterator[WorldStarter]:
    """Start simulated worlds: ``routerd_world(yaml)`` or ``routerd_world(file=PATH)``.

    Name: routerd_world / Scope: function / Depends: nothing (sockets in a fresh /tmp dir).
    """
    from .world import start_world

    started: list[RunningWorld] = []

    def start(yaml: str | None = None, **kwargs: Any) -> RunningWorld:
        world = start_world(yaml, **kwargs)
        started.append(world)
        return world

    yield start
    errors = [e for world in reversed(started) for e in world.close()]
    if errors:
        pytest.fail("routerd failed inside the simulated world: " + "; ".join(errors))


@pytest.fixture
def routerd_example_world(routerd_world: WorldStarter) -> RunningWorld:
    """The two-site example world (cloud and on-prem, one claim each way), started.

    Name: routerd_example_world / Scope: function / Depends: routerd_world.
    """
    from routerd.examples import world_file

    return routerd_world(file=Path(world_file("azure")))
