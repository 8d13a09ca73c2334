"""The plugin listing shown by the API and ``routerctl plugin``: configuration plus history.

One row per startup ``Plugin``: how it is triggered and where each trigger was declared, the
ttl its parts get, its last run from ``plugin_runs``, and whether the source's latest stored
generation is still active at ``now`` (D4 in docs/decisions.md: ``received_at + ttl``). Whether
the effective merge accepted that part (D3) is the merge's answer, not this listing's; see
``build_effective``. The store is optional so the listing works before the daemon has ever
written state.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.config import RouterConfig
from routerd.core.duration import format_duration
from routerd.core.plugins.binding import (
    TriggerInfo,
    find_plugin,
    source_of,
    source_ttl,
    triggers_for,
)
from routerd.core.resources import Plugin
from routerd.core.state_port import PluginRecords, PluginRun


@dataclass(frozen=True)
class PluginInfo:
    """What a person needs to know about one plugin.

    Attributes:
        ttl: the DynamicConfigSource ttl applied to its parts, or ``""`` when the plugin's own
            ``status.ttl`` applies (``ttl_origin`` says which).
        last_run: the newest ``plugin_runs`` row, or None.
        latest_generation: the newest stored generation of ``source``, or None.
        part_state: ``active``, ``expired`` or ``none`` for that generation at ``now``.
        part_expires_at: its expiry (epoch seconds), or None.
    """

    name: str
    source: str
    executable: str
    timeout: str
    triggers: tuple[TriggerInfo, ...]
    ttl: str
    ttl_origin: str
    last_run: PluginRun | None
    latest_generation: int | None
    part_state: str
    part_expires_at: float | None


def list_plugins(
    startup: RouterConfig, store: PluginRecords | None, now: float
) -> list[PluginInfo]:
    """Every startup Plugin, sorted by name, with its last run and latest part state."""
    return [_info(startup, p, store, now) for p in sorted(startup.of(Plugin), key=_name)]


def plugin_info(
    startup: RouterConfig, store: PluginRecords | None, name: str, now: float
) -> PluginInfo:
    """One plugin's row.

    Raises:
        NotFoundError: no such Plugin in the startup config.
    """
    return _info(startup, find_plugin(startup, name), store, now)


def _name(p: Plugin) -> str:
    return p.name


def _info(
    startup: RouterConfig, plugin: Plugin, store: PluginRecords | None, now: float
) -> PluginInfo:
    source = source_of(plugin.name)
    ttl = source_ttl(startup, plugin.name)
    runs = store.list_runs(plugin.name, limit=1) if store else []
    parts = store.list_parts(source) if store else []
    latest = max(parts, key=lambda p: p.generation, default=None)
    state = "none" if latest is None else ("expired" if latest.expired(now) else "active")
    return PluginInfo(
        name=plugin.name,
        source=source,
        executable=plugin.spec.executable,
        timeout=plugin.spec.timeout,
        triggers=tuple(triggers_for(startup, plugin)),
        ttl=format_duration(ttl[0]) if ttl else "",
        ttl_origin=ttl[1] if ttl else "PluginResult",
        last_run=runs[0] if runs else None,
        latest_generation=latest.generation if latest else None,
        part_state=state,
        part_expires_at=latest.expires_at if latest else None,
    )
