"""One fixture world per cloud: its double running, the SDK's default chain pointed at it.

A ``World`` gives a test everything it needs to drive a real SDK client through an
executor against a local double: the NICs (router A, router B, a VM), the subnet, free
addresses, the double's control handle and the secret values its identity endpoint handed
out (so a test can prove they never reach a log or a result). The environment is set only
through each SDK's documented overrides (``AWS_EC2_METADATA_SERVICE_ENDPOINT``,
``AZURE_POD_IDENTITY_AUTHORITY_HOST``, ``OCI_METADATA_BASE_URL``,
``GCE_METADATA_HOST``/``GCE_METADATA_IP``), so the default credential chain runs unmodified.
"""

from __future__ import annotations

import importlib
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from routerd.providers.execution import ExecutorConfig, RetryPolicy
from routerd.providers.executor import Executor
from routerd.providers.registry import build_executor
from tests.fakes.common import FakeServer

CLOUDS = ("aws", "azure", "oci", "gcp")

# The Azure and OCI SDKs put platform.processor() in their user agent, which runs
# ``uname -p`` once per process; this tree forbids subprocesses during tests, so ask now,
# at collection (the answer is cached for the process).
platform.processor()
FAST_RETRY = RetryPolicy(attempts=4, base=0.001, cap=0.01, deadline=5.0)


class ManualClock:
    """A monotonic clock that moves only when told (rate limits, cache ages)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    """A cloud double with three NICs in one subnet, and how to build executors for it."""

    cloud: str
    fake: Any
    server: FakeServer
    nics: list[str]
    subnet: str
    free: list[str]
    vm_primary: str
    secrets: list[str]
    config: ExecutorConfig
    scope: dict[str, Any]
    sleeps: list[float] = field(default_factory=list)
    clock: ManualClock = field(default_factory=ManualClock)

    def executor(self, **changes: Any) -> Executor:
        """A new executor (a new routerd process, as far as the executor knows)."""
        from dataclasses import replace

        ex = build_executor(self.cloud, replace(self.config, **changes), **self.scope)
        ex._sleep = self.sleeps.append
        ex._clock = self.clock
        return ex

    def holders(self) -> dict[str, str]:
        return self.fake.holders()

    def held_by(self, address: str) -> list[str]:
        """Every NIC that lists ``address`` (the rule: at most one)."""
        return [nic for ip, nic in self.holders().items() if ip == address]


def _aws(mp: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any], list[str], dict[str, Any]]:
    from tests.fakes.aws import AwsFake

    fake = AwsFake()
    world = fake.seed()
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        mp.delenv(var, raising=False)
    mp.setenv("AWS_CONFIG_FILE", "/nonexistent/routerd-test")
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/routerd-test")
    mp.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url + "/")
    secrets = [fake.secret_key, fake.session_token]
    return fake, world, secrets, {"region": fake.region}


def _azure(mp: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any], list[str], dict[str, Any]]:
    from tests.fakes.azure import AzureFake

    fake = AzureFake()
    world = fake.seed()
    for var in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_USERNAME",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ):
        mp.delenv(var, raising=False)
    mp.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", fake.url)
    world["scope"] = {"subscription": world["subscription"]}
    return fake, world, [fake.token], {"poll_interval": 0.001}


def _oci(mp: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any], list[str], dict[str, Any]]:
    from tests.fakes.oci import OciFake

    fake = OciFake()
    world = fake.seed()
    mp.setenv("OCI_METADATA_BASE_URL", fake.url + "/opc/v2")
    secret_key = fake.key.decode().splitlines()[5]
    return fake, world, [fake.token, secret_key], {"auth_endpoint": fake.url + "/v1/x509"}


def _gcp(mp: pytest.MonkeyPatch, tmp: str) -> tuple[Any, dict[str, Any], list[str], dict[str, Any]]:
    from tests.fakes.gcp import GcpFake

    fake = GcpFake()
    world = fake.seed()
    mp.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    mp.setenv("CLOUDSDK_CONFIG", tmp)
    mp.setenv("GCE_METADATA_HOST", fake.metadata_host)
    mp.setenv("GCE_METADATA_IP", fake.metadata_host)
    mp.setenv("NO_GCE_CHECK", "false")
    _reload_gce_metadata()
    world["scope"] = {"project": world["project"]}
    return fake, world, [fake.token], {}


def _reload_gce_metadata() -> None:
    """google-auth reads ``GCE_METADATA_HOST`` once, at import: re-read it."""
    name = "google.auth.compute_engine._metadata"
    if name in sys.modules:
        importlib.reload(sys.modules[name])


@pytest.fixture
def world_factory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[Callable[[str], World]]:
    """Name: world_factory / Scope: function / Depends: monkeypatch, tmp_path.

    ``world_factory(cloud) -> World``; every double is closed at teardown.
    """
    made: list[Any] = []

    def make(cloud: str) -> World:
        if cloud == "gcp":
            fake, w, secrets, extra = _gcp(monkeypatch, str(tmp_path))
        else:
            fake, w, secrets, extra = {"aws": _aws, "azure": _azure, "oci": _oci}[cloud](
                monkeypatch
            )
        made.append(fake)
        config = ExecutorConfig(
            subnet=w["subnet"],
            endpoint=fake.url,
            allow_http=True,
            retry=FAST_RETRY,
            timeout=5.0,
            settle_timeout=2.0,
            inventory_min_interval=30.0,
            **extra,
        )
        prefix = w["vm_primary"].rsplit(".", 1)[0]
        return World(
            cloud=cloud,
            fake=fake,
            server=fake.server,
            nics=w["nics"],
            subnet=w["subnet"],
            free=[f"{prefix}.{n}" for n in range(50, 60)],
            vm_primary=w["vm_primary"],
            secrets=secrets,
            config=config,
            scope=w.get("scope", {}),
        )

    yield make
    for fake in made:
        fake.close()
    if any(type(f).__name__ == "GcpFake" for f in made):
        monkeypatch.undo()
        _reload_gce_metadata()


@pytest.fixture(params=CLOUDS)
def world(request: pytest.FixtureRequest, world_factory: Callable[[str], World]) -> World:
    """Name: world / Scope: function / Depends: world_factory; parametrized over CLOUDS."""
    return world_factory(request.param)
