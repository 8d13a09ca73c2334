"""RouterConfig's digest: the canonical JSON's SHA-256, cached, and assembled per resource."""

from __future__ import annotations

import hashlib
import json

from routerd.core.config import RouterConfig
from tests.unit.core.test_effective import claim
from tests.unit.core.test_validation import ONPREM, load


def reference_digest(config: RouterConfig) -> str:
    """The definition: SHA-256 of the whole document, serialised in one go."""
    blob = json.dumps(config.to_doc(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def startup() -> RouterConfig:
    r = load(ONPREM)
    assert r.config is not None
    return r.config


def test_digest_is_the_canonical_documents_hash():
    cfg = startup()
    assert cfg.digest() == reference_digest(cfg)
    c = claim("odd", "10.40.8.44/32")
    meta = c.metadata.model_copy(update={"annotations": {"note": 'ünïcode "quoted" \\ \n'}})
    odd = RouterConfig('na"me é', [*cfg, c.model_copy(update={"metadata": meta})])
    assert odd.digest() == reference_digest(odd)
    assert RouterConfig("empty", []).digest() == reference_digest(RouterConfig("empty", []))


def test_sharing_keeps_resources_and_drops_lines():
    cfg = startup()
    assert cfg.lines
    shared = RouterConfig.sharing(cfg)
    assert shared.resources is cfg.resources and shared.lines == {}
    assert shared.digest() == cfg.digest() == reference_digest(cfg)


def test_extending_indexes_like_building_anew():
    cfg = startup()
    more = [claim("x1", "10.40.8.201/32"), claim("cloud-vm-21", "10.40.8.202/32")]  # a dup
    ext = RouterConfig.extending(cfg, more)
    new = RouterConfig(cfg.name, [*cfg, *more], file=cfg.file)
    assert ext.resources == new.resources and ext.lines == {} and ext.file == new.file
    kinds = {type(r) for r in new}
    assert all(ext.of(k) == new.of(k) for k in kinds)
    assert all(ext.find(r.kind, r.name) is new.find(r.kind, r.name) for r in new)
    assert ext.digest() == new.digest() == reference_digest(new)
    assert [r.name for r in cfg.of(type(more[0]))] == ["cloud-vm-21"]  # the base is untouched
