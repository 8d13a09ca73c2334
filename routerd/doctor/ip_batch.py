"""Many small ``ip`` questions in one process: ``ip -j -4 -force -batch -`` and its answers.

Some questions have no table to dump instead: the kernel's route *decision*, as this router
sends (``route get A``) and as a packet arriving on a capture interface is routed (``route
get A from S iif D``, what proxy ARP asks). Asking them one process each costs a process
per claim; here they go to one ``ip`` process, one command per stdin line.

How iproute2 6.1 answers a batch, which ``parse`` relies on: every successful command
prints exactly one line on stdout, in input order (one-line JSON for ``route get`` with
``-j``; ``neigh get proxy`` ignores ``-j`` and prints ``ADDR dev DEV proxy``); a failing
command prints nothing on stdout and its message then ``Command failed -:N`` (N the 1-based
input line) on stderr; ``-force`` goes on after a failure and the exit status is then 1.
When the counts do not add up the batch is not trusted, and every command says so, rather
than pairing an answer with the wrong question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routerd.doctor.host import CommandResult, Host

BATCH = ("ip", "-j", "-4", "-force", "-batch", "-")
PER_COMMAND = 0.001
"""Timeout allowance per command on top of ``Host.timeout`` (~0.07 ms each measured)."""
_FAILED = re.compile(r"^Command failed -:(\d+)\s*$")


@dataclass(frozen=True)
class Answer:
    """One command's stdout line, or why it has none."""

    line: str | None
    error: str = ""


def ask(host: Host, commands: list[str]) -> list[Answer]:
    """Run ``commands`` (``route get 10.0.0.1`` ...) in one process, answers in order."""
    if not commands:
        return []
    text = "".join(f"{c}\n" for c in commands)
    timeout = host.timeout + PER_COMMAND * len(commands)
    return parse(commands, host.command(*BATCH, input=text, timeout=timeout))


def parse(commands: list[str], res: CommandResult) -> list[Answer]:
    """Pair stdout lines and ``Command failed -:N`` errors with ``commands``."""
    failed = _failures(res.stderr) if res.rc in (0, 1) else None
    if failed is None:
        return [Answer(None, res.describe()) for _ in commands]
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    if len(lines) != len(commands) - len(failed) or any(n > len(commands) for n in failed):
        why = (
            f"{' '.join(BATCH)}: {len(lines)} answers and {len(failed)} errors for "
            f"{len(commands)} commands; output not trusted"
        )
        return [Answer(None, why) for _ in commands]
    out: list[Answer] = []
    it = iter(lines)
    for n, command in enumerate(commands, start=1):
        if n in failed:
            out.append(Answer(None, f"ip {command} failed: {failed[n] or 'no answer'}"))
        else:
            out.append(Answer(next(it)))
    return out


def _failures(stderr: str) -> dict[int, str] | None:
    """``line number -> message`` of every failed command (None: stderr is not batch errors)."""
    out: dict[int, str] = {}
    said: list[str] = []
    for line in stderr.splitlines():
        m = _FAILED.match(line.strip())
        if m:
            out[int(m.group(1))] = "; ".join(said)
            said = []
        elif line.strip():
            said.append(line.strip())
    return None if said and not out else out
