"""Router pairs on Linux: keepalived, supervised by routerd, elects the site's active router.

``render`` writes keepalived's configuration from a ``PairPlan``; ``keepalived`` starts,
adopts, reloads and stops the daemon by PID and removes virtual addresses a dead daemon left
behind; ``notify`` reads the state keepalived writes to its notify FIFO; ``adverts``
reads VRRP adverts on the wire and ``watchdog`` decides from them whether our keepalived
hangs; ``source`` ties them into the ``RoleSource`` the engine reads. Core never imports
this package.
"""
