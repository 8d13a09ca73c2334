"""Cloud providers: capture prerequisites, nicRef formats, action plans, metadata readers.

One package per cloud (``azure``, ``aws``, ``oci``, ``gcp``), mutually independent, sharing
only ``base``, ``metadata`` and ``dmi``; ``registry`` names them all explicitly.

The public entry points are resolved lazily (PEP 562) on purpose: importing any provider
subpackage imports this package first, and an eager import of the registry here would load
``<cloud>.imds`` before ``python -m routerd.providers.<cloud>.imds`` runs it as
``__main__`` (runpy then warns that the module was already imported).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routerd.providers.action import action_plans
    from routerd.providers.assignment import check_address_assigned
    from routerd.providers.base import ActionPlan, InstanceMetadata, Nic, Provider
    from routerd.providers.check import config_checks
    from routerd.providers.registry import NAME_TO_PROVIDER, detect_provider, get_provider

_EXPORTS = {
    "action_plans": "routerd.providers.action",
    "check_address_assigned": "routerd.providers.assignment",
    "config_checks": "routerd.providers.check",
    "ActionPlan": "routerd.providers.base",
    "InstanceMetadata": "routerd.providers.base",
    "Nic": "routerd.providers.base",
    "Provider": "routerd.providers.base",
    "NAME_TO_PROVIDER": "routerd.providers.registry",
    "detect_provider": "routerd.providers.registry",
    "get_provider": "routerd.providers.registry",
}

__all__ = [
    "NAME_TO_PROVIDER",
    "ActionPlan",
    "InstanceMetadata",
    "Nic",
    "Provider",
    "action_plans",
    "check_address_assigned",
    "config_checks",
    "detect_provider",
    "get_provider",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routerd.providers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
