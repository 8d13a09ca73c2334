"""Fixtures for the docs tests: the generator, and the pages whose commands are checked.

``tools/gendocs`` is a script (no ``.py``), so it is loaded from its path; importing it runs
nothing but definitions.
"""

from __future__ import annotations

import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
GENDOCS = ROOT / "tools" / "gendocs"
DOCS = ROOT / "docs"


def pages() -> list[Path]:
    """The hand-written pages: README.md, docs/*.md (the generated references excluded) and
    every README under examples/ (they show commands too)."""
    examples = sorted((ROOT / "examples").rglob("README*.md"))
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *examples]


@pytest.fixture(scope="session")
def gendocs() -> ModuleType:
    """Name: gendocs / Scope: session / Depends: none. The tools/gendocs module."""
    loader = SourceFileLoader("gendocs", str(GENDOCS))
    spec = importlib.util.spec_from_loader("gendocs", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
