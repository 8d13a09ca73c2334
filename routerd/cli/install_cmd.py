"""``routerd install --systemd``: put the unit, the config directory and a sample config in place.

Why it is shaped this way:

* It works from an installed wheel or a pipx venv, not only from a source checkout: the
  unit and the sample config are embedded here rather than read from ``packaging/`` and
  ``examples/`` (tests keep both identical to those files).
* It is safe to run again, which is how an upgrade refreshes the unit: the unit is
  routerd's own file and is rewritten (atomically) when it changed; the configuration is
  the operator's and is never overwritten; an existing directory keeps its mode. Every
  path is reported as written, updated, unchanged, created or kept.
* ``--root`` installs into a staging tree (an image build, or a test); ``--prefix`` is
  where ``bin/routerd`` lives on the target (``/usr/local`` for ``pipx install --global``
  or a ``pip install`` into the system Python).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from routerd.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, die

DEFAULT_PREFIX = "/usr/local"
UNIT_PATH = "etc/systemd/system/routerd.service"
CONFIG_DIR = "etc/routerd"
CONFIG_NAME = "router.yaml"
RT_PROTOS_DIR = "etc/iproute2/rt_protos.d"


@dataclass(frozen=True)
class Step:
    """One path the installer looked at and what it did there."""

    path: Path
    outcome: str  # written | updated | unchanged | created | kept
    note: str = ""


def render_unit(prefix: str) -> str:
    """The unit with ``ExecStart`` pointing at ``<prefix>/bin/routerd``."""
    binary = f"{prefix.rstrip('/')}/bin/routerd"
    return UNIT.replace("/usr/local/bin/routerd", binary)


def _write_atomic(path: Path, text: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def install_unit(root: Path, prefix: str) -> Step:
    """Write (or refresh) the systemd unit under ``root``."""
    path = root / UNIT_PATH
    text = render_unit(prefix)
    try:
        old: str | None = path.read_text()
    except FileNotFoundError:
        old = None
    if old == text:
        return Step(path, "unchanged")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, text, 0o644)
    return Step(path, "written" if old is None else "updated")


def install_protocol_name(root: Path) -> Step | None:
    """Name routerd's route protocol for ``ip route`` (``proto routerd``).

    The daemon does this itself on start, but under ``ProtectSystem=strict`` /etc is
    read-only to it, so the installer writes the file; the daemon then finds it in place.
    Like the daemon, it only writes into an existing ``rt_protos.d`` directory.
    """
    from routerd.backends.linux.routes import PROTO_NAME_LINE

    directory = root / RT_PROTOS_DIR
    if not directory.is_dir():
        return None
    path = directory / "routerd.conf"
    try:
        old: str | None = path.read_text()
    except FileNotFoundError:
        old = None
    if old == PROTO_NAME_LINE:
        return Step(path, "unchanged")
    _write_atomic(path, PROTO_NAME_LINE, 0o644)
    return Step(path, "written" if old is None else "updated")


def ensure_dir(path: Path, mode: int) -> Step:
    """Create ``path`` with ``mode``; an existing directory is kept as it is."""
    if path.is_dir():
        have = path.stat().st_mode & 0o777
        note = "" if have == mode else f"mode {have:04o}, expected {mode:04o}; left as is"
        return Step(path, "kept", note)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=mode)
    os.chmod(path, mode)  # mkdir's mode is filtered by the umask
    return Step(path, "created")


def install_sample_config(path: Path) -> Step:
    """Create the sample config; never touch an existing file (O_EXCL, not a check-then-write)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileExistsError:
        return Step(path, "kept", "existing config not overwritten")
    with os.fdopen(fd, "w") as f:
        f.write(SAMPLE_HEADER + SAMPLE_CONFIG)
    os.chmod(path, 0o640)
    return Step(path, "created", "sample: the on-prem side of examples/azure")


def install_systemd(root: Path, prefix: str) -> list[Step]:
    """Everything ``routerd install --systemd`` puts in place, in order.

    Args:
        root: the target filesystem root (``/`` on a live system).
        prefix: where ``bin/routerd`` lives on the target.

    Returns:
        What happened at each path.

    Raises:
        OSError: when a path cannot be written (typically: not root).
    """
    conf = root / CONFIG_DIR
    steps = [
        install_unit(root, prefix),
        ensure_dir(conf, 0o750),
        ensure_dir(conf / "keys", 0o700),
        install_sample_config(conf / CONFIG_NAME),
    ]
    proto = install_protocol_name(root)
    return steps if proto is None else [*steps, proto]


def next_steps(config: str) -> str:
    return "\n".join(
        [
            "Next steps:",
            f"  1. Edit {config}: the peer's publicKey and endpoint, your LAN interface and the",
            "     addresses to claim (docs/install.md). Check it with:",
            f"       routerd validate -c {config}",
            "  2. systemctl daemon-reload",
            "  3. systemctl enable --now routerd",
            "  4. Watch it: systemctl status routerd; journalctl -u routerd -f; routerctl status",
        ]
    )


def _binary_note(root: Path, prefix: str) -> str | None:
    binary = root / prefix.lstrip("/") / "bin" / "routerd"
    if binary.exists():
        return None
    here = shutil.which("routerd") or sys.argv[0]
    return (
        f"note: {binary} does not exist; ExecStart must name the installed routerd "
        f"(this one is {here}); pass --prefix accordingly"
    )


def cmd_install(args: argparse.Namespace) -> int:
    if not args.systemd:
        return die("nothing to install: pass --systemd", EXIT_USAGE)
    root = Path(args.root)
    try:
        steps = install_systemd(root, args.prefix)
    except OSError as e:
        return die(f"install failed: {e} (run as root, or use --root DIR)", EXIT_FAIL)
    for s in steps:
        detail = f" ({s.note})" if s.note else ""
        print(f"{s.outcome:>9}  {s.path}{detail}")
    binary_note = _binary_note(root, args.prefix)
    if binary_note:
        print(binary_note)
    print()
    print(next_steps(f"/{CONFIG_DIR}/{CONFIG_NAME}"))
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "install",
        help="install the systemd unit, config directory and a sample config",
        description="Write the systemd unit (refreshed on every run), create /etc/routerd "
        "(mode 0750) with keys/ (0700) and a sample router.yaml. An existing config is never "
        "overwritten. Safe to run again after an upgrade.",
    )
    p.add_argument("--systemd", action="store_true", help="install for systemd (required)")
    p.add_argument("--root", default="/", metavar="DIR", help="target filesystem root (default: /)")
    p.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        metavar="DIR",
        help=f"where bin/routerd lives on the target (default: {DEFAULT_PREFIX})",
    )
    p.set_defaults(func=cmd_install)


SAMPLE_HEADER = """\
# Installed by `routerd install --systemd` as a starting point; routerd never overwrites
# this file. Validate after editing: routerd validate -c /etc/routerd/router.yaml
"""

UNIT = """\
# routerd: Selective Address Mobility daemon (see docs/operations.md).
# Installed by `routerd install --systemd`; every non-obvious line says why it is there.
[Unit]
Description=routerd Selective Address Mobility daemon
# The underlay (WireGuard endpoint, provider metadata) must be reachable for claims to verify.
Wants=network-online.target
After=network-online.target

[Service]
# routerd sends READY=1 after its first reconcile pass, so `systemctl start` returns once
# the dataplane reflects the config; STATUS= shows claim counts and the generation.
Type=notify
ExecStart=/usr/local/bin/routerd serve -c /etc/routerd/router.yaml
# SIGHUP re-reads the config; an invalid file is logged and the running config is kept.
ExecReload=/bin/kill -HUP $MAINPID
# Stop only routerd itself: wireguard-go runs detached in its own session and carries the
# tunnel, so traffic keeps flowing across restarts and upgrades and the next routerd adopts
# it. SIGTERM leaves the dataplane in place (routerd removes it only with --cleanup-on-exit).
KillMode=process
Restart=on-failure
RestartSec=2s
# Exit 78: the state directory was refused (a damaged database, or another routerd holds
# it). Restarting cannot fix that; the log says what to run (`routerd state check|repair`).
RestartPreventExitStatus=78
# READY=1 comes after the first pass, which may start wireguard-go and create keys.
TimeoutStartSec=120s
# WATCHDOG=1 is sent only while reconcile passes keep completing: a loop stuck inside a
# pass stops the pings and systemd restarts routerd (traffic keeps flowing, see above).
WatchdogSec=60s

# /run/routerd: the gRPC socket. /run/wireguard: wireguard-go's UAPI sockets (they must be
# writable under ProtectSystem=strict, and preserved on stop because wireguard-go outlives
# routerd and the next routerd finds the running tunnel through them).
RuntimeDirectory=routerd wireguard
RuntimeDirectoryMode=0755
RuntimeDirectoryPreserve=yes
# /var/lib/routerd: routerd.db (dynamic parts, journal, ownership), keys, wireguard-go logs.
StateDirectory=routerd
StateDirectoryMode=0700
# /etc/routerd: router.yaml and, in the shipped examples, keys/ (generated when missing).
ConfigurationDirectory=routerd
ConfigurationDirectoryMode=0750
# Key generation writes /etc/routerd/keys; listed explicitly because not every systemd
# version exempts ConfigurationDirectory= from ProtectSystem=strict ('-': may not exist).
ReadWritePaths=-/etc/routerd/keys
# Key files and the state database are created private to root.
UMask=0077

# Capabilities: routes, addresses, links, neighbours, nftables, sysctls under /proc/sys/net
# and the TUN device all need CAP_NET_ADMIN; ping and arping (path probes, gratuitous ARP)
# need CAP_NET_RAW. routerd runs as root so /proc/sys/net and /etc/routerd are writable by
# ownership, without CAP_DAC_OVERRIDE. Add CAP_CHOWN if you use --socket-group.
CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW
# No setuid/file-capability escalation; ping/arping get CAP_NET_RAW from the bounding set.
NoNewPrivileges=yes
# Everything read-only except the directories above; /proc/sys/net stays writable because
# ProtectKernelTunables= is deliberately NOT set (routerd writes ip_forward, proxy_arp).
ProtectSystem=strict
# /home, /root and /run/user are hidden: plugins must live elsewhere (e.g. /usr/local/lib)
# and a plugin needing a writable HOME sets spec.env.HOME under /var/lib/routerd.
ProtectHome=yes
PrivateTmp=yes
# wireguard-go needs /dev/net/tun; everything else in /dev is off limits.
DevicePolicy=closed
DeviceAllow=/dev/net/tun rw
# The kernel still autoloads the wireguard module when a wireguard link is created;
# explicit module loading is not routerd's business (without it routerd uses wireguard-go).
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
# AF_UNIX: gRPC socket, notify socket, UAPI. AF_INET/AF_INET6: WireGuard, metrics, probes,
# provider metadata. AF_NETLINK: rtnetlink, nftables, WireGuard genetlink. AF_PACKET: arping.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET
# routerd and wireguard-go work in the host's network namespace; they create none.
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
# MemoryDenyWriteExecute= is NOT set: libnftables is driven through ctypes, whose callbacks
# may need writable+executable trampolines.

[Install]
WantedBy=multi-user.target
"""
"""packaging/systemd/routerd.service (a test keeps them identical)."""

SAMPLE_CONFIG = """\
# On-prem side of the Azure SAM pair: this router answers ARP for the cloud VM
# 10.40.8.21 on its LAN (proxy-ARP) and delivers it over WireGuard to the cloud router.
# Replace publicKey with the cloud router's key: `routerctl describe wireguardinterface wg-sam`.
apiVersion: routerd.net/v1alpha1
kind: Router
metadata:
  name: azure-onprem-rt-1
spec:
  resources:
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata:
        name: lan
      spec:
        ifname: ens19
        mtu: 1500
        managed: false

    - apiVersion: net.routerd.net/v1alpha1
      kind: WireGuardInterface
      metadata:
        name: wg-sam
      spec:
        privateKeyFile: /etc/routerd/keys/wg-sam.key   # generated (0600) when absent
        listenPort: 51820
        mtu: 1420

    - apiVersion: net.routerd.net/v1alpha1
      kind: IPv4StaticAddress
      metadata:
        name: wg-sam-overlay
      spec:
        interface: wg-sam
        address: 10.255.40.1/31

    - apiVersion: net.routerd.net/v1alpha1
      kind: WireGuardPeer
      metadata:
        name: cloud-a
      spec:
        interface: wg-sam
        publicKey: Q0xPVUQtUk9VVEVSLVBVQkxJQy1LRVktUkVQTEFDRSE=
        endpoint: 203.0.113.10:51820   # the cloud router's public address
        persistentKeepalive: 25

    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: OverlayPeer
      metadata:
        name: cloud-a
      spec:
        role: cloud
        nodeID: cloud-rt-a
        underlay:
          type: wireguard
          interface: wg-sam
          address: 10.255.40.1
        remote:
          nodeID: cloud-rt-a
          address: 10.255.40.0

    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: AddressMobilityDomain
      metadata:
        name: edge-lan
      spec:
        prefix: 10.40.8.0/24
        mode: selective-address
        peerRef: cloud-a

    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata:
        name: cloud-vm-21
      spec:
        domainRef: edge-lan
        address: 10.40.8.21/32
        ownerSide: cloud
        capture:
          type: proxy-arp
          interface: ens19
          gratuitousARP: true
        delivery:
          peerRef: cloud-a
          mode: route
          tunnelInterface: wg-sam
"""
"""examples/azure/onprem.yaml (a test keeps them identical)."""
