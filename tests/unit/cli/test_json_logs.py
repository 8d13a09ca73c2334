"""JSON logs stay JSON: tracebacks, warnings and gRPC C-core's own stderr lines included.

The redirection and the exception hooks are process-wide, so they run in a child process, the
way ``routerd --log-format json serve`` sets them up; every line the child writes to stderr
must parse as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from routerd.cli.native_stderr import log_line

ROOT = Path(__file__).resolve().parents[3]
KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

CHILD = textwrap.dedent(
    f"""
    import concurrent.futures, logging, os, socket, threading, time, warnings
    import grpc
    from routerd.cli import logs, native_stderr
    logs.setup_logging("info", "json")
    logs.route_exceptions()
    native_stderr.redirect()
    seen = []
    class Seen(logging.Filter):
        def filter(self, record):
            seen.append(record.getMessage())
            return True
    logging.getLogger("grpc.core").addFilter(Seen())

    def boom():
        raise ValueError("privateKey: {KEY}")
    t = threading.Thread(target=boom, name="worker-1")
    t.start(); t.join()
    warnings.warn("something deprecated")
    print("plain text from a library", file=__import__("sys").stderr)
    busy = socket.socket(); busy.bind(("127.0.0.1", 0)); busy.listen()
    options = [("grpc.so_reuseport", 0)]
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(1), options=options)
    try:
        server.add_insecure_port("127.0.0.1:%d" % busy.getsockname()[1])
    except RuntimeError:
        pass
    os.write(2, b"W0101 00:00:00.000000   42 sentinel.cc:7] sentinel\\n")
    deadline = time.monotonic() + 20
    while "sentinel" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    raise SystemError("main thread gave up")
    """
)


def test_every_stderr_line_of_a_json_daemon_is_json():
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    records = []
    for line in proc.stderr.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not JSON: {line!r}\n{proc.stderr}") from None
    by_logger: dict[str, list[dict]] = {}
    for r in records:
        by_logger.setdefault(r["logger"], []).append(r)
    core = by_logger["grpc.core"]
    assert any(r["source"].startswith("add_port.cc") and r["level"] == "error" for r in core)
    assert any(r["msg"] == "sentinel" and r["level"] == "warning" for r in core)
    crashes = [r for r in by_logger["routerd"] if r["level"] == "critical"]
    thread, main = crashes
    assert "worker-1" in thread["msg"] and "Traceback" in thread["exc"]
    assert KEY not in proc.stderr, "tracebacks pass the redaction like every other line"
    assert "main thread gave up" in main["msg"] and "SystemError" in main["exc"]
    assert "something deprecated" in by_logger["py.warnings"][0]["msg"]
    assert by_logger["stderr"][0]["msg"] == "plain text from a library"


def test_absl_lines_keep_their_level_and_source(caplog):
    caplog.set_level("DEBUG")
    log_line("E1206 21:41:55.965343   20795 add_port.cc:83] Failed to add port")
    log_line("I0101 00:00:00.1 7 x.cc:1]")
    log_line("")
    [err, info] = caplog.records
    assert (err.name, err.levelname, err.getMessage()) == (
        "grpc.core",
        "ERROR",
        "Failed to add port",
    )
    assert err.kv_source == "add_port.cc:83" and err.kv_native_thread == "20795"
    assert info.levelname == "INFO"
