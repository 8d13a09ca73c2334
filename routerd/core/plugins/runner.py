"""Running a plugin once: request in, result out, a candidate part, and (unless dry-run) storage.

Plugins observe only: a run proposes dynamic config and never acts (docs/plugins.md). The
decisions that shape a run (docs/decisions.md):

* D4 — the part's expiry clock starts when routerd *received* the result; the plugin's
  ``observedAt`` is recorded for display and never used for expiry, so a plugin with a stale
  clock still yields an active part.
* D12 — ``DynamicConfigSource.ttl`` is honoured: when a source references the plugin, its
  ttl (startup-authored, reviewed) decides the part's lifetime; ``status.ttl`` is still
  required by the protocol and is used only when no source references the plugin.
* Action plans are returned for display and never executed, and never stored in the part.

A dry run executes the plugin but never touches the store (generation 1, previous generation
0). A real run records a ``plugin_runs`` row (running -> succeeded/failed) and stores the part
as the source's next generation; superseding older generations (D2) and accepting or
rejecting the part as a whole (D3) happen later, in ``build_effective``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.duration import format_duration
from routerd.core.dynamic import DynamicPart, make_part
from routerd.core.plugins.binding import source_of, source_ttl
from routerd.core.plugins.port import STDOUT_CAP, LaunchError, PluginLauncher, ProcessResult
from routerd.core.plugins.protocol import (
    MANUAL,
    ResultDecodeError,
    RunTrigger,
    build_request,
    decode_result,
)
from routerd.core.resources import Plugin
from routerd.core.state_port import PluginStore, StoreError

LOG = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class PluginOutcome:
    """Everything one run produced, for the run record, the CLI and the API.

    Attributes:
        error: empty when the run succeeded; otherwise what went wrong, naming the plugin.
        exit_code: None when the plugin did not exit by itself (timeout, output cap) or
            never started.
        duration: seconds the plugin ran.
        stdout_digest: sha256 hex of the raw stdout.
        stderr: the first 8 KiB of stderr (``stderr_truncated`` says when there was more).
        part: the candidate part (dry-run: generation 1) or the stored part; None on failure.
        result_ttl: the plugin's own ``status.ttl`` in seconds, when it sent one.
        ttl_origin: what decided the part's ttl: ``DynamicConfigSource/<name>`` or
            ``PluginResult``.
        observed_at: the plugin's ``status.observedAt`` (recorded, not used for expiry).
        action_plans: display-only; routerd never executes them.
        events: informational; not emitted anywhere yet.
        run_id: the ``plugin_runs`` row (None for a dry run).
    """

    plugin: str
    source: str
    trigger: RunTrigger
    dry_run: bool
    error: str = ""
    exit_code: int | None = None
    duration: float = 0.0
    stdout_digest: str = ""
    stderr: str = ""
    stderr_truncated: bool = False
    part: DynamicPart | None = None
    result_ttl: float | None = None
    ttl_origin: str = ""
    observed_at: str = ""
    action_plans: tuple[dict[str, Any], ...] = ()
    events: tuple[dict[str, Any], ...] = ()
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready report (camelCase), as ``routerctl plugin run -o json`` prints it."""
        return {
            "plugin": self.plugin,
            "source": self.source,
            "trigger": self.trigger.to_doc(),
            "dryRun": self.dry_run,
            "ok": self.ok,
            "error": self.error,
            "exitCode": self.exit_code,
            "durationMs": round(self.duration * 1000),
            "stdoutDigest": self.stdout_digest,
            "stderr": self.stderr,
            "stderrTruncated": self.stderr_truncated,
            "runId": self.run_id,
            "ttlOrigin": self.ttl_origin,
            "observedAt": self.observed_at,
            "part": self.part.to_resource_doc() if self.part else None,
            "actionPlans": list(self.action_plans),
            "actionPlansDisplayOnly": True,
            "events": len(self.events),
        }


def dry_run_plugin(
    plugin: Plugin,
    *,
    startup: RouterConfig,
    launch: PluginLauncher,
    trigger: RunTrigger = MANUAL,
    effective_generation: int = 0,
    clock: Clock = time.time,
) -> PluginOutcome:
    """Run the plugin and build its candidate part without opening or writing any store."""
    return _execute(
        plugin,
        startup=startup,
        launch=launch,
        trigger=trigger,
        effective_generation=effective_generation,
        previous_generation=0,
        clock=clock,
        dry_run=True,
    )


def run_plugin(
    plugin: Plugin,
    *,
    startup: RouterConfig,
    store: PluginStore,
    launch: PluginLauncher,
    trigger: RunTrigger = MANUAL,
    effective_generation: int = 0,
    clock: Clock = time.time,
) -> PluginOutcome:
    """Run the plugin, record the run and store its part as the source's next generation.

    A failed run (launch, timeout, exit status, decode, store) is recorded as ``failed``
    with its error and stores nothing; it never raises for plugin misbehaviour.
    """
    source = source_of(plugin.name)
    run_id = store.start_run(plugin.name, trigger.type, trigger.topic)
    outcome = _execute(
        plugin,
        startup=startup,
        launch=launch,
        trigger=trigger,
        effective_generation=effective_generation,
        previous_generation=store.next_generation(source) - 1,
        clock=clock,
        dry_run=False,
    )
    if outcome.part is not None:
        try:
            outcome = replace(outcome, part=store.put_part(outcome.part))
        except StoreError as e:
            outcome = replace(outcome, part=None, error=f"store part for {source}: {e}")
    store.finish_run(
        run_id,
        status="succeeded" if outcome.ok else "failed",
        exit_code=outcome.exit_code,
        stdout_digest=outcome.stdout_digest,
        stderr=outcome.stderr,
        error=outcome.error,
        generation=outcome.part.generation if outcome.part else None,
    )
    _log(outcome)
    return replace(outcome, run_id=run_id)


def _execute(
    plugin: Plugin,
    *,
    startup: RouterConfig,
    launch: PluginLauncher,
    trigger: RunTrigger,
    effective_generation: int,
    previous_generation: int,
    clock: Clock,
    dry_run: bool,
) -> PluginOutcome:
    name = plugin.name
    base = PluginOutcome(plugin=name, source=source_of(name), trigger=trigger, dry_run=dry_run)
    request = build_request(
        name,
        trigger=trigger,
        startup_hash=startup.digest(),
        effective_generation=effective_generation,
        previous_generation=previous_generation,
        now=clock(),
    )
    timeout = plugin.spec.timeout_seconds
    try:
        proc = launch(plugin.spec.executable, stdin=request, env=plugin.spec.env, timeout=timeout)
    except LaunchError as e:
        return replace(base, error=f"plugin {name}: {e}")
    received_at = clock()
    seen = replace(
        base,
        exit_code=proc.returncode,
        duration=proc.duration,
        stdout_digest=hashlib.sha256(proc.stdout).hexdigest(),
        stderr=proc.stderr.decode("utf-8", errors="replace"),
        stderr_truncated=proc.stderr_truncated,
    )
    failure = _process_failure(name, timeout, proc)
    if failure:
        return replace(seen, error=failure)
    return _conclude(seen, proc.stdout, startup=startup, received_at=received_at)


def _conclude(
    seen: PluginOutcome, stdout: bytes, *, startup: RouterConfig, received_at: float
) -> PluginOutcome:
    """Decode a clean exit's stdout into the candidate part (or a decode error)."""
    try:
        result = decode_result(stdout)
    except ResultDecodeError as e:
        return replace(seen, error=f"decode plugin {seen.plugin} stdout: {e}")
    ttl, origin = source_ttl(startup, seen.plugin) or (result.ttl, "PluginResult")
    part = make_part(
        seen.source,
        1 if seen.dry_run else 0,  # 0: the store assigns max(generation)+1 atomically
        received_at,
        ttl,
        list(result.resources),
        list(result.directives),
        observed_at=result.observed_at,
    )
    return replace(
        seen,
        part=part,
        result_ttl=result.ttl,
        ttl_origin=origin,
        observed_at=result.observed_at,
        action_plans=result.action_plans,
        events=result.events,
    )


def _process_failure(name: str, timeout: float, proc: ProcessResult) -> str:
    """The error for a run whose stdout must be ignored, or ``""``."""
    if proc.timed_out:
        return f"plugin {name} timed out after {format_duration(timeout)}"
    if proc.stdout_overflow:
        return (
            f"plugin {name} wrote more than {STDOUT_CAP // (1024 * 1024)} MiB to stdout; "
            "a PluginResult must be smaller"
        )
    rc = proc.returncode
    if rc == 0:
        return ""
    status = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exit status {rc}"
    lines = [ln for ln in proc.stderr.decode("utf-8", errors="replace").splitlines() if ln]
    hint = f": {lines[-1][:200]}" if lines else ""
    return f"plugin {name} failed: {status} (stdout ignored){hint}"


def _log(outcome: PluginOutcome) -> None:
    if outcome.ok and outcome.part is not None:
        LOG.info(
            "plugin %s stored %s (%d resources, %d directives, ttl %s from %s)",
            outcome.plugin,
            outcome.part.label,
            len(outcome.part.resources),
            len(outcome.part.directives),
            format_duration(outcome.part.ttl),
            outcome.ttl_origin,
        )
    else:
        LOG.warning("plugin run failed: %s", outcome.error)
