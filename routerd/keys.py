"""WireGuard private keys on disk: generation and safe key files.

Key files are created with mode 0600 inside a 0700 directory; an existing key file is never
overwritten. Public keys are derived by ``routerd.core.wgkey`` (no ``wg`` binary, no key in
any process's argv). ``KeyFiles`` is the engine's key source (``routerd.core.wgkey.KeySource``).
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

from routerd.core.wgkey import public_key

LOG = logging.getLogger(__name__)


def generate_private_key() -> str:
    """A new base64 private key (clamped, as ``wg genkey`` prints)."""
    b = bytearray(os.urandom(32))
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return base64.b64encode(bytes(b)).decode()


def read_private_key(path: str | os.PathLike[str]) -> str:
    return Path(path).read_text(encoding="ascii").strip()


def ensure_private_key(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """Make sure a key file exists; never overwrite one.

    Returns:
        ``(public_key, created)``.

    Raises:
        OSError: when the file cannot be read or created.
        ValueError: when an existing file does not hold a valid key.
    """
    p = Path(path)
    created = False
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = generate_private_key()
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (key + "\n").encode())
        finally:
            os.close(fd)
        created = True
    return public_key(read_private_key(p)), created


class KeyFiles:
    """Public keys of key files, creating a missing file once; re-read only when it changes.

    The engine asks on every pass that may have changed its interfaces; a file's
    modification time decides whether the cached public key still holds, so replacing a
    key file on disk is picked up without a restart.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, str]] = {}

    def public_key(self, path: str) -> str:
        """The public key of the private key in ``path``, creating the file when missing.

        Raises:
            OSError: when the file cannot be read or created.
            ValueError: when an existing file does not hold a valid key.
        """
        try:
            mtime = Path(path).stat().st_mtime
        except OSError:
            mtime = -1.0
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime >= 0:
            return cached[1]
        pub, created = ensure_private_key(path)
        if created:
            LOG.info("generated WireGuard private key path=%s", path)
        self._cache[path] = (Path(path).stat().st_mtime, pub)
        return pub
