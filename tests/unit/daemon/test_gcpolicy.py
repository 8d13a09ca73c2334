"""The daemon's GC policy (``routerd.daemon.gcpolicy``): why it exists is in its docstring."""

from __future__ import annotations

import gc

from routerd.daemon import gcpolicy


def test_apply_sets_rarer_young_collections_process_wide():
    before = gc.get_threshold()
    try:
        gcpolicy.apply()
        assert gc.get_threshold() == gcpolicy.THRESHOLDS
        assert gc.get_threshold()[0] > before[0] and gc.isenabled()
    finally:
        gc.set_threshold(*before)
