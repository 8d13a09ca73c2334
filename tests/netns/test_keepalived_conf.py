"""keepalived itself accepts every rendered shape (its check needs the interfaces to exist,
so it runs in a namespace that has them)."""

from __future__ import annotations

import subprocess

import pytest

from routerd.redundancy.render import render
from tests.support.netns import Cleanup, Netns, uid
from tests.unit.redundancy.test_render import SHAPES

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def ns():
    cleanup = Cleanup()
    try:
        n = Netns.create(f"rdt-{uid()}-kaconf", cleanup)
        for ifname in ("ens19", "ens20", "wg-sam", "eth0"):
            n.ip("link", "add", ifname, "type", "veth", "peer", "name", f"{ifname}-p")
            n.ip("link", "set", ifname, "up")
        yield n
    finally:
        assert not cleanup.close()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_keepalived_accepts_every_shape(ns, shape, tmp_path):
    plan, takeover = SHAPES[shape]
    conf = tmp_path / "keepalived.conf"
    conf.write_text(render(plan, fifo=tmp_path / "fifo", takeover=takeover))
    proc = subprocess.run(
        ["ip", "netns", "exec", ns.name, "keepalived", "--config-test", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for complaint in ("rounding", "Unknown keyword", "WARNING", "ignoring"):
        assert complaint not in proc.stderr, proc.stderr
