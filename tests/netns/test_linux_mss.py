"""The MSS clamp rewrites real SYNs crossing a forwarding namespace, in both directions.

``a`` [198.51.100.2] -- [198.51.100.1] ``r`` (backend, ip_forward) [203.0.113.1] --
[203.0.113.2] ``b``. The MSS option is read from the wire with AF_PACKET captures: the SYN
as it arrives in ``b`` and the SYN-ACK as it arrives back in ``a``. A first connection
without the table shows the unclamped 1460, so the test can tell the difference.
"""

from __future__ import annotations

import pytest

from routerd.core.desired import DesiredBuilder, MssClampTable, MssRule, Sysctl
from tests.netns import backend_host as bh
from tests.support.netns import veth

pytestmark = pytest.mark.netns


def handshake_mss(lab, a, b, a_if: str, b_if: str, port: int) -> tuple[int | None, int | None]:
    """(MSS of the SYN seen in b, MSS of the SYN-ACK seen in a) for one connection."""
    wa, wb = lab.worker(a), lab.worker(b)
    wb.call(bh.open_capture, b_if)
    wa.call(bh.open_capture, a_if)
    wb.call(bh.listen, "203.0.113.2", port)
    wa.call(bh.connect, "203.0.113.2", port)
    syn = wb.call(bh.tcp_mss_seen, b_if, syn_ack=False)
    syn_ack = wa.call(bh.tcp_mss_seen, a_if, syn_ack=True)
    wa.close()
    wb.close()
    return syn, syn_ack


def test_clamp_rewrites_syn_and_syn_ack(lab):
    a, r, b = lab.netns("a"), lab.netns("r"), lab.netns("b")
    a_if, ra, rb, b_if = lab.name("a"), lab.name("ra"), lab.name("rb"), lab.name("b")
    veth(a, a_if, r, ra)
    veth(r, rb, b, b_if)
    a.ip("addr", "add", "198.51.100.2/24", "dev", a_if)
    a.ip("route", "add", "default", "via", "198.51.100.1")
    r.ip("addr", "add", "198.51.100.1/24", "dev", ra)
    r.ip("addr", "add", "203.0.113.1/24", "dev", rb)
    b.ip("addr", "add", "203.0.113.2/24", "dev", b_if)
    b.ip("route", "add", "default", "via", "203.0.113.1")
    backend = lab.backend(r)
    want = DesiredBuilder(generation=1)
    want.add(Sysctl("net.ipv4.ip_forward", "1"), "test")
    assert all(x[1] for x in backend.reconcile(want))
    assert handshake_mss(lab, a, b, a_if, b_if, 5400) == (1460, 1460)

    rules = frozenset({MssRule(ra, rb, 1300), MssRule(rb, ra, 1300)})
    want.add(MssClampTable(rules, generation=1), "test")
    assert all(x[1] for x in backend.reconcile(want))
    assert handshake_mss(lab, a, b, a_if, b_if, 5401) == (1300, 1300)
