"""Executors for executing profiles: one per CloudProviderProfile, built from its spec.

A profile says where its cloud is (``region``, ``subnet``, Azure's ``subscriptionID``, GCP's
``project``); credentials never appear in it: every executor takes them from the instance
identity or its SDK's default chain. Two environment variables point every executor at
another API endpoint, for local test doubles and labs (as ``ROUTERD_IMDS_URL`` does for the
metadata readers):

* ``ROUTERD_PROVIDER_ENDPOINT``: the cloud API's base URL. A plain ``http://`` URL is only
  accepted through this variable (the SDK would send its token over it);
* ``ROUTERD_PROVIDER_AUTH_ENDPOINT``: OCI's federation endpoint (instance principals).

An executor is rebuilt when its profile's spec changes, and kept otherwise (its inventory
cache and remembered keys live in it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from routerd.core.resources import CloudProviderProfile
from routerd.providers.execution import ExecutorConfig
from routerd.providers.executor import Executor
from routerd.providers.registry import build_executor

ENDPOINT_ENV = "ROUTERD_PROVIDER_ENDPOINT"
AUTH_ENDPOINT_ENV = "ROUTERD_PROVIDER_AUTH_ENDPOINT"


def executor_config(profile: CloudProviderProfile, env: Mapping[str, str]) -> ExecutorConfig:
    """The executor settings of ``profile`` (endpoints from ``env``, never credentials)."""
    endpoint = env.get(ENDPOINT_ENV, "") or None
    return ExecutorConfig(
        region=profile.spec.region,
        subnet=profile.spec.subnet,
        endpoint=endpoint,
        auth_endpoint=env.get(AUTH_ENDPOINT_ENV, "") or None,
        allow_http=bool(endpoint and endpoint.lower().startswith("http://")),
    )


def executor_scope(profile: CloudProviderProfile) -> dict[str, Any]:
    """What the cloud's executor needs besides its config (Azure subscription, GCP project)."""
    if profile.spec.provider == "azure":
        return {"subscription": profile.spec.subscription_id}
    if profile.spec.provider == "gcp":
        return {"project": profile.spec.project}
    return {}


class ExecutorFactory:
    """Builds and keeps one executor per profile (thread-safe).

    Args:
        env: where the endpoint overrides are read (default: the process environment).
        overrides: ``ExecutorConfig`` fields to set on every executor (tests: fast retries).
    """

    def __init__(
        self, env: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
    ) -> None:
        self.env = os.environ if env is None else env
        self.overrides = dict(overrides or {})
        self._lock = threading.Lock()
        self._made: dict[str, tuple[object, Executor]] = {}

    def __call__(self, profile: CloudProviderProfile) -> Executor:
        """The profile's executor.

        Raises:
            ProviderError: the cloud's SDK is not installed (names the extra).
        """
        with self._lock:
            known = self._made.get(profile.name)
            if known is not None and known[0] == profile.spec:
                return known[1]
        config = executor_config(profile, self.env)
        if self.overrides:
            from dataclasses import replace

            config = replace(config, **self.overrides)
        executor = build_executor(profile.spec.provider, config, **executor_scope(profile))
        with self._lock:
            self._made[profile.name] = (profile.spec, executor)
        return executor
