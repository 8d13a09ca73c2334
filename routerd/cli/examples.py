"""Find the shipped example configs (source tree, or an installed wheel's data files)."""

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
    return (examples_dir() / provider / f"{side}.yaml").read_text(encoding="utf-8")
