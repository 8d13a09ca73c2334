"""What ``routerctl`` imports: parsing loads no command, a gRPC command only its own client.

Each case runs in a fresh interpreter (``sys.modules`` of this test process holds everything
the other tests imported) and reports the modules loaded. The commands run against a socket
that does not exist: the command's implementation is imported and builds its request, then
fails to connect (exit 1), which is all the import question needs. No timing is asserted;
``python -m bench --only cli`` measures the start-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from routerd.cli import ctl_args, ctl_doctor, routerctl_main

ROOT = Path(__file__).resolve().parents[3]

HEAVY = (
    "routerd.core.engine",
    "routerd.core.validation",
    "routerd.core.loader",
    "routerd.core.resources",
    "routerd.core.config",
    "routerd.core.lifecycle",
    "routerd.core.doctor",
    "routerd.doctor",
    "routerd.api.errors",
    "routerd.api.convert",
    "routerd.state.store",
    "routerd.providers",
    "pydantic",
    "transitions",
)
"""Modules no gRPC-only command needs: the engine, validation, the resource models, the
state machine, the doctor's checks, the server's error mapping, the store, the providers."""

PARSE_ONLY = (*HEAVY, "grpc", "google.protobuf", "routerd.v1", "yaml")
"""Parsing the command line (``--help`` too) loads none of these either."""

PROBE = """
import json, sys
from routerd.cli import routerctl_main
argv = json.loads(sys.argv[1])
try:
    code = routerctl_main.main(argv)
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

GRPC_COMMANDS = (
    ["status"],
    ["get", "claims"],
    ["get", "homes"],
    ["describe", "claim", "c1"],
    ["watch", "claims"],
    ["watch", "homes"],
    ["history", "address", "10.0.0.1"],
    ["move", "10.0.0.1", "--to", "site-b"],
    ["where", "10.0.0.1"],
    ["failback"],
    ["pin", "10.0.0.1", "--site", "site-b"],
    ["unpin", "10.0.0.1"],
    ["doctor", "hybrid"],
    ["plugin", "list"],
    ["dynamic", "list"],
    ["action", "list"],
    ["reload"],
    ["plan"],
)


def loaded(argv: list[str], tmp_path: Path) -> tuple[object, set[str]]:
    """Run ``routerctl ARGV`` in a fresh interpreter; its exit code and ``sys.modules``."""
    r = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    doc = json.loads(r.stdout.splitlines()[-1])
    return doc["code"], set(doc["modules"])


def under(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["get", "claims", "--help"], ["move", "--help"], ["doctor", "--help"]],
    ids=" ".join,
)
def test_parsing_and_help_import_no_command(argv, tmp_path):
    code, modules = loaded(argv, tmp_path)
    assert code == 0
    assert under(modules, PARSE_ONLY) == []
    commands = sorted(m for m in modules if m.startswith("routerd.cli.ctl_"))
    assert commands == ["routerd.cli.ctl_args", "routerd.cli.ctl_args_admin"]


def test_a_usage_error_imports_no_command(tmp_path):
    code, modules = loaded(["move", "10.0.0.1"], tmp_path)  # --to missing
    assert code == 2
    assert under(modules, PARSE_ONLY) == []


@pytest.mark.parametrize("argv", GRPC_COMMANDS, ids=" ".join)
def test_grpc_commands_import_only_the_client_and_their_own_module(argv, tmp_path):
    code, modules = loaded(["--socket", str(tmp_path / "absent.sock"), *argv], tmp_path)
    assert code == 1  # routerd unreachable: the implementation ran up to the connect
    assert "grpc" in modules
    assert under(modules, HEAVY) == []


def test_doctor_local_imports_the_checks_it_runs(tmp_path):
    """The other side of the split: ``--local`` does load the doctor (so the probe sees it)."""
    config = tmp_path / "missing.yaml"
    code, modules = loaded(["doctor", "hybrid", "--local", "-c", str(config)], tmp_path)
    assert code == 2  # the file does not exist
    assert "routerd.doctor" in modules and "routerd.core.validation" in modules


def test_every_command_names_an_implementation_that_exists():
    """A ``Run`` target with a typo would only fail when an operator runs that command."""
    targets = []

    def walk(parser: argparse.ArgumentParser) -> None:
        func = parser.get_default("func")
        if func is not None:
            targets.append(func)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(routerctl_main.build_parser())
    assert len(targets) == 25
    for run in targets:
        assert isinstance(run, ctl_args.Run)
        assert callable(run.resolve()), run


def test_the_parsers_copies_match_their_sources():
    from routerd.core.doctor import AREAS
    from routerd.doctor.summary import SUMMARY_SUFFIX

    assert ctl_args.DOCTOR_AREAS == AREAS
    assert ctl_doctor.SUMMARY_SUFFIX == SUMMARY_SUFFIX
