"""Find the shipped examples (source tree, or an installed wheel's data files).

Router configs live in ``examples/<provider>/{cloud,onprem}.yaml`` and simulated worlds in
``examples/worlds/<name>.yaml``; ``routerd demo``, the simulated lab and the tests read them
from the same place a user would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import routerd


def examples_dir() -> Path:
    """The examples directory: $ROUTERD_EXAMPLES, the source tree, or <prefix>/share."""
    candidates = []
    if os.environ.get("ROUTERD_EXAMPLES"):
        candidates.append(Path(os.environ["ROUTERD_EXAMPLES"]))
    candidates.append(Path(routerd.__file__).resolve().parents[1] / "examples")
    candidates.append(Path(sys.prefix) / "share" / "routerd" / "examples")
    for c in candidates:
        if (c / "azure" / "cloud.yaml").exists():
            return c
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"example configs not found (tried {tried}); set ROUTERD_EXAMPLES")


def example_text(provider: str, side: str) -> str:
    """The example Router config of one side (cloud or onprem) for one provider."""
    return (examples_dir() / provider / f"{side}.yaml").read_text(encoding="utf-8")


def world_file(name: str) -> Path:
    """An example World file (``examples/worlds/<name>.yaml``)."""
    return examples_dir() / "worlds" / f"{name}.yaml"
