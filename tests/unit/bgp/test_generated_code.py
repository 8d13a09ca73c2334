"""The committed GoBGP stubs are exactly what tools/genbgp makes from the vendored protos,
and the vendored protos are GoBGP's own (when Debian's copy is installed to compare)."""

from __future__ import annotations

import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "routerd" / "bgp" / "gobgpapi"


@pytest.fixture(scope="module")
def genbgp() -> ModuleType:
    """Name: genbgp / Scope: module / Depends: none. The tools/genbgp script as a module."""
    loader = SourceFileLoader("genbgp", str(ROOT / "tools" / "genbgp"))
    spec = importlib.util.spec_from_loader("genbgp", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_committed_stubs_match_the_vendored_protos(genbgp: ModuleType, tmp_path: Path) -> None:
    fresh = {p.name: p.read_text() for p in genbgp.generate(tmp_path)}
    committed = {
        p.name: p.read_text() for p in sorted(COMMITTED.iterdir()) if p.name != "__init__.py"
    }
    assert sorted(fresh) == sorted(committed), "run tools/genbgp and commit routerd/bgp/gobgpapi"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated files {stale}: run tools/genbgp"


def test_generated_modules_import_each_other_from_the_package() -> None:
    text = (COMMITTED / "attribute_pb2.py").read_text()
    assert "from routerd.bgp.gobgpapi import gobgp_pb2" in text
    from routerd.bgp.gobgpapi import gobgp_pb2

    service = gobgp_pb2.DESCRIPTOR.services_by_name["GobgpApi"]
    assert service.full_name == "apipb.GobgpApi", "the wire names stay GoBGP's"
    assert {"StartBgp", "AddPeer", "AddPathStream", "WatchEvent", "ListPath"} <= {
        m.name for m in service.methods
    }


def test_vendored_protos_are_gobgps(genbgp: ModuleType) -> None:
    if not genbgp.DEBIAN_DIR.is_dir():
        pytest.skip(f"{genbgp.DEBIAN_DIR} not installed (golang-github-osrg-gobgp-dev)")
    for name in genbgp.PROTOS:
        vendored = (genbgp.VENDORED / name).read_bytes()
        assert vendored == (genbgp.DEBIAN_DIR / name).read_bytes(), (
            f"proto/gobgp/{name} differs from the installed GoBGP's: "
            "run tools/genbgp --refresh-from " + str(genbgp.DEBIAN_DIR)
        )
