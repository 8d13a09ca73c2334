"""The one HTTP client every instance-metadata reader uses (stdlib ``urllib`` only).

Each cloud's reader differs only in paths, headers and parsing; how a request fails must
be the same everywhere so the doctor can treat every provider alike: a timeout, a reset or
a 5xx is a retryable ``ProviderError``; a 4xx or a malformed body is not. "Nothing answers
here" (connection refused, or 404/405 on the very first request: the path or method does
not exist on whatever answers) is ``MetadataUnavailable``,
which readers turn into ``None``: this host is not on that cloud.

Proxies are bypassed on purpose: cloud images often set ``http_proxy``, and a proxy can
never reach the link-local metadata service (Azure documents this explicitly).

Every response body is kept in ``record`` under its request path, in exactly the format
the test fixtures use, so ``python -m routerd.providers.<cloud>.imds --raw`` on a real VM
prints a fixture.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import http.client
import json
import logging
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from routerd.core.errors import ProviderError
from routerd.providers.base import InstanceMetadata

LOG = logging.getLogger(__name__)

MAX_BODY = 1 << 20
"""Metadata documents are a few KiB; refuse anything absurd rather than buffer it."""


class MetadataUnavailable(ProviderError):
    """No metadata service of this cloud answers at the base URL."""


class MetadataClient:
    """One session with a metadata service.

    Args:
        provider: provider name, for error reports.
        base_url: scheme and host, e.g. ``http://169.254.169.254``.
        headers: headers sent with every request.
        timeout: per-request socket timeout in seconds.
        record: when given, every response body is stored here by request path.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        record: dict[str, Any] | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.timeout = timeout
        self.record = record
        self.first = True
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def text(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        keep: bool = True,
    ) -> str:
        """Fetch ``path`` and return the body as text.

        Raises:
            MetadataUnavailable: first request refused, 404 or 405.
            ProviderError: any other failure; ``retryable`` says whether to try again.
        """
        url = self.base_url + path
        data: dict[str, object] = {"provider": self.provider, "method": method, "url": url}
        first, self.first = self.first, False
        try:
            req = urllib.request.Request(
                url, method=method, headers={**self.headers, **(headers or {})}
            )
            with self._opener.open(req, timeout=self.timeout) as resp:
                body: bytes = resp.read(MAX_BODY + 1)
                self.check_response(resp.headers, data)
        except urllib.error.HTTPError as e:
            raise _http_error(e, data, first) from None
        except urllib.error.URLError as e:
            raise _transport_error(e.reason, data, first) from None
        except (OSError, http.client.HTTPException) as e:
            raise _transport_error(e, data, first) from None
        except ValueError as e:
            raise ProviderError(f"bad metadata URL {url!r}: {e}", supporting_data=data) from None
        if len(body) > MAX_BODY:
            raise ProviderError(
                f"{method} {path}: response larger than {MAX_BODY} bytes", supporting_data=data
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProviderError(
                f"{method} {path}: response is not UTF-8", supporting_data={**data, "error": str(e)}
            ) from None
        if keep and self.record is not None:
            self.record[path] = text
        return text

    def json(self, path: str) -> Any:
        """Fetch ``path`` and decode it as JSON.

        Raises:
            ProviderError: not JSON (not retryable), or any ``text`` failure.
        """
        raw = self.text(path, keep=False)
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError) as e:  # RecursionError: nested past the C stack guard
            raise ProviderError(
                f"{self.provider} metadata {path} is not valid JSON",
                supporting_data={
                    "provider": self.provider,
                    "url": self.base_url + path,
                    "error": str(e),
                    "body": raw[:200],
                },
            ) from None
        if self.record is not None:
            self.record[path] = doc
        return doc

    def check_response(self, headers: Any, data: dict[str, object]) -> None:
        """Hook for readers that must verify the responder (GCP's Metadata-Flavor)."""


def _http_error(e: urllib.error.HTTPError, data: dict[str, object], first: bool) -> ProviderError:
    try:
        body = e.read(200).decode("utf-8", "replace")
    except OSError:
        body = ""
    info = {**data, "status": e.code, "body": body}
    what = f"{data['method']} {data['url']} returned HTTP {e.code}"
    if e.code in (404, 405) and first:
        return MetadataUnavailable(what, supporting_data=info)
    retryable = e.code == 429 or e.code >= 500
    return ProviderError(what, supporting_data=info, retryable=retryable)


def _transport_error(reason: object, data: dict[str, object], first: bool) -> ProviderError:
    info = {**data, "error": str(reason)}
    if isinstance(reason, TimeoutError):
        return ProviderError(f"{data['url']}: timed out", supporting_data=info, retryable=True)
    if first and _unreachable(reason):
        return MetadataUnavailable(f"{data['url']}: {reason}", supporting_data=info)
    return ProviderError(f"{data['url']}: {reason}", supporting_data=info, retryable=True)


def _unreachable(reason: object) -> bool:
    return isinstance(reason, OSError) and reason.errno in (
        errno.ECONNREFUSED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
    )


def shape_error(provider: str, what: str, err: Exception) -> ProviderError:
    """The error for a response that parsed but does not have the documented shape."""
    return ProviderError(
        f"unexpected {provider} metadata shape: {what}",
        supporting_data={"provider": provider, "error": f"{type(err).__name__}: {err}"},
    )


def run_entry_point(
    provider: str,
    read: Callable[..., InstanceMetadata | None],
    default_url: str,
    argv: list[str] | None = None,
) -> int:
    """The ``python -m routerd.providers.<cloud>.imds`` command.

    Prints the parsed metadata as JSON, or with ``--raw`` every response keyed by request
    path (the fixture format of ``tests/fixtures/providers``). Exit codes: 0 read, 1 no
    metadata service of this cloud here, 2 the read failed (reason and data on stderr).
    """
    ap = argparse.ArgumentParser(prog=f"python -m routerd.providers.{provider}.imds")
    ap.add_argument("--base-url", default=default_url, help=f"default {default_url}")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--raw", action="store_true", help="print raw responses (fixture format)")
    args = ap.parse_args(argv)
    record: dict[str, Any] = {}
    try:
        md = read(base_url=args.base_url, timeout=args.timeout, record=record)
    except ProviderError as e:
        err = {"reason": e.reason, "retryable": e.retryable, "supportingData": e.supporting_data}
        sys.stderr.write(json.dumps(err, indent=2, default=str) + "\n")
        return 2
    if md is None:
        sys.stderr.write(f"no {provider} instance metadata service at {args.base_url}\n")
        return 1
    out: Any = record if args.raw else dataclasses.asdict(md)
    sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
    return 0
