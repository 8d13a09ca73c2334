"""Test your automation against routerd without root or a cloud: simulated worlds in-process.

``start_world(yaml)`` starts every router of a World document (real engines and APIs over
the simulated dataplane, a virtual clock) and returns a ``RunningWorld``: gRPC channels per
router plus ``SimService`` helpers (faults, partitions, VM moves, route exchange, packet
traces, the clock). The pytest
plugin (``routerd.testing.plugin``, registered as a ``pytest11`` entry point, so installing
routerd is enough) gives the ``routerd_world`` fixture that starts worlds and tears them
down. docs/testing-automation.md walks through it.

Names are imported on first use: pytest loads the plugin (and so this package) in every
session of an environment where routerd is installed, and most never start a world.

Public API (stable): ``start_world``, ``running_world``, ``RunningWorld``, ``SimClient``,
``Faults``, ``Partitions``, ``example_world``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Faults, Partitions, SimClient
    from .world import RunningWorld, running_world, start_world

_EXPORTS = {
    "Faults": "routerd.testing.client",
    "Partitions": "routerd.testing.client",
    "SimClient": "routerd.testing.client",
    "RunningWorld": "routerd.testing.world",
    "running_world": "routerd.testing.world",
    "start_world": "routerd.testing.world",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routerd.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def example_world(name: str = "azure") -> Path:
    """The path of a shipped World file (``examples/worlds/<name>.yaml``: azure, aws, oci, gcp)."""
    from routerd.examples import world_file

    return world_file(name)


__all__ = [
    "Faults",
    "Partitions",
    "RunningWorld",
    "SimClient",
    "example_world",
    "running_world",
    "start_world",
]
