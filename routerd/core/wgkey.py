"""WireGuard public keys: X25519 derivation from a private key.

X25519 is implemented here (RFC 7748, ~30 lines) so routerd needs neither the ``wg`` binary
nor a crypto dependency to derive a public key, and no key ever appears in a process's
argv. Key generation and key files are ``routerd.keys``; the engine reaches them through
``KeySource``.
"""

from __future__ import annotations

import base64
from typing import Protocol


class KeySource(Protocol):
    """Where the engine gets the public key of each WireGuard interface's private key file."""

    def public_key(self, path: str) -> str:
        """The public key of the private key file ``path``, creating the file when missing.

        Raises:
            OSError: the file cannot be read or created.
            ValueError: the file does not hold a valid key.
        """
        ...


_P = 2**255 - 19
_A24 = 121665


def _clamp(k: bytes) -> int:
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def _x25519(scalar: bytes, u_bytes: bytes) -> bytes:
    k = _clamp(scalar)
    u = int.from_bytes(u_bytes, "little") & ((1 << 255) - 1)
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % _P, (x2 - z2) % _P
        aa, bb = a * a % _P, b * b % _P
        e = (aa - bb) % _P
        c, d = (x3 + z3) % _P, (x3 - z3) % _P
        da, cb = d * a % _P, c * b % _P
        x3 = (da + cb) ** 2 % _P
        z3 = x1 * (da - cb) ** 2 % _P
        x2 = aa * bb % _P
        z2 = e * (aa + _A24 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


def public_key(private_key_b64: str) -> str:
    """Derive the base64 public key from a base64 private key (``wg pubkey``)."""
    raw = base64.b64decode(private_key_b64.strip(), validate=True)
    if len(raw) != 32:
        raise ValueError("a WireGuard private key is 32 bytes of base64")
    return base64.b64encode(_x25519(raw, (9).to_bytes(32, "little"))).decode()
