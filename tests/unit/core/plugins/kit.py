"""Helpers for plugin tests: result documents, resource documents and startup configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.loader import load_text

PLUGIN_API = "plugin.routerd.net/v1alpha1"

ScriptFactory = Callable[[str, str], str]
"""``script(name, body) -> absolute path`` (the ``script`` fixture)."""


def result_doc(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": PLUGIN_API,
        "kind": "PluginResult",
        "metadata": {"name": "t"},
        "status": status,
    }


def printing(status: dict[str, Any], *, pre: str = "", post: str = "") -> str:
    """A shell body: run ``pre``, print a PluginResult with ``status``, run ``post``."""
    return f"{pre}\ncat <<'JSON'\n{json.dumps(result_doc(status))}\nJSON\n{post}\n"


def plugin_doc(name: str, executable: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": PLUGIN_API,
        "kind": "Plugin",
        "metadata": {"name": name},
        "spec": {"executable": executable, **spec},
    }


def source_doc(name: str, plugin: str, ttl: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": PLUGIN_API,
        "kind": "DynamicConfigSource",
        "metadata": {"name": name},
        "spec": {"pluginRef": plugin, "ttl": ttl, **spec},
    }


def router(*docs: dict[str, Any], name: str = "rt-test") -> RouterConfig:
    """A validated startup config holding ``docs`` (fails the test if it is invalid)."""
    text = json.dumps(
        {
            "apiVersion": "routerd.net/v1alpha1",
            "kind": "Router",
            "metadata": {"name": name},
            "spec": {"resources": list(docs)},
        }
    )
    loaded = load_text(text)
    assert loaded.config is not None, [e.render() for e in loaded.errors]
    return loaded.config


def process_gone(pid: int) -> str | None:
    """None when ``pid`` no longer runs (absent or a zombie), else a diagnosis."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None
    return None if state == "Z" else f"pid {pid} still running (state {state})"
