"""One ``ip -batch`` for many questions: answers and failures paired back by line.

A failure is classified, never shown raw (D18, docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import Status
from routerd.doctor.host import CommandResult
from routerd.doctor.ip_batch import BATCH, parse
from tests.unit.doctor.kit import Scene, not_found, one, sample

Recorded = Callable[[str], Scene]
ORDER = ["10.40.8.31", "198.51.100.7", "192.0.2.2"]
COMMANDS = [f"route get {ip}" for ip in ORDER]


def recorded_batch() -> CommandResult:
    s = sample("route lookups")
    assert s["input"] == "".join(f"route get {ip}\n" for ip in ORDER)
    return CommandResult(tuple(s["argv"]), s["rc"], s["stdout"], s["stderr"], s["failure"])


def test_answers_and_failures_are_paired_with_their_lines() -> None:
    claim, unreachable, endpoint = parse(COMMANDS, recorded_batch())
    assert claim.line is not None and '"dst":"10.40.8.31"' in claim.line
    assert endpoint.line is not None and '"dst":"192.0.2.2"' in endpoint.line
    assert unreachable.line is None
    assert unreachable.error == (
        "ip route get 198.51.100.7 failed: RTNETLINK answers: Network is unreachable"
    )


def test_output_that_does_not_add_up_is_not_trusted() -> None:
    res = recorded_batch()
    short = CommandResult(res.argv, res.rc, res.stdout.splitlines()[0] + "\n", res.stderr, "error")
    got = parse(COMMANDS, short)
    assert all(x.line is None and "not trusted" in x.error for x in got)


def test_ip_missing_says_so_for_every_address() -> None:
    res = CommandResult(BATCH, 127, failure="not-found")
    got = parse(COMMANDS, res)
    assert all(x.line is None and "ip is not installed" in x.error for x in got)
    assert not_found(*BATCH)["argv"] == list(BATCH)


def test_a_claim_the_kernel_cannot_route_warns_with_the_kernels_words(
    recorded: Recorded,
) -> None:
    s = recorded("healthy")
    lookups = "route get 10.40.8.31\nroute get 192.0.2.2\n"
    recorded_ok = s.host.answers[
        next(k for k in s.host.answers if "-batch" in k and "iif" not in k)
    ]
    s.host.with_command(
        {
            "argv": list(BATCH),
            "input": lookups,
            "rc": 1,
            "stdout": recorded_ok.stdout.splitlines()[1] + "\n",
            "stderr": "RTNETLINK answers: Network is unreachable\nCommand failed -:1\n",
            "failure": "error",
        }
    )
    f = one(s.doctor(), "vm31 route get")
    assert f.status is Status.WARN
    assert f.detail.endswith(
        "route get 10.40.8.31 failed: RTNETLINK answers: Network is unreachable"
    )
