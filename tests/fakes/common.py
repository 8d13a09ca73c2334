"""What every cloud double shares: an HTTP server, fault injection, a control API.

Each cloud double (``tests.fakes.aws``, ``azure``, ``oci``, ``gcp``) speaks its API's
documented request and response shapes and enforces the rule the clouds enforce: **one
address, one NIC**. This module gives them:

* ``FakeServer``: a threaded HTTP server on a given host and port (0: ephemeral) that logs
  every request, optionally adds latency, and routes ``/_fake/...`` control requests;
* ``Faults``: one-shot or persistent faults per operation, rendered by each double in its
  own error format: ``throttle`` (429 / the provider's throttling code), ``error`` (5xx),
  ``drop`` (the change is applied, then the connection is closed without an answer: the
  "call made, result lost" case) and ``deny`` (permission denied until cleared);
* the control API the namespace lab uses when a double runs standalone:
  ``GET /_fake/holders`` (address -> NIC), ``GET /_fake/stats`` (applied mutations per
  operation), ``POST /_fake/faults`` (``{"op": ..., "kind": ..., "count": N}``) and
  ``POST /_fake/reset-faults``, plus what a double adds (AWS: ``POST /_fake/release``,
  someone taking an address off its NIC behind routerd's back).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("throttle", "error", "drop", "deny")


@dataclass
class Request:
    """One request as received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass
class Reply:
    """An answer; ``drop`` closes the connection without sending anything."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    drop: bool = False

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class Faults:
    """Pending faults per operation name; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[str]] = {}
        self._denied: set[str] = set()

    def inject(self, op: str, kind: str, count: int = 1) -> None:
        """Queue ``count`` faults of ``kind`` for ``op`` (``deny`` lasts until ``clear``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {FAULT_KINDS}")
        with self._lock:
            if kind == "deny":
                self._denied.add(op)
            else:
                self._pending.setdefault(op, []).extend([kind] * count)

    def take(self, op: str) -> str | None:
        """The next fault for ``op``, consumed (``deny`` is never consumed)."""
        with self._lock:
            if op in self._denied:
                return "deny"
            queue = self._pending.get(op)
            return queue.pop(0) if queue else None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._denied.clear()


class FakeServer:
    """A threaded HTTP server that hands each request to ``handle``.

    Args:
        handle: ``handle(request) -> Reply``.
        holders: ``holders() -> {address: nic}`` for the control API.
        host: address to bind (the lab binds a namespace address).
        port: 0 for an ephemeral port.
        latency: seconds added before every answer (to imitate a slower API).
    """

    def __init__(
        self,
        handle: Callable[[Request], Reply],
        holders: Callable[[], dict[str, str]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        controls: dict[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.handle = handle
        self.holders = holders
        self.controls = dict(controls or {})
        self.latency = latency
        self.faults = Faults()
        self.applied: Counter[str] = Counter()
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def _serve(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def mutated(self, op: str) -> None:
        """Count one applied state change of ``op`` (tests assert no double action)."""
        self.applied[op] += 1

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        req = Request(
            h.command,
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in h.headers.items()},
            body,
        )
        if split.path.startswith("/_fake/"):
            reply = self._control(req)
        else:
            self.requests.append(req)
            if self.latency:
                time.sleep(self.latency)
            try:
                reply = self.handle(req)
            except Exception as e:  # a bug in the double must show, not hang the client
                reply = Reply(500, {"error": f"fake crashed: {type(e).__name__}: {e}"})
        if reply.drop:
            h.close_connection = True
            h.connection.shutdown(2)
            return
        data = b"" if h.command == "HEAD" else reply.encoded()
        h.send_response(reply.status)
        if data or reply.status not in (204, 304):
            h.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _control(self, req: Request) -> Reply:
        if req.path == "/_fake/holders":
            return Reply(200, self.holders())
        if req.path == "/_fake/stats":
            return Reply(200, dict(self.applied))
        if req.path == "/_fake/faults" and req.method == "POST":
            doc = req.json()
            try:
                self.faults.inject(str(doc["op"]), str(doc["kind"]), int(doc.get("count", 1)))
            except (KeyError, ValueError) as e:
                return Reply(400, {"error": str(e)})
            return Reply(204)
        if req.path == "/_fake/reset-faults" and req.method == "POST":
            self.faults.clear()
            return Reply(204)
        extra = self.controls.get(req.path)
        if extra is not None and req.method == "POST":
            try:
                return Reply(200, extra(req.json()))
            except (KeyError, ValueError) as e:
                return Reply(400, {"error": str(e)})
        return Reply(404, {"error": f"no control endpoint {req.path}"})


def serve_forever(name: str, server: FakeServer, extra: dict[str, Any] | None = None) -> None:
    """Print where ``server`` listens (one JSON line) and block until interrupted."""
    print(json.dumps({"fake": name, "url": server.url, **(extra or {})}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()
