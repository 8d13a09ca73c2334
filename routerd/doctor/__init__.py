"""``routerctl doctor`` / DoctorService: named checks over config, engine state and host.

The public entry point is ``run_doctor(area, ctx)``; the daemon's gRPC DoctorService and
``routerctl doctor --local -c FILE`` both call it. Areas are ``hybrid`` (config-level and
live per-claim checks, each described in docs/troubleshooting.md), ``dynamic``,
``plugin``, ``firewall`` and ``mobility``. Every host probe goes through ``Host`` (one
stubbable command runner, an ARP sweeper, a VRRP listener and ``/proc/sys`` reads), so each
check can be replayed from recorded outputs.

Module map: ``inputs`` (what a run looks at, D7 in docs/decisions.md), ``host`` (the door to
the host), ``kernel_tables`` / ``route_lookup`` / ``arp`` (each host table read once per run),
``prefetch`` (those reads side by side), ``hybrid_config`` / ``hybrid_live`` / ``claim_state``
(the hybrid area), ``capture_route`` (proxy-ARP capture as the kernel's input-route lookup),
``summary`` (one line per check over all claims), ``mss``, ``host_firewall`` (with
``firewall_sources``, ``firewall_path``, ``firewall_remedy``, ``iptables``, ``nft_rules``,
``nft_exprs``, ``packet_filter``, ``packet_match``), ``forward_policy``, ``wireguard``,
``responder``, ``provider``, ``mtu_probe``, ``stale_tables`` (firewall area), ``dynamic``,
``plugin``, ``mobility`` (with ``mobility_view``, ``mobility_config``, ``mobility_sessions``,
``mobility_homes``, ``mobility_segment``, ``mobility_pair`` and the VRRP listener ``vrrp``),
``runner`` (area assembly).

The names below are loaded on first use (PEP 562), so ``python -m routerd.doctor.arp``
runs its module without importing it twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routerd.doctor.host import CommandResult, CommandRunner, Host, run_command
    from routerd.doctor.runner import run_doctor

__all__ = ["CommandResult", "CommandRunner", "Host", "run_command", "run_doctor"]


def __getattr__(name: str) -> Any:
    if name == "run_doctor":
        from routerd.doctor.runner import run_doctor

        return run_doctor
    if name in __all__:
        from routerd.doctor import host

        return getattr(host, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
