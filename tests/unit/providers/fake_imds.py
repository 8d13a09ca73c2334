"""A local fake of the four clouds' instance-metadata services, strict about headers.

Each cloud guards its metadata endpoint with a header or token flow; a reader that forgets
it works in a unit test against a lenient fake and fails on the first real VM. So this
fake enforces what the providers document and answers the way they do when a request is
wrong (Azure 400, AWS 401 without a valid session token, OCI 401, GCP 403), and it logs
every request so tests can assert what was sent (style rule 19).

Responses come from the fixture files (path with query -> body); a ``str`` body is served
as text, anything else as JSON. It binds 127.0.0.1 on an ephemeral port only.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    """One request as received; ``headers`` look-ups are case-insensitive, as in HTTP."""

    method: str
    path: str
    headers: Message


@dataclass
class FakeMetadataServer:
    """One fake metadata service for ``provider`` serving ``responses``.

    Attributes:
        provider: ``azure`` | ``aws`` | ``oci`` | ``gcp``: selects the header rules.
        responses: request path (with query) -> body.
        requests: every request received, in order.
        token: the AWS session token this server issued last.
        flavor_header: GCP: send ``Metadata-Flavor: Google`` back (a real GCE server does).
        overrides: path -> (status, body) answered after the header rules pass.
        missing: paths this service does not have at all (404 before any header rule).
    """

    provider: str
    responses: dict[str, Any]
    requests: list[Seen] = field(default_factory=list)
    token: str = ""
    flavor_header: bool = True
    overrides: dict[str, tuple[int, Any]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_PUT(self) -> None:
                fake.handle(self, "PUT")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        headers = h.headers
        self.requests.append(Seen(method, h.path, headers))
        status, body, extra = self.reply(method, h.path, headers)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def reply(self, method: str, path: str, headers: Message) -> Reply:
        if path in self.missing:
            return 404, "not found", {}
        rule = getattr(self, f"_guard_{self.provider}")
        refused: Reply | None = rule(method, path, headers)
        if refused is not None:
            return refused
        extra = (
            {"Metadata-Flavor": "Google"} if self.provider == "gcp" and self.flavor_header else {}
        )
        if path in self.overrides:
            status, body = self.overrides[path]
            return status, body, extra
        if method != "GET":
            return 405, "method not allowed", extra
        if path not in self.responses:
            return 404, "not found", extra
        return 200, self.responses[path], extra

    def _guard_azure(self, method: str, path: str, headers: Message) -> Reply | None:
        if "X-Forwarded-For" in headers or headers.get("Metadata") != "true":
            return 400, {"error": "Bad request. Required metadata header not specified"}, {}
        if "api-version=" not in path:
            return 400, {"error": "Bad request. api-version was not specified in the request"}, {}
        return None

    def _guard_aws(self, method: str, path: str, headers: Message) -> Reply | None:
        if path == "/latest/api/token":
            if method != "PUT":
                return 405, "", {}
            ttl = headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return 400, "", {}
            self.token = secrets.token_urlsafe(16)
            return 200, self.token, {}
        if not self.token or headers.get("X-aws-ec2-metadata-token") != self.token:
            return 401, "", {}
        return None

    def _guard_oci(self, method: str, path: str, headers: Message) -> Reply | None:
        if path.startswith("/opc/v2/") and headers.get("Authorization") != "Bearer Oracle":
            return 401, {"code": "NotAuthenticated", "message": "Not authenticated"}, {}
        return None

    def _guard_gcp(self, method: str, path: str, headers: Message) -> Reply | None:
        if "X-Forwarded-For" in headers or headers.get("Metadata-Flavor") != "Google":
            return 403, "Missing Metadata-Flavor:Google header.", {}
        return None
