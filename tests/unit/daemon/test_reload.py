"""Reload of an unchanged file: "reload: no changes", same generation, same running config.

The reload thread digests the new file; when it equals the config last handed to the
engine, the engine keeps its config (and what it derived from it) and only takes a fresh
look on its next pass, which re-reads WireGuard key files as a reload always did.
"""

from __future__ import annotations

import logging

import pytest

from tests.unit.daemon import harness
from tests.unit.daemon.test_service import NEW_ADDRESS, _address, _move_claim


def test_reloading_an_unchanged_file_changes_nothing(tmp_path, monkeypatch, caplog):
    rig = harness.build(tmp_path, monkeypatch)
    engine = rig.daemon.engine
    engine.run_pass()
    running, generation, applied = engine.startup, engine.generation, len(rig.host.applied)
    with caplog.at_level(logging.INFO):
        assert rig.daemon.reload() is True
    result = engine.run_pass()
    assert engine.startup is running and engine.generation == generation
    assert result.changes == 0 and len(rig.host.applied) == applied
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("reload: no changes") for m in logged), logged
    assert not any(m.startswith("reload accepted") for m in logged), logged


def test_a_changed_file_then_the_old_one_again_both_reach_the_engine(tmp_path, monkeypatch):
    # Compared with what was last handed over, not with what the engine runs: the second
    # reload happens before the engine took the first.
    rig = harness.build(tmp_path, monkeypatch)
    engine = rig.daemon.engine
    engine.run_pass()
    original, generation = _address(rig), engine.generation
    good = rig.config_path.read_text()
    _move_claim(rig, good)
    assert rig.daemon.reload() is True
    rig.config_path.write_text(good)
    assert rig.daemon.reload() is True
    engine.run_pass()
    assert _address(rig) == original != NEW_ADDRESS
    assert engine.generation == generation  # the effective config ended where it was
    _move_claim(rig, good)
    assert rig.daemon.reload() is True
    engine.run_pass()
    assert _address(rig) == NEW_ADDRESS and engine.generation == generation + 1


def test_an_unchanged_reload_still_reads_the_key_file_again(tmp_path, monkeypatch):
    rig = harness.build(tmp_path, monkeypatch)
    engine = rig.daemon.engine
    engine.run_pass()
    # An operator removed the key: a reload generates a new one (D11, docs/decisions.md).
    rig.key_file.unlink()
    assert rig.daemon.reload() is True
    engine.run_pass()
    assert rig.key_file.exists()


def test_the_reference_engine_reconciles_the_same_and_looks_at_everything(tmp_path, monkeypatch):
    from routerd.cli.routerd_main import build_parser

    args = build_parser().parse_args(["serve", "-c", "x.yaml", "--reference-engine"])
    assert args.reference_engine and args.full_pass_interval == 60.0
    states = []
    for reference in (False, True):
        root = tmp_path / str(reference)
        root.mkdir()
        rig = harness.build(root, monkeypatch, reference_engine=reference)
        engine = rig.daemon.engine
        assert engine.settings.reference is reference
        results = [engine.run_pass() for _ in range(3)]
        assert all(r.full for r in results) is reference  # incremental: only the first is
        states.append({n: (v.state, v.reason) for n, v in engine.snapshot.claims.items()})
    assert states[0] == states[1] == {harness.CLAIM: ("verified", "")}


def test_journal_keep_bounds_the_daemons_claim_journal(tmp_path, monkeypatch, capsys):
    from routerd.cli.routerd_main import build_parser

    parser = build_parser()
    assert parser.parse_args(["serve", "-c", "x.yaml"]).journal_keep == 1_000_000
    assert parser.parse_args(["serve", "-c", "x.yaml", "--journal-keep", "0"]).journal_keep == 0
    for bad, why in (("-1", "must be 0 (keep all) or more, not -1"), ("many", "not a whole")):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "-c", "x.yaml", "--journal-keep", bad])
        assert why in capsys.readouterr().err
    rig = harness.build(tmp_path, monkeypatch, journal_keep=1)
    store = rig.daemon.store
    rig.daemon.engine.run_pass()  # pending -> captured -> delivering -> verified: 3 rows
    store.settle()
    [kept] = store.journal()
    assert (kept.seq, kept.to_state) == (3, "verified")
    store.close()
