"""``routerd install --systemd`` into a temporary root; the unit; the package entry points."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from routerd.backends.linux.routes import ROUTERD_PROTO
from routerd.cli import install_cmd
from routerd.cli.routerd_main import main
from routerd.core.loader import load_text
from tests.support.configs import EXAMPLES, ROOT

UNIT_FILE = ROOT / "packaging" / "systemd" / "routerd.service"


def unit_directives(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd unit text -> section -> key -> values (keys may repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = out.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key, []).append(value)
    return out


def run_install(root: Path, *extra: str) -> int:
    return main(["install", "--systemd", "--root", str(root), *extra])


def test_embedded_files_match_the_repository():
    # The installer must work from a wheel, so it carries copies; they must not drift.
    assert UNIT_FILE.read_text() == install_cmd.UNIT
    assert (EXAMPLES / "azure" / "onprem.yaml").read_text() == install_cmd.SAMPLE_CONFIG


def test_install_writes_unit_config_dir_and_a_valid_sample(tmp_path, capsys):
    assert run_install(tmp_path) == 0
    unit = tmp_path / "etc/systemd/system/routerd.service"
    conf = tmp_path / "etc/routerd"
    config = conf / "router.yaml"
    svc = unit_directives(unit.read_text())["Service"]
    assert svc["ExecStart"] == ["/usr/local/bin/routerd serve -c /etc/routerd/router.yaml"]
    assert conf.stat().st_mode & 0o777 == 0o750
    assert (conf / "keys").stat().st_mode & 0o777 == 0o700
    assert config.stat().st_mode & 0o777 == 0o640
    result = load_text(config.read_text(), str(config))
    assert result.valid, [e.render() for e in result.errors]
    out = capsys.readouterr().out
    for step in ("systemctl daemon-reload", "systemctl enable --now routerd", "routerd validate"):
        assert step in out


def test_install_never_overwrites_an_existing_config(tmp_path, capsys):
    config = tmp_path / "etc/routerd/router.yaml"
    config.parent.mkdir(parents=True, mode=0o755)
    config.write_text("# mine\n")
    assert run_install(tmp_path) == 0
    assert config.read_text() == "# mine\n"
    assert config.parent.stat().st_mode & 0o777 == 0o755, "an existing directory keeps its mode"
    out = capsys.readouterr().out
    assert f"kept  {config} (existing config not overwritten)" in out


def test_rerun_refreshes_the_unit_and_keeps_the_edited_config(tmp_path, capsys):
    assert run_install(tmp_path) == 0
    config = tmp_path / "etc/routerd/router.yaml"
    edited = config.read_text().replace("203.0.113.10", "198.51.100.7")
    config.write_text(edited)
    assert run_install(tmp_path, "--prefix", "/opt/routerd") == 0
    unit = unit_directives((tmp_path / "etc/systemd/system/routerd.service").read_text())
    assert unit["Service"]["ExecStart"] == [
        "/opt/routerd/bin/routerd serve -c /etc/routerd/router.yaml"
    ]
    assert config.read_text() == edited
    out = capsys.readouterr().out
    assert "updated" in out
    assert run_install(tmp_path, "--prefix", "/opt/routerd") == 0
    assert "unchanged" in capsys.readouterr().out


def test_install_names_the_route_protocol_where_iproute2_looks(tmp_path):
    protos = tmp_path / "etc/iproute2/rt_protos.d"
    assert run_install(tmp_path) == 0
    assert not protos.exists(), "no directory is created for iproute2"
    protos.mkdir(parents=True)
    assert run_install(tmp_path) == 0
    number, name = (protos / "routerd.conf").read_text().split()
    assert name == "routerd" and int(number) == ROUTERD_PROTO


def test_install_without_a_target_kind_is_a_usage_error(tmp_path):
    assert main(["install", "--root", str(tmp_path)]) == 2
    assert not any(tmp_path.iterdir())


def test_unit_runs_routerd_as_a_notify_service_that_survives_restarts():
    d = unit_directives(UNIT_FILE.read_text())
    svc = d["Service"]
    assert svc["Type"] == ["notify"]
    assert svc["KillMode"] == ["process"], "wireguard-go must outlive a routerd restart"
    assert svc["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert float(svc["WatchdogSec"][0].removesuffix("s")) > 0
    assert "wireguard" in svc["RuntimeDirectory"][0].split()
    assert svc["RuntimeDirectoryPreserve"] == ["yes"], "wireguard-go's UAPI socket survives"
    assert set(svc["CapabilityBoundingSet"][0].split()) == {"CAP_NET_ADMIN", "CAP_NET_RAW"}
    families = set(svc["RestrictAddressFamilies"][0].split())
    assert {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"} <= families
    # routerd writes /proc/sys/net (ip_forward, proxy_arp): tunables must stay writable.
    assert svc.get("ProtectKernelTunables", ["no"]) == ["no"]
    assert "/dev/net/tun rw" in svc["DeviceAllow"]


def test_package_installs_both_commands():
    assert {"routerd", "routerctl"} <= {name for name, _ in entry_points()}


def entry_points() -> list[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project["scripts"].items())


@pytest.mark.parametrize(("command", "target"), entry_points())
def test_console_scripts_resolve(command, target):
    module, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        pytest.skip(f"{command}: {module} is not written yet")
    assert callable(getattr(mod, attr))
