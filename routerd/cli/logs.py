"""Logging for the CLIs and the daemon: key=value text or JSON lines on stderr, secrets
masked, repeated identical warnings summarised.

Why it is shaped this way:

* Messages are written as ``event key=value ...`` (style rule 13), so text mode is readable
  and greppable as it is. A caller that wants machine-readable fields also passes
  ``extra={"kv_<name>": value}``: JSON mode emits each as a top-level field, text mode
  appends the ones the message does not already show. Claim transitions are logged this
  way by the engine (``claim``, ``address``, ``from``, ``to``, ``trigger``, ``reason``).
* Redaction is a *handler* filter, not a convention callers must remember (D11 in
  docs/decisions.md: keys never appear in logs). Whatever reaches the handler — a UAPI request
  dumped at DEBUG, a parser error quoting a line, the repr of a dict, a traceback — is masked
  before it is formatted. It matches by shape next to a key label (``privateKey: <44-char
  base64>``, UAPI ``private_key=<64 hex>``, the same for preshared keys), so it also covers keys
  it has never seen.
* Throttling is a handler filter too, so no module needs its own bookkeeping: the same
  logger, level and rendered message at WARNING or above within ``window`` seconds is
  written once; later copies are counted and summarised as ``repeated=N`` once the window
  has passed (on the next record, or when logging shuts down). The engine still keeps its
  own per-object apply backoff; this catches everything else (a dead plugin, a failing
  listener, a flapping probe).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

REDACTED = "<redacted>"

_KEY_LABEL = r"(?:private|preshared)[_-]?key"
_LABELLED_BASE64 = re.compile(
    rf"""(?ix) ( {_KEY_LABEL} ["']? \s* [:=] \s* ["']? ) [A-Za-z0-9+/]{{43}}= (?![A-Za-z0-9+/=])"""
)
_LABELLED_HEX = re.compile(rf"(?i)({_KEY_LABEL}\s*=\s*)[0-9a-f]{{64}}(?![0-9a-f])")
_EXC_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    """Mask WireGuard private and preshared keys that appear as labelled values.

    Args:
        text: any log text.

    Returns:
        ``text`` with each key value replaced by ``<redacted>`` (labels kept, so the line
        still says what was there).
    """
    text = _LABELLED_BASE64.sub(rf"\1{REDACTED}", text)
    return _LABELLED_HEX.sub(rf"\1{REDACTED}", text)


def _kv_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k[3:]: v for k, v in vars(record).items() if k.startswith("kv_")}


class SecretRedactor(logging.Filter):
    """Handler filter that masks key material in the message, fields and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not leak its arguments via handleError
            message = f"unformattable log record: {record.msg!s}"
        masked = redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXC_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for k, v in list(vars(record).items()):
            if k.startswith("kv_") and isinstance(v, str):
                setattr(record, k, redact(v))
        return True


@dataclass
class _Burst:
    first_at: float
    record: logging.LogRecord
    suppressed: int = 0


class RepeatThrottle(logging.Filter):
    """Handler filter: one copy of a repeated line per window, then a ``repeated=N`` summary.

    Args:
        window: seconds during which identical lines are folded into one.
        emit: where summary records go (the handler's ``handle``).
        level: records below this level are never throttled.
        clock: monotonic seconds (injected by tests).
        max_keys: bound on remembered lines; the oldest burst is summarised when exceeded.
    """

    def __init__(
        self,
        window: float,
        emit: Callable[[logging.LogRecord], object],
        *,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 512,
    ) -> None:
        super().__init__()
        self.window = window
        self.level = level
        self._emit = emit
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._bursts: dict[tuple[str, int, str], _Burst] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "routerd_summary", False):
            return True
        now = self._clock()
        key = (record.name, record.levelno, record.getMessage())
        with self._lock:
            due = self._expire(now)
            burst = self._bursts.get(key)
            passes = record.levelno < self.level or burst is None
            if burst is not None and record.levelno >= self.level:
                burst.suppressed += 1
            elif record.levelno >= self.level:
                self._bursts[key] = _Burst(now, record)
                if len(self._bursts) > self._max_keys:
                    oldest = next(iter(self._bursts))
                    due.append(self._bursts.pop(oldest))
        self._summarise(due)
        return passes

    def flush(self) -> None:
        """Summarise every pending burst now (called when the handler closes)."""
        with self._lock:
            due = list(self._bursts.values())
            self._bursts.clear()
        self._summarise(due)

    def _expire(self, now: float) -> list[_Burst]:
        expired = [k for k, b in self._bursts.items() if now - b.first_at >= self.window]
        return [self._bursts.pop(k) for k in expired]

    def _summarise(self, bursts: list[_Burst]) -> None:
        for b in bursts:
            if b.suppressed == 0:
                continue
            src = b.record
            summary = logging.makeLogRecord(
                {
                    "name": src.name,
                    "levelno": src.levelno,
                    "levelname": src.levelname,
                    "pathname": src.pathname,
                    "lineno": src.lineno,
                    "msg": "%s repeated=%d window=%.0fs",
                    "args": (src.getMessage(), b.suppressed, self.window),
                    "routerd_summary": True,
                    "kv_repeated": b.suppressed,
                    **{f"kv_{k}": v for k, v in _kv_fields(src).items()},
                }
            )
            self._emit(summary)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg, every ``kv_`` field, exc."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(_kv_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        return json.dumps(doc, default=str)


def _text_value(v: Any) -> str:
    s = str(v)
    return json.dumps(s) if (not s or any(c in s for c in ' "=')) else s


class TextFormatter(logging.Formatter):
    """``<time> level=<LEVEL> logger=<name> <message> [k=v ...]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extra = [
            f"{k}={_text_value(v)}"
            for k, v in _kv_fields(record).items()
            if f"{k}=" not in record.message
        ]
        return " ".join([line, *extra]) if extra else line


def _utc(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Stream handler whose throttle is flushed when logging shuts down."""

    throttle: RepeatThrottle | None = None

    def close(self) -> None:
        if self.throttle is not None:
            self.throttle.flush()
        super().close()


def setup_logging(
    level: str = "info",
    fmt: str = "text",
    *,
    stream: IO[str] | None = None,
    throttle_window: float = 60.0,
) -> logging.Handler:
    """Route every log record through one handler: redact, throttle, format.

    Args:
        level: root level name (debug, info, warning, error).
        fmt: ``text`` (key=value) or ``json``.
        stream: where lines go (stderr when None).
        throttle_window: seconds during which identical warnings are folded into one.

    Returns:
        The installed handler (tests read or remove it).
    """
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretRedactor())
    handler.throttle = RepeatThrottle(throttle_window, handler.handle)
    handler.addFilter(handler.throttle)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
    return handler


def route_exceptions() -> None:
    """Send uncaught exceptions (main thread and any other) through logging, not raw stderr.

    A traceback printed by the interpreter is many plain lines; logged, it is one record
    (the ``exc`` field in JSON) and passes the secret redaction like every other line.
    Python warnings are logged too.
    """
    log = logging.getLogger("routerd")

    def on_main(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught exception: %s", exc, exc_info=(kind, exc, tb))

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        log.critical(
            "uncaught exception in thread %s: %s",
            name,
            args.exc_value,
            exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
        )

    sys.excepthook = on_main
    threading.excepthook = on_thread
    logging.captureWarnings(True)
    logging.raiseExceptions = False  # a failing handler must not print tracebacks of its own
