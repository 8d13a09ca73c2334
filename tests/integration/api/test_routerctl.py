"""routerctl against a running daemon: golden output per format, and the exit codes.

Goldens live in tests/golden/routerctl/. Regenerate them with
``ROUTERD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/api/test_routerctl.py`` and
review the ``git diff``. Times, durations, sequence numbers, pass counts, WireGuard keys and
temp paths are normalised so the goldens hold only what is stable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from routerd.core.phases import PHASES
from tests.integration.api.harness import Served, run_ctl

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "routerctl"
UPDATE = os.environ.get("ROUTERD_UPDATE_GOLDEN") == "1"

PART = """\
apiVersion: config.routerd.net/v1alpha1
kind: DynamicConfigPart
metadata: { name: operator-extra }
spec:
  source: Operator/alice
  ttl: 300s
  resources:
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: { name: extra-vm-50 }
      spec:
        domainRef: edge-lan
        address: 10.40.8.50/32
        ownerSide: cloud
        capture: { type: proxy-arp, interface: ens19 }
        delivery: { peerRef: cloud-a, mode: route, tunnelInterface: wg-sam }
"""

D = r"\d+(?:ms|µs|[hms])(?:\d+(?:ms|[hms]))*"  # a duration as people read it: 4m30s, 12ms, 262µs
SUBS = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<TIME>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"), "<TIME>"),
    (re.compile(rf"\b{D} ago\b|\bjust now\b"), "<AGO>"),
    (re.compile(rf"\bin {D}\b"), "in <DURATION>"),
    (re.compile(rf"\b{D} \(since"), "<DURATION> (since"),
    (re.compile(rf"took {D}, \d+ changes"), "took <DURATION>, <N> changes"),
    (re.compile(r"\b\d+ passes"), "<N> passes"),
    (re.compile(r"\bseq \d+ \("), "seq <SEQ> ("),
    # measured durations in proto JSON/YAML ("0.004203653s")
    (re.compile(r"(\"|: )'?\d+\.\d+s'?(\"?)"), r"\1<DURATION>\2"),
    (re.compile(r'("(passCount|lastPassChanges|durationMs|journalSeq)": )"?\d+"?'), r"\1<N>"),
    (re.compile(r"((passCount|lastPassChanges|durationMs|journalSeq): )'?\d+'?"), r"\1<N>"),
    (re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="), "<KEY>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<DIGEST>"),
]


REPO = str(Path(__file__).resolve().parents[3])


# Which phases the last pass went through depends on what it had to do (see the phases test)
PHASES_JSON = re.compile(r'"lastPassPhases": \[.*?\n  \]', re.DOTALL)
PHASES_YAML = re.compile(r"^lastPassPhases:\n(?:[- ] .*\n)*", re.MULTILINE)


def normalise(text: str, served: Served) -> str:
    text = PHASES_JSON.sub('"lastPassPhases": "<PHASES>"', text)
    text = PHASES_YAML.sub("lastPassPhases: <PHASES>\n", text)
    text = text.replace(str(served.tmp), "<TMP>").replace(served.socket, "<SOCKET>")
    text = text.replace(REPO, "<REPO>")  # the checkout may live anywhere (CI, a fresh clone)
    for pattern, repl in SUBS:
        text = pattern.sub(repl, text)
    return text


def _gaps(text: str) -> str:
    """Table padding as one gap: a column's width follows its longest cell, and "just now"
    and "3s ago" pad differently around the same <AGO>."""
    return re.sub(r"(?<=\S) {2,}(?=\S)", "  ", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"missing golden {path}; run with ROUTERD_UPDATE_GOLDEN=1"
    assert _gaps(text) == _gaps(path.read_text()), (
        f"{name} differs; review, then ROUTERD_UPDATE_GOLDEN=1"
    )


def ctl_ok(served: Served, *argv: str) -> str:
    r = served.ctl(*argv)
    assert r.code == 0, (argv, r.out, r.err)
    return r.out


COMMANDS = {
    "status": ("status",),
    "get-claims": ("get", "claims"),
    "get-peers": ("get", "peers"),
    "get-domains": ("get", "domains"),
    "get-routes": ("get", "routes"),
    "get-dynamic": ("get", "dynamic"),
    "describe-claim": ("describe", "claim", "cloud-vm-21"),
    "describe-peer": ("describe", "peer", "cloud-a"),
    "describe-wireguardinterface": ("describe", "wireguardinterface", "wg-sam"),
    "history-claim": ("history", "claim", "cloud-vm-21"),
    "plugin-list": ("plugin", "list"),
    "dynamic-list": ("dynamic", "list"),
}


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_data_commands_match_their_goldens(served, fmt):
    put = served.ctl("dynamic", "put", str(write(served, PART)))
    assert put.code == 0, put.err

    def claim_ready() -> bool:
        view = served.daemon.engine.snapshot.claims.get("extra-vm-50")
        return view is not None and view.state == "verified"

    from tests.support.wait import wait_until

    wait_until(lambda: None if claim_ready() else "dynamic claim not verified")
    for name, argv in COMMANDS.items():
        out = ctl_ok(served, *argv, "-o", fmt)
        if fmt == "json":
            json.loads(out)  # valid JSON for scripts
        elif fmt == "yaml":
            yaml.safe_load(out)
        check_golden(f"{name}.{fmt}", normalise(out, served))


def write(served: Served, text: str) -> Path:
    path = served.tmp / "part.yaml"
    path.write_text(text)
    return path


def test_prose_commands_match_their_goldens(served):
    assert ctl_ok(served, "dynamic", "diff") == "no dynamic config changes\n"
    put = ctl_ok(served, "dynamic", "put", str(write(served, PART)))
    check_golden("dynamic-put.txt", normalise(put, served))
    check_golden("dynamic-diff.txt", normalise(ctl_ok(served, "dynamic", "diff"), served))
    check_golden("dynamic-render.yaml", normalise(ctl_ok(served, "dynamic", "render"), served))
    describe = ctl_ok(served, "dynamic", "describe", "Operator/alice")
    check_golden("dynamic-describe.txt", normalise(describe, served))
    check_golden("plan.txt", normalise(ctl_ok(served, "plan"), served))
    out = ctl_ok(served, "watch", "claims", "--since", "0", "--count", "3")
    check_golden("watch-claims.table", normalise(out, served))
    out = ctl_ok(served, "watch", "claims", "--since", "0", "--count", "3", "-o", "json")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == ["1", "2", "3"]
    check_golden("watch-claims.json", normalise(out, served))


def test_status_reports_where_the_last_pass_spent_its_time(served):
    st = json.loads(ctl_ok(served, "status", "-o", "json"))
    phases = [(p["phase"], float(p["duration"].rstrip("s"))) for p in st["lastPassPhases"]]
    names = [name for name, _ in phases]
    assert names == [p for p in PHASES if p in names], "in pipeline order"
    assert {"inputs", "observe", "journal", "other"} <= set(names)
    took = float(st["lastPassDuration"].rstrip("s"))
    assert sum(s for _, s in phases) == pytest.approx(took, abs=1e-6)


def test_status_ends_with_a_health_block_when_a_claim_is_degraded(served):
    served.host.fail[("route", "254", "10.40.8.21/32")] = "EPERM: operation not permitted"
    served.on_engine(lambda: served.host.delete(("route", "254", "10.40.8.21/32")))

    def degraded() -> str | None:
        view = served.daemon.engine.snapshot.claims["cloud-vm-21"]
        return None if view.state == "degraded" else view.state

    from tests.support.wait import wait_until

    wait_until(degraded, what="claim degraded")
    out = ctl_ok(served, "status")
    block = out[out.index("# Health:") :]
    assert "RemoteAddressClaim/cloud-vm-21" in block and "[claim-degraded]" in block
    assert "EPERM" in block
    healthy_lines = out[: out.index("# Health:")]
    assert "1 degraded" in healthy_lines


# -- exit codes ---------------------------------------------------------------------------------


def test_unreachable_daemon_exits_1_with_a_hint_naming_the_socket(sockdir):
    path = str(sockdir / "nothing-here.sock")
    r = run_ctl("--socket", path, "status")
    assert r.code == 1
    assert f"routerd is not running at {path}" in r.err
    assert "systemctl start routerd" in r.err and "routerd serve -c FILE" in r.err


def test_socket_from_the_environment_is_used(sockdir, monkeypatch):
    path = str(sockdir / "from-env.sock")
    monkeypatch.setenv("ROUTERD_SOCKET", path)
    r = run_ctl("get", "claims")
    assert r.code == 1 and path in r.err


@pytest.mark.parametrize(
    "argv",
    [
        ("frobnicate",),
        ("get", "unicorns"),
        ("status", "-o", "xml"),
        ("watch", "claims", "--since", "soon"),
        ("describe", "claim"),
    ],
)
def test_usage_errors_exit_2(argv):
    assert run_ctl(*argv).code == 2


def test_invalid_input_exits_2_and_says_why(served):
    r = served.ctl("describe", "claim", "nope")
    assert r.code == 2 and "cloud-vm-21" in r.err
    bad = write(served, PART.replace("10.40.8.50/32", "10.40.8.50"))
    r = served.ctl("dynamic", "put", str(bad))
    assert r.code == 2 and "spec.resources.0.spec.address" in r.err
    assert served.daemon.store.list_parts() == []
    r = served.ctl("dynamic", "put", str(served.tmp / "missing.yaml"))
    assert r.code == 2 and "cannot read" in r.err


def test_every_help_text_is_printed_and_exits_0():
    for argv in [
        (),
        ("status",),
        ("get",),
        ("describe",),
        ("watch",),
        ("history",),
        ("doctor",),
        ("plan",),
        ("reload",),
        ("dynamic",),
        ("dynamic", "put"),
        ("plugin",),
        ("plugin", "run"),
    ]:
        r = run_ctl(*argv, "--help")
        assert r.code == 0 and "usage: routerctl" in r.out, argv


def test_reload_reports_the_file_and_refuses_an_invalid_one(served):
    r = served.ctl("reload")
    assert r.code == 0 and str(served.tmp / "router.yaml") in r.out
    path = served.tmp / "router.yaml"
    path.write_text(path.read_text().replace("10.40.8.21/32", "10.40.8.21/40"))
    r = served.ctl("reload")
    assert r.code == 2 and "running config is kept" in r.err


def test_dynamic_put_from_stdin_and_delete(served, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(PART))
    assert ctl_ok(served, "dynamic", "put", "-").startswith("stored Operator/alice@1")
    assert ctl_ok(served, "dynamic", "delete", "Operator/alice") == (
        "deleted 1 generation(s) of Operator/alice\n"
    )
    assert served.daemon.store.list_parts() == []
    r = served.ctl("dynamic", "delete", "Operator/alice")
    assert r.code == 2 and "Operator/alice" in r.err
    r = served.ctl("dynamic", "describe", "Operator/alice")
    assert r.code == 2


def test_permission_denied_on_the_socket_exits_1_and_says_what_to_do(served, monkeypatch):
    import socket as socket_mod

    class Denied(socket_mod.socket):
        def connect(self, address):
            raise PermissionError(13, "Permission denied")

    # root bypasses file modes, so the kernel's EACCES is simulated at connect()
    monkeypatch.setattr("routerd.cli.ctl_client.socket.socket", Denied)
    r = served.ctl("status")
    assert r.code == 1
    assert f"permission denied on {served.socket}" in r.err and "--socket-group" in r.err


def test_watch_resumes_by_itself_after_being_told_it_fell_behind(served, monkeypatch):
    from routerd.api import claims as claims_api

    calls = []
    original = claims_api.ClaimServicer._pump

    def pump_once_lagging(self, sub, last, claim, context):
        calls.append(last)
        if len(calls) == 1:  # the first stream: deliver one event, then report lag
            for e in original(self, sub, last, claim, context):
                yield e
                raise claims_api._resume_error(
                    claims_api.grpc.StatusCode.RESOURCE_EXHAUSTED, "fell behind", e.seq
                )
        yield from original(self, sub, last, claim, context)

    monkeypatch.setattr(claims_api.ClaimServicer, "_pump", pump_once_lagging)
    r = served.ctl("watch", "claims", "--since", "0", "--count", "3", "-o", "json")
    assert r.code == 0, r.err
    assert [json.loads(line)["seq"] for line in r.out.splitlines()] == ["1", "2", "3"]
    assert calls == [0, 1]
    assert "resuming after seq 1" in r.err
