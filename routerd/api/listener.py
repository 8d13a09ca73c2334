"""Where the API listens: the local Unix socket, and optionally TCP with mutual TLS only.

The Unix socket is the access control: mode 0660, group from ``--socket-group``, in a parent
directory created 0750. gRPC silently unlinks an existing socket path when it binds, which
would let a second ``routerd serve`` steal the socket of a running one; so before binding we
connect to the path ourselves: a live daemon answering there is a refusal to start, a dead
socket file left by a crash is removed, and anything that is not a socket is never touched.

TCP exposes the API beyond the host, so it is only ever offered with mutual TLS (server
certificate and key plus the CA that signs client certificates); asking for plaintext TCP is
a startup error, not a warning.
"""

from __future__ import annotations

import errno
import grp
import logging
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

import grpc

from routerd.core.errors import PermanentError

LOG = logging.getLogger(__name__)

SOCKET_MODE = 0o660
DIR_MODE = 0o750


class ListenerError(PermanentError):
    """The API cannot listen as asked; the message says what to change."""


@dataclass(frozen=True)
class TlsFiles:
    cert: str
    key: str
    client_ca: str


def socket_is_live(path: str, *, timeout: float = 1.0) -> bool:
    """True when something accepts connections on the Unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError as e:
            if e.errno in (errno.ECONNREFUSED, errno.ENOENT):
                return False
            raise
        return True


def prepare_socket_path(path: str) -> None:
    """Make ``path`` free to bind: parent created 0750, a stale socket file removed.

    Raises:
        ListenerError: a live daemon holds the socket, or the path is not a socket.
    """
    parent = Path(path).parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=DIR_MODE)
        os.chmod(parent, DIR_MODE)  # mkdir's mode is filtered by the umask
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ListenerError(
            f"{path} exists and is not a socket; remove it or choose another --socket"
        )
    if socket_is_live(path):
        raise ListenerError(
            f"another routerd is already serving on {path}; stop it first "
            "(sudo systemctl stop routerd) or choose another --socket"
        )
    LOG.info("removing stale API socket %s (no daemon behind it)", path)
    os.unlink(path)


def resolve_group(group: str) -> int:
    """A group name or numeric gid -> gid."""
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ListenerError(
            f"--socket-group {group!r}: no such group; create it (groupadd {group}) "
            "or name an existing one"
        ) from None


def secure_socket(path: str, group: str | None) -> None:
    """Mode 0660 and (optionally) the group that may use the API."""
    if group:
        os.chown(path, -1, resolve_group(group))
    os.chmod(path, SOCKET_MODE)


def tls_files(
    listen_tcp: str | None, cert: str | None, key: str | None, client_ca: str | None
) -> TlsFiles | None:
    """Check the TCP options before anything binds.

    Raises:
        ListenerError: TCP without all three mutual-TLS files, or TLS files without TCP.
    """
    if not listen_tcp:
        if cert or key or client_ca:
            raise ListenerError("--tls-cert/--tls-key/--tls-client-ca need --listen-tcp")
        return None
    missing = [
        flag
        for flag, value in (
            ("--tls-cert", cert),
            ("--tls-key", key),
            ("--tls-client-ca", client_ca),
        )
        if not value
    ]
    if missing:
        raise ListenerError(
            f"--listen-tcp {listen_tcp} is refused without mutual TLS (plaintext TCP would "
            f"expose the API to the network); add {', '.join(missing)}, or use the Unix socket"
        )
    assert cert and key and client_ca
    return TlsFiles(cert, key, client_ca)


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """Mutual TLS: the server proves itself and every client must present a CA-signed cert."""
    try:
        cert = Path(files.cert).read_bytes()
        key = Path(files.key).read_bytes()
        ca = Path(files.client_ca).read_bytes()
    except OSError as e:
        raise ListenerError(f"cannot read TLS file {e.filename}: {e.strerror}") from None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=True
    )


def remove_socket(path: str, inode: int | None) -> None:
    """Remove our socket file at shutdown, unless someone else has bound the path since."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if inode is None or st.st_ino == inode:
        os.unlink(path)
