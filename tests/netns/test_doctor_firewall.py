"""The host firewall check against rulesets written by the real tools (root only).

One SAM pair (``tests/fixtures/doctor/topology.py``) serves every case: before each, r1's
firewall is reset (nft ruleset flushed, legacy tables flushed back to ACCEPT, the clamp
table rewritten), then a ``firewall_shapes.Shape`` is written with iptables-legacy,
iptables-nft, ip6tables-nft and nft (``ip``, ``ip6``, ``inet``, ``netdev``, ``bridge``), all
mixed in r1's namespace, and the check runs inside it with the real tools. Every blocking
shape must be found and named with the tool that owns the chain; the mixed ruleset that
truly accepts must pass; a rule the doctor cannot evaluate must not pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.doctor import firewall_shapes as fs
from tests.fixtures.doctor.topology import Topology
from tests.support.netns import Cleanup, Netns, dump_evidence, run_in_netns, uid

pytestmark = [pytest.mark.netns, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    """Name: pair / Scope: module / Depends: tmp_path_factory (root).

    Every namespace, wireguard-go process and socket is released at module teardown.
    """
    cleanup = Cleanup()
    prefix = uid()
    made: list[Netns] = []

    def netns(role: str) -> Netns:
        made.append(Netns.create(f"rdt-{prefix}-{role}", cleanup))
        return made[-1]

    workdir: Path = tmp_path_factory.mktemp("fw")
    try:
        yield Topology(workdir, cleanup, netns, f"f{prefix}").up()
    except BaseException:
        dump_evidence(made, workdir / "evidence")
        raise
    finally:
        errors = cleanup.close()
        assert not errors, errors


def check(pair: Topology, shape: fs.Shape) -> dict[str, str]:
    fs.reset(pair)
    fs.apply(pair, shape)
    findings = run_in_netns(pair.ns["r1"].name, fs.firewall_findings, pair.config_text())
    assert len(findings) == 1, findings
    return findings[0]


@pytest.mark.parametrize("shape", fs.SHAPES, ids=[s.name for s in fs.SHAPES])
def test_each_ruleset_shape_gets_the_finding_it_deserves(pair: Topology, shape: fs.Shape) -> None:
    want = fs.expected(pair.prefix, shape)
    f = check(pair, shape)
    assert f["status"] == want.status, f
    for words in want.detail:
        assert words in f["detail"], (words, f["detail"].split("; "))
    for words in want.remedy:
        assert words in f["remedy"], (words, f["remedy"])
    for words in want.absent:
        assert words not in f["detail"] + f["remedy"], (words, f)


def test_the_reset_ruleset_passes_and_names_what_was_read(pair: Topology) -> None:
    f = check(pair, fs.Shape("none", "only routerd's clamp table", (), "pass"))
    assert f["status"] == "pass", f
    assert "read iptables-legacy-save, nft -j list ruleset" in f["detail"]
