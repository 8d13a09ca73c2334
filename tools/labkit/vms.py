"""The two VMs: a real sshd in each, and the ssh, scp and ping the smoke runs between them.

Everything SSH needs is generated per run under ``<run>/ssh``: one host key per VM, one
client key, ``authorized_keys``, a ``known_hosts`` naming each VM address, and one
``sshd_config`` per VM (``ListenAddress`` the VM's own address, its own PID file). The
client verifies host keys strictly, so a connection that lands anywhere but the intended VM
fails instead of passing by accident. ``StrictModes no``: the run directory may sit under a
world-writable parent (pytest's tmp), which sshd's ownership walk would otherwise reject.

sshd runs in the foreground (``-D -e``, log to a file) as our child, recorded in the
registry, so teardown stops it by PID. OpenSSH needs its privilege-separation directory
``/run/sshd``; the package creates it at boot, and we create it when it is missing.
"""

from __future__ import annotations

import re
import subprocess
from functools import partial
from pathlib import Path

from tests.support.netns import Netns, sh
from tests.support.wait import wait_until

from .registry import Registry
from .topology import CLOUD_VM, CLOUD_VM_IP, ONPREM_VM, ONPREM_VM_IP, Topology

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")
VM_ADDRESS = {CLOUD_VM: CLOUD_VM_IP, ONPREM_VM: ONPREM_VM_IP}
SSHD_CONFIG = """\
ListenAddress {address}
Port 22
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp internal-sftp
"""
SSH_CONFIG = """\
Host *
  User root
  IdentityFile {identity}
  IdentitiesOnly yes
  UserKnownHostsFile {known_hosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR
"""
PING_RECEIVED = re.compile(r"(\d+) received")


class Vms:
    """sshd in both VM namespaces, and the client side of the smoke."""

    def __init__(self, topo: Topology, run_dir: Path) -> None:
        self.topo = topo
        self.dir = run_dir / "ssh"
        self.config = self.dir / "ssh_config"
        self.logs: list[Path] = []

    def ns(self, role: str) -> Netns:
        return self.topo.ns[role]

    def build(self, registry: Registry) -> None:
        """Generate keys and configs, start both sshd and wait until they listen."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        identity = self.dir / "id_ed25519"
        _keygen(identity)
        (self.dir / "authorized_keys").write_text(identity.with_suffix(".pub").read_text())
        known = []
        for role, address in VM_ADDRESS.items():
            host_key = self.dir / f"{role}_host_ed25519"
            _keygen(host_key)
            pub = host_key.with_suffix(".pub").read_text().split()
            known.append(f"{address} {pub[0]} {pub[1]}\n")
        (self.dir / "known_hosts").write_text("".join(known))
        self.config.write_text(
            SSH_CONFIG.format(identity=identity, known_hosts=self.dir / "known_hosts")
        )
        for role in VM_ADDRESS:
            self._start_sshd(role, registry)
        for role, address in VM_ADDRESS.items():
            wait_until(partial(self._listening, role, address), what=f"sshd in {role}")

    def _start_sshd(self, role: str, registry: Registry) -> None:
        cfg = self.dir / f"{role}-sshd_config"
        cfg.write_text(
            SSHD_CONFIG.format(
                address=VM_ADDRESS[role],
                host_key=self.dir / f"{role}_host_ed25519",
                pid_file=self.dir / f"{role}-sshd.pid",
                authorized_keys=self.dir / "authorized_keys",
            )
        )
        log = self.dir / f"{role}-sshd.log"
        self.logs.append(log)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(role).name, SSHD, "-D", "-e", "-f", str(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        registry.push_process(proc, f"sshd {role}")

    def _listening(self, role: str, address: str) -> str | None:
        out = self.ns(role).exec("ss", "-Hltn", "src", f"{address}:22", check=False)
        return None if out.strip() else f"nothing listens on {address}:22 in {role}"

    # -- the client side ---------------------------------------------------------------

    def ssh(
        self, src: str, dst: str, command: str, *, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on VM ``dst`` over SSH from VM ``src``."""
        argv = ["ssh", "-F", str(self.config), VM_ADDRESS[dst], command]
        return _run(self.ns(src), argv, timeout=timeout)

    def scp_argv(self, src: str, dst: str, local: Path, remote: Path) -> list[str]:
        """``scp`` from VM ``src`` pushing ``local`` to ``remote`` on VM ``dst`` (argv)."""
        return [
            "ip",
            "netns",
            "exec",
            self.ns(src).name,
            "scp",
            "-q",
            "-F",
            str(self.config),
            str(local),
            f"{VM_ADDRESS[dst]}:{remote}",
        ]

    def ping(self, src: str, address: str, *, count: int = 3) -> tuple[int, str]:
        """(replies received, output) for ``count`` pings from VM ``src``."""
        argv = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", address]
        proc = _run(self.ns(src), argv, timeout=10 + count)
        m = PING_RECEIVED.search(proc.stdout)
        return (int(m.group(1)) if m else 0, (proc.stdout + proc.stderr).strip())


def _keygen(path: Path) -> None:
    if not path.exists():
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "routerd-lab", "-f", str(path)])


def _run(ns: Netns, argv: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["ip", "netns", "exec", ns.name, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return subprocess.CompletedProcess(argv, 124, out, f"timed out after {timeout:.0f}s")
