"""Records that cross between ``routerd.core`` and the state store.

The engine's event bus journals ``JournalEntry`` rows, the plugin listing shows
``PluginRun`` rows, and every caller that opens a store handles ``StoreError``. They are
plain data, so core defines them and the SQLite store (``routerd.state``) reads and writes
them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One claim transition as journaled and streamed to watchers."""

    seq: int
    claim: str
    address: str
    from_state: str
    to_state: str
    trigger: str
    reason: str
    message: str
    at: float
    generation: int


@dataclass(frozen=True)
class PluginRun:
    id: int
    plugin: str
    trigger_type: str
    trigger_topic: str
    started_at: float
    completed_at: float | None
    exit_code: int | None
    status: str
    stdout_digest: str
    stderr: str
    error: str
    generation: int | None


class StoreError(RuntimeError):
    """The state store cannot be opened or is from a newer routerd."""
