"""Which startup resources configure a plugin: its Plugin, DynamicConfigSources and triggers.

A plugin is configured in up to two places: the ``Plugin`` (executable, timeout, env,
triggers) and any ``DynamicConfigSource`` whose ``pluginRef`` names it (ttl, more triggers).
The runner, the scheduler and the listing helper all need the same answers, so they are
computed here once, from the startup config only (a dynamic part can never configure a plugin).

Every run of plugin ``X`` writes to the dynamic source ``Plugin/X``, however many
DynamicConfigSources reference it; when several do, the shortest ttl applies (the most
cautious operator statement wins) and all their triggers are scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.config import RouterConfig
from routerd.core.errors import NotFoundError
from routerd.core.resources import DynamicConfigSource, Plugin, bare_name


def source_of(plugin: str) -> str:
    """The dynamic source identity a plugin's parts are stored under: ``Plugin/<name>``."""
    return f"Plugin/{plugin}"


@dataclass(frozen=True)
class TriggerInfo:
    """One configured trigger and where it was declared (``Plugin/x`` or a source)."""

    type: str
    every: str
    topic: str
    origin: str


def find_plugin(startup: RouterConfig, name: str) -> Plugin:
    """The startup ``Plugin`` called ``name`` (``Plugin/name`` is accepted too).

    Raises:
        NotFoundError: listing the plugins that exist.
    """
    plugin = startup.get(Plugin, name)
    if plugin is None:
        names = ", ".join(sorted(p.name for p in startup.of(Plugin))) or "none declared"
        raise NotFoundError(f"no Plugin {name!r} in the startup config (declared: {names})")
    return plugin


def sources_for(startup: RouterConfig, plugin: str) -> list[DynamicConfigSource]:
    """Every DynamicConfigSource whose pluginRef names ``plugin``, in config order."""
    return [
        s
        for s in startup.of(DynamicConfigSource)
        if bare_name(s.spec.plugin_ref, Plugin.KIND) == plugin
    ]


def source_ttl(startup: RouterConfig, plugin: str) -> tuple[float, str] | None:
    """The operator's ttl for ``plugin`` and the source that set it, or None.

    Returns:
        ``(seconds, "DynamicConfigSource/<name>")`` for the shortest referencing source.
    """
    sources = sources_for(startup, plugin)
    if not sources:
        return None
    best = min(sources, key=lambda s: s.spec.ttl_seconds)
    return best.spec.ttl_seconds, best.ref


def triggers_for(startup: RouterConfig, plugin: Plugin) -> list[TriggerInfo]:
    """The plugin's own triggers, then those of each source that references it."""
    out = [TriggerInfo(t.type, t.every, t.topic, plugin.ref) for t in plugin.spec.triggers]
    for s in sources_for(startup, plugin.name):
        out += [TriggerInfo(t.type, t.every, t.topic, s.ref) for t in s.spec.triggers]
    return out
