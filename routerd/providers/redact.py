"""Redaction of anything journaled or shown about a provider action.

The executors never put a credential into a request or result, and SDK wire loggers are held
above DEBUG; this is the second line: before a request, result or error text enters the
journal (and from there ``routerctl action describe``, gRPC and logs), every value under a
secret-looking key is replaced and secret-looking fragments of free text (bearer tokens,
AWS signature query parameters, PEM private keys, OCI security-token key IDs) are masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"
_SECRET_KEY = re.compile(
    r"secret|token|passw|credential|signature|authorization|private.?key|access.?key|"
    r"session|cookie",
    re.IGNORECASE,
)
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(X-Amz-(?:Security-Token|Signature|Credential)=)[^&\s\"']+"),
    re.compile(r"(?i)((?:aws_)?(?:secret_)?access_?key_?id[\"'=:\s]+)[A-Z0-9]{16,}"),
    re.compile(r"(keyId=\"?ST\$)[^\",\s]+"),
    re.compile(r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(?=-----END)"),
)


def redact_text(text: str) -> str:
    """``text`` with secret-looking fragments masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` (dicts, lists, strings) with secrets masked, keys kept."""
    if isinstance(value, Mapping):
        return {k: (MASK if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
