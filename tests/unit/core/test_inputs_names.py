"""ConfigInputs.names: every effective claim name once, the config's in config order."""

from __future__ import annotations

from bench.claims import Names, load_config
from routerd.core.claim_source import ClaimSource
from routerd.core.inputs import ConfigInputs
from routerd.core.resources import RemoteAddressClaim


def _renamed(claim: RemoteAddressClaim, name: str) -> RemoteAddressClaim:
    return claim.model_copy(update={"metadata": claim.metadata.model_copy(update={"name": name})})


def test_names_are_the_configs_in_order_then_the_sources_others_each_once() -> None:
    config = load_config("proxy-arp", 12, Names("cap0", "tun0"))
    claims = config.of(RemoteAddressClaim)
    in_config = [c.name for c in claims]
    assert in_config != sorted(in_config)  # c0, c1 ... c10, c11: not in string order
    inputs = ConfigInputs(config)
    assert list(inputs.names()) == in_config
    first, second = ClaimSource("one"), ClaimSource("two")
    first.put(claims[3], _renamed(claims[0], "z-extra"), _renamed(claims[1], "a-extra"))
    second.put(_renamed(claims[2], "a-extra"), _renamed(claims[4], "m-extra"))
    inputs.sources += [first, second]
    assert list(inputs.names()) == [*in_config, "z-extra", "a-extra", "m-extra"]
