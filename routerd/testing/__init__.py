"""Test your automation against routerd without root or a cloud: simulated worlds in-process.

``start_world(yaml)`` starts every router of a World document (real engines and APIs over
the simulated dataplane, a virtual clock) and returns a ``RunningWorld``: gRPC channels per
router plus ``SimService`` helpers (faults, VM moves, packet traces, the clock). The pytest
plugin (``routerd.testing.plugin``, registered as a ``pytest11`` entry point, so installing
routerd is enough) gives the ``routerd_world`` fixture that starts worlds and tears them
down. docs/testing-automation.md walks through it.

Public API (stable): ``start_world``, ``running_world``, ``RunningWorld``, ``SimClient``,
``Faults``, ``example_world``.
"""

from __future__ import annotations

from pathlib import Path

from routerd.examples import world_file

from .client import Faults, SimClient
from .world import RunningWorld, running_world, start_world


def example_world(name: str = "azure") -> Path:
    """The path of a shipped World file (``examples/worlds/<name>.yaml``: azure, aws, oci, gcp)."""
    return world_file(name)


__all__ = [
    "Faults",
    "RunningWorld",
    "SimClient",
    "example_world",
    "running_world",
    "start_world",
]
