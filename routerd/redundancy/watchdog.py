"""Is our keepalived hung? Decided from the adverts on the wire and the time, nothing else.

A hung keepalived (stopped, wedged) reports nothing, yet its virtual addresses
stay on the interface: after three silent intervals the partner becomes master and the
segment would have two. While we are master our keepalived must advertise every
interval, and we see those adverts leave (``adverts``). Two signs prove a hang:

* *silence*: no advert of ours for 2.5 intervals. The partner takes over after 3 intervals
  plus its skew, so acting now removes our addresses before it adds its own. Armed only
  after one of our adverts was seen in this mastership: a socket that cannot see our
  adverts must never kill a working keepalived;
* *a partner master*: a partner advertises as master while ours has been silent for 2
  intervals (covers a hang right at the transition, before any advert of ours).

A partner advertising while ours keeps advertising is VRRP resolving two masters itself
(a preemption): no hang. A silence the caller can explain (``silence``: the kernel holds our
adverts, or keepalived waits for a CPU) is ``excuse``d: counted again from then, so the rule
looks again 2.5 intervals later. Timestamps are when routerd read the advert, so a busy routerd
reads late but never sees a silence that did not happen on the wire.
"""

from __future__ import annotations

from routerd.redundancy.adverts import Advert

SILENCE_ADVERTS = 2.5
PARTNER_ADVERTS = 2.0


class HangWatch:
    """The state the two rules need, for one VRID at one advert interval."""

    def __init__(self, vrid: int, interval: float) -> None:
        self.vrid = vrid
        self.interval = interval
        self.last_own = 0.0
        self.master_since = 0.0
        self.excused = 0.0

    def became_master(self, now: float) -> None:
        self.master_since = now

    def own_seen(self) -> bool:
        """Whether one of our adverts was seen since we became master."""
        return self.last_own > self.master_since

    def advert(self, advert: Advert, now: float, *, master: bool) -> str | None:
        """Take one advert in; returns why ours hangs when this advert proves it."""
        if advert.vrid != self.vrid:
            return None
        if advert.outgoing:
            self.last_own = now
            return None
        if not master or advert.priority == 0:  # priority 0: the partner is giving up
            return None
        silent = now - max(self.last_own, self.master_since)
        if silent > PARTNER_ADVERTS * self.interval:
            return f"{advert.source} advertises as master while ours sent none for {_ms(silent)}"
        return None

    def excuse(self, now: float) -> None:
        """The silence up to ``now`` is explained: the silence rule counts from ``now``."""
        self.excused = now

    def deadline(self, *, master: bool) -> float | None:
        """When silence will prove a hang (None: not armed)."""
        if not master or not self.own_seen():
            return None
        return max(self.last_own, self.excused) + SILENCE_ADVERTS * self.interval

    def silence(self, now: float) -> str:
        return f"master, but ours sent no advert for {_ms(now - self.last_own)}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
