"""Plugins: external executables that observe the world and propose dynamic config parts.

The package is split by concern: ``process`` (how a child runs: no shell, clean env,
deadline, process-group kill, capped output), ``protocol`` (PluginRequest/PluginResult),
``runner`` (one run -> candidate part -> store), ``scheduler`` (interval triggers, D12 in
docs/decisions.md),
``binding`` (which startup resources configure a plugin) and ``catalog`` (the listing for the
API and CLI). Plugins never change the dataplane themselves: their parts go through
``build_effective`` like any other dynamic config, and their action plans are display-only.
"""

from __future__ import annotations

from routerd.core.plugins.binding import (
    TriggerInfo,
    find_plugin,
    source_of,
    source_ttl,
    sources_for,
    triggers_for,
)
from routerd.core.plugins.catalog import PluginInfo, list_plugins, plugin_info
from routerd.core.plugins.port import LaunchError
from routerd.core.plugins.protocol import (
    INTERVAL,
    MANUAL,
    PluginResult,
    ResultDecodeError,
    RunTrigger,
    build_request,
    decode_result,
)
from routerd.core.plugins.runner import PluginOutcome, dry_run_plugin, run_plugin
from routerd.core.plugins.scheduler import ERROR_DELAYS, PluginScheduler

__all__ = [
    "ERROR_DELAYS",
    "INTERVAL",
    "MANUAL",
    "LaunchError",
    "PluginInfo",
    "PluginOutcome",
    "PluginResult",
    "PluginScheduler",
    "ResultDecodeError",
    "RunTrigger",
    "TriggerInfo",
    "build_request",
    "decode_result",
    "dry_run_plugin",
    "find_plugin",
    "list_plugins",
    "plugin_info",
    "run_plugin",
    "source_of",
    "source_ttl",
    "sources_for",
    "triggers_for",
]
