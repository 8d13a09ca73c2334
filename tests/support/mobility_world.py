"""A three-site world for the simulator's address-mobility tests (no router config needed).

Sites ``site-a`` and ``site-b`` are on-prem (an L2 bridge each, ``lan-a``/``lan-b``), and
``site-c`` is a cloud site (an Azure fabric). Each site has one router (``ra``, ``rb``,
``rc``) with an uplink to the internet; ``site-a`` has a second router ``ra2`` on the same
bridge (a redundant partner). VM ``vm1`` (10.77.0.21, MAC 02:00:00:77:00:21) starts on
``lan-a``, ``vm2`` (10.77.0.22) on ``lan-b``, ``vm3`` (10.77.128.21) on ``fabric-c``.
Router configs are empty Router documents: these tests drive the route exchange and
presence ports directly, as the mobility controller will.
"""

from __future__ import annotations

from typing import Any

SPEAKERS = {"ra": ("10.99.0.11", 1), "ra2": ("10.99.0.12", 1), "rb": ("10.99.0.21", 2)}
SPEAKERS["rc"] = ("10.99.0.31", 3)
"""router -> (BGP router id, site id)."""
VM1_MAC = "02:00:00:77:00:21"


def _router(name: str, site: str, segment: str, lan_ip: str, public: str) -> str:
    return f"""
    - name: {name}
      site: {site}
      config:
        apiVersion: routerd.net/v1alpha1
        kind: Router
        metadata: {{name: {name}}}
        spec: {{resources: []}}
      interfaces:
        - {{name: ens19, segment: {segment}, address: {lan_ip}/16}}
      uplink: {{address: {public}/24, gateway: {public.rsplit(".", 1)[0]}.1}}"""


def world_yaml(reflector: str = "") -> str:
    """The World document (``reflector``: a ``reflector:`` section's YAML, indented 2)."""
    routers = "".join(
        (
            _router("ra", "site-a", "lan-a", "10.77.0.1", "198.51.100.10"),
            _router("ra2", "site-a", "lan-a", "10.77.0.2", "198.51.101.10"),
            _router("rb", "site-b", "lan-b", "10.77.0.3", "198.51.102.10"),
        )
    )
    routers += """
    - name: rc
      site: site-c
      config:
        apiVersion: routerd.net/v1alpha1
        kind: Router
        metadata: {name: rc}
        spec: {resources: []}
      interfaces:
        - {name: eth0, segment: fabric-c, address: 10.77.128.5/17, forwarding: true}
      uplink: {address: 203.0.113.10/24, gateway: 203.0.113.1}"""
    return f"""apiVersion: sim.routerd.net/v1alpha1
kind: World
metadata: {{name: three-sites}}
spec:
  clock: {{start: 1000000}}
{reflector}  sites:
    - name: site-a
      segments: [{{name: lan-a}}]
    - name: site-b
      segments: [{{name: lan-b}}]
    - name: site-c
      provider: azure
      segments: [{{name: fabric-c, subnet: 10.77.128.0/17, gateway: 10.77.128.1}}]
  vms:
    - {{name: vm1, segment: lan-a, address: 10.77.0.21/16, mac: "{VM1_MAC}"}}
    - {{name: vm2, segment: lan-b, address: 10.77.0.22/16}}
    - {{name: vm3, segment: fabric-c, address: 10.77.128.21/17, gateway: 10.77.128.1}}
  routers:{routers}
"""


def build(reflector: str = "") -> tuple[Any, Any, Any]:
    """(world, control, clock) of ``world_yaml``, with a manual clock at its start."""
    from routerd.backends.sim import ManualClock
    from routerd.backends.sim.control import WorldControl
    from routerd.backends.sim.worldfile.build import build_world
    from routerd.backends.sim.worldfile.load import load_world_text

    spec = load_world_text(world_yaml(reflector)).raise_for_errors()
    clock = ManualClock(1_000_000.0)
    world = build_world(spec, clock=clock)
    return world, WorldControl(world, spec), clock
