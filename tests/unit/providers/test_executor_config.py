"""Executor construction rules that need no cloud double: endpoints, missing SDKs, backoff."""

from __future__ import annotations

import sys

import pytest

from routerd.core.errors import ProviderError
from routerd.providers.execution import ExecutorConfig, RetryPolicy, bare_ip
from routerd.providers.registry import build_executor


def test_plain_http_endpoint_is_refused_unless_allowed() -> None:
    with pytest.raises(ProviderError, match="plain HTTP"):
        ExecutorConfig(endpoint="http://10.9.9.9:8080").checked_endpoint("EC2")
    assert ExecutorConfig(endpoint="https://ec2.example").checked_endpoint("EC2")
    assert ExecutorConfig(endpoint="http://127.0.0.1:1", allow_http=True).checked_endpoint("EC2")


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ProviderError, match=r"pip install 'routerd\[aws\]'"):
        build_executor("aws", ExecutorConfig())


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: azure, aws, oci, gcp"):
        build_executor("digitalocean", ExecutorConfig())


@pytest.mark.parametrize("attempt", [1, 2, 3, 8, 30])
def test_backoff_is_bounded_and_grows(attempt: int) -> None:
    policy = RetryPolicy(base=0.2, cap=5.0)
    step = min(5.0, 0.2 * 2 ** (attempt - 1))
    for _ in range(20):
        assert step / 2 <= policy.delay(attempt) <= step
    assert policy.delay(attempt, retry_after=120) == 5.0
    assert policy.delay(attempt, retry_after=0.5) == 0.5


def test_addresses_are_bare_ipv4() -> None:
    assert bare_ip(" 10.0.0.5/32 ") == "10.0.0.5"
    for bad in ("10.0.0.0/24", "fe80::1", "ten"):
        with pytest.raises(ProviderError, match="not an IPv4 address"):
            bare_ip(bad)
