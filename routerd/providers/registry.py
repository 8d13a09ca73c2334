"""The explicit map from ``CloudProviderProfile.spec.provider`` to its ``Provider``.

No plugin discovery, no entry points: adding a cloud means adding a package and one line
here, and a reader of this file sees every provider routerd knows (style rule 3, after
cloud-init's ``net/renderers.py``). ``detect_provider`` tries the cheap DMI checks in a
fixed order and never touches the network.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from routerd.core.errors import ProviderError
from routerd.providers.aws.profile import PROVIDER as AWS
from routerd.providers.azure.profile import PROVIDER as AZURE
from routerd.providers.base import Provider
from routerd.providers.gcp.profile import PROVIDER as GCP
from routerd.providers.oci.profile import PROVIDER as OCI

if TYPE_CHECKING:
    from routerd.providers.executor import Executor

NAME_TO_PROVIDER: dict[str, Provider] = {
    "azure": AZURE,
    "aws": AWS,
    "oci": OCI,
    "gcp": GCP,
}
DETECT_ORDER = ("azure", "aws", "oci", "gcp")
"""The DMI signatures are disjoint; the order only fixes which check runs first."""


def get_provider(name: str) -> Provider:
    """The provider for a ``spec.provider`` value.

    Raises:
        KeyError: with the list of known providers.
    """
    try:
        return NAME_TO_PROVIDER[name]
    except KeyError:
        known = ", ".join(NAME_TO_PROVIDER)
        raise KeyError(f"unknown provider {name!r}; known: {known}") from None


def detect_provider(*, root: str = "/") -> Provider | None:
    """The cloud this host runs in according to DMI, or None (no network calls).

    Args:
        root: filesystem root holding ``sys/class/dmi/id`` (tests pass a fake tree).
    """
    for name in DETECT_ORDER:
        if NAME_TO_PROVIDER[name].detect(root=root):
            return NAME_TO_PROVIDER[name]
    return None


EXECUTORS = {
    "aws": ("routerd.providers.aws.executor", "AwsExecutor"),
    "azure": ("routerd.providers.azure.executor", "AzureExecutor"),
    "oci": ("routerd.providers.oci.executor", "OciExecutor"),
    "gcp": ("routerd.providers.gcp.executor", "GcpExecutor"),
}
"""Executor classes by provider; imported only when one is built (each needs its SDK)."""


def build_executor(name: str, config: Any, **scope: Any) -> Executor:
    """Build the executor of provider ``name``; its SDK is imported now, not before.

    Args:
        name: ``aws`` | ``azure`` | ``oci`` | ``gcp``.
        config: an ``ExecutorConfig``.
        scope: what the cloud needs besides the config: ``subscription`` (Azure),
            ``project`` (GCP).

    Raises:
        ProviderError: unknown provider, or its SDK is not installed (with the extra to
            install).
    """
    get_provider(name)
    module, cls = EXECUTORS[name]
    try:
        executor: Executor = getattr(importlib.import_module(module), cls)(config, **scope)
    except ModuleNotFoundError as e:
        raise ProviderError(
            f"the {name} executor needs its SDK ({e.name} is not installed): "
            f"pip install 'routerd[{name}]'",
            supporting_data={"provider": name, "missing": str(e.name)},
        ) from None
    return executor
