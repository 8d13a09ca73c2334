"""A world router reloads its config from the World file (ConfigService.ReloadConfig, SIGHUP):
a valid change is taken with its peer keys still paired; an invalid World file is refused
with every error and the running config kept."""

from __future__ import annotations

import grpc
import pytest
import yaml

from routerd.examples import example_text, world_file
from routerd.v1 import config_pb2, config_pb2_grpc

pytestmark = pytest.mark.integration


def write_world(path, onprem: dict) -> None:
    doc = yaml.safe_load(world_file("azure").read_text())
    doc["spec"]["routers"][0]["config"] = yaml.safe_load(example_text("azure", "cloud"))
    doc["spec"]["routers"][1]["config"] = onprem
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_reload_takes_the_routers_new_config_from_the_world_file(routerd_world, tmp_path):
    onprem = yaml.safe_load(example_text("azure", "onprem"))
    path = tmp_path / "world.yaml"
    write_world(path, onprem)
    world = routerd_world(file=path)
    config = config_pb2_grpc.ConfigServiceStub(world.channel("onprem-router"))

    claim = next(r for r in onprem["spec"]["resources"] if r["kind"] == "RemoteAddressClaim")
    extra = yaml.safe_load(yaml.safe_dump(claim))
    extra["metadata"]["name"] = "cloud-vm-22"
    extra["spec"]["address"] = "10.40.8.22/32"
    onprem["spec"]["resources"].append(extra)
    write_world(path, onprem)
    config.ReloadConfig(config_pb2.ReloadConfigRequest())
    assert world.settle().settled
    states = world.states()
    assert states["onprem-router/cloud-vm-21"] == ("verified", "")
    assert "onprem-router/cloud-vm-22" in states  # the new claim, keys still paired

    path.write_text(path.read_text().replace("segment: onprem-lan", "segment: lan9", 1))
    with pytest.raises(grpc.RpcError) as err:
        config.ReloadConfig(config_pb2.ReloadConfigRequest())
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "VM/onprem-vm segment: no segment 'lan9'" in err.value.details()
    assert world.states()["onprem-router/cloud-vm-21"] == ("verified", "")
