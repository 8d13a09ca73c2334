"""The simulated dataplane: a network oracle that routerd's engine can drive.

``SimBackend`` implements ``routerd.core.port.DataplaneBackend`` on one host of a ``World``;
the world answers whether packets arrive (``trace``, ``ping``, ``tcp_transfer``) by walking
them through hosts, links, WireGuard tunnels and the provider fabric with Linux's rules.
A world can be described in a World file (``routerd.backends.sim.worldfile``: load,
validate, build); ``routerd.backends.sim.control.WorldControl`` is what ``SimService`` acts
on (the fault catalog and book, partitions, VM moves, traces, world timers). For address
mobility a world also holds its routers' BGP speakers and route reflector
(``routerd.backends.sim.bgp``: ``SimExchange`` is the route-exchange port on them) and what
routers hear on their segments (``routerd.backends.sim.presence.SimPresence``).
``build_lab`` builds the lab topology for a provider profile from its World file;
``single_host_world`` gives ``routerd serve --backend sim -c FILE`` a host shaped after its
config.

Public API (stable): ``World``, ``ManualClock``, ``SimBackend``, ``build_lab``, ``Lab``,
``single_host_world``, ``pair_configs``, ``Trace``, ``Drop``; the lab's host and address
names are constants of ``routerd.backends.sim.lab``.
"""

from __future__ import annotations

from .backend import SimBackend
from .lab import Lab, build_lab
from .packet import Drop, Trace
from .pairing import pair_configs
from .standalone import single_host_world
from .world import ManualClock, World

__all__ = [
    "Drop",
    "Lab",
    "ManualClock",
    "SimBackend",
    "Trace",
    "World",
    "build_lab",
    "pair_configs",
    "single_host_world",
]
