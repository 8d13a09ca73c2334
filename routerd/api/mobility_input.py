"""Checks of what a mobility request says, before the port sees it.

Each failure is INVALID_ARGUMENT naming the field path (``addresses[3]``, ``to_site``) and
what to send instead, so a caller fixes its request without reading routerd's logs. The port
then only judges what depends on the config (is the address mobile here, is the site ours).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import grpc

from routerd.api.errors import ApiError

MAX_ADDRESSES = 10_000
"""Addresses per ``MoveAddress`` call: a migration wave, with room; more is split."""
MAX_TEXT = 256
"""Characters of a cause (it is journaled and shown in tables)."""


def invalid(path: str, message: str) -> ApiError:
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path}: {message}")


def address(text: str, path: str) -> str:
    """A bare IPv4 address from ``10.40.8.21`` or ``10.40.8.21/32``.

    Raises:
        ApiError: INVALID_ARGUMENT naming ``path``.
    """
    value = text.strip()
    if not value:
        raise invalid(path, "an address is required, e.g. 10.40.8.21")
    bare, slash, length = value.partition("/")
    if slash and length != "32":
        raise invalid(
            path, f"{text!r} is not one address; give one address (10.40.8.21 or 10.40.8.21/32)"
        )
    try:
        parsed = ipaddress.ip_address(bare)
    except ValueError:
        raise invalid(path, f"{text!r} is not an IPv4 address; give one like 10.40.8.21") from None
    if parsed.version != 4:
        raise invalid(path, f"{text!r} is IPv6; only IPv4 addresses are mobile")
    return str(parsed)


def addresses(texts: Iterable[str], path: str = "addresses") -> dict[str, int]:
    """Bare addresses in the order given, each once, with the index it was first given at
    (for messages that name ``addresses[i]``).

    Raises:
        ApiError: INVALID_ARGUMENT for none, too many, or one that is not an address.
    """
    out: dict[str, int] = {}
    for i, text in enumerate(texts):
        if i >= MAX_ADDRESSES:
            raise invalid(path, f"at most {MAX_ADDRESSES} addresses per call; split the list")
        out.setdefault(address(text, f"{path}[{i}]"), i)
    if not out:
        raise invalid(path, "name at least one address")
    return out


def optional_address(text: str, path: str) -> str:
    """``address`` when ``text`` is set, else ""."""
    return address(text, path) if text.strip() else ""


def name(text: str, path: str, what: str) -> str:
    """A required name (a site): non-empty, one word.

    Raises:
        ApiError: INVALID_ARGUMENT naming ``path`` and saying what belongs there.
    """
    value = text.strip()
    if not value:
        raise invalid(path, f"required: {what}")
    if any(c.isspace() or not c.isprintable() for c in value) or len(value) > MAX_TEXT:
        raise invalid(path, f"{text!r} is not a name: {what}")
    return value


def cause(text: str, path: str = "cause") -> str:
    """A free-text reason: one printable line of at most ``MAX_TEXT`` characters.

    Raises:
        ApiError: INVALID_ARGUMENT naming ``path``.
    """
    if len(text) > MAX_TEXT:
        raise invalid(path, f"{len(text)} characters; keep it to one line of {MAX_TEXT} at most")
    if any(not c.isprintable() for c in text):
        raise invalid(path, "must be one line of printable text (no newlines or control codes)")
    return text.strip()
