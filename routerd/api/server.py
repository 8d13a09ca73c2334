"""The gRPC server of ``routerd serve``: a daemon component (``start(daemon) -> stop``).

It serves the ``routerd.v1`` services (``MobilityService`` always: on a router without
mobility it answers what to configure) plus the standard ``grpc.health.v1`` (SERVING while
running) and server reflection (so ``grpcurl`` works without the protos). A router of a
simulated world (``routerd serve --backend sim --world``) also serves ``SimService``; no
other daemon registers it. Listeners are
checked before anything binds (``routerd.api.listener``): a misconfigured TCP listener or a
socket held by a live daemon stops startup with a message, never half a server.

Threads: each RPC runs on the pool; a watch holds a thread for its lifetime, hence the pool
is sized well above the watcher cap. Stopping flips health to NOT_SERVING, ends watches with
a resume point, gives in-flight calls a short grace, then removes the socket file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from routerd.api.actions import ActionServicer
from routerd.api.claims import MAX_WATCHERS, ClaimServicer
from routerd.api.config import ConfigServicer
from routerd.api.doctor import DoctorServicer
from routerd.api.listener import (
    ListenerError,
    prepare_socket_path,
    remove_socket,
    secure_socket,
    server_credentials,
    tls_files,
)
from routerd.api.mobility import MobilityServicer
from routerd.api.mobility_watch import MAX_WATCHERS as MAX_HOME_WATCHERS
from routerd.api.plugins import PluginServicer
from routerd.api.redundancy import RedundancyServicer
from routerd.api.status import StatusServicer
from routerd.api.topology import TopologyServicer
from routerd.api.view import DaemonView

if TYPE_CHECKING:
    from routerd.api.sim import SimWorld
from routerd.v1 import (
    action_pb2,
    action_pb2_grpc,
    claims_pb2,
    claims_pb2_grpc,
    config_pb2,
    config_pb2_grpc,
    doctor_pb2,
    doctor_pb2_grpc,
    mobility_pb2,
    mobility_pb2_grpc,
    plugins_pb2,
    plugins_pb2_grpc,
    redundancy_pb2,
    redundancy_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    topology_pb2,
    topology_pb2_grpc,
)

LOG = logging.getLogger(__name__)

WORKERS = MAX_WATCHERS + MAX_HOME_WATCHERS + 16
"""Every watch holds a thread; 16 stay for unary calls when both kinds of watch are full."""
STOP_GRACE = 2.0
SERVICE_NAMES = tuple(
    svc.full_name
    for mod in (
        action_pb2,
        claims_pb2,
        config_pb2,
        doctor_pb2,
        mobility_pb2,
        plugins_pb2,
        redundancy_pb2,
        status_pb2,
        topology_pb2,
    )
    for svc in mod.DESCRIPTOR.services_by_name.values()
)
SIM_SERVICE = "routerd.v1.SimService"
"""Served only for a router of a simulated world (``routerd serve --backend sim --world``)."""
OPTIONS = [
    # Without this a second daemon could bind the same TCP port and share its traffic.
    ("grpc.so_reuseport", 0),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]


class ApiServer:
    """One gRPC server over the daemon; ``start`` then ``stop`` once."""

    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon
        self.claims = ClaimServicer(daemon)
        self.mobility = MobilityServicer(daemon)
        self.health = health.HealthServicer()
        self._server: grpc.Server | None = None
        self._inode: int | None = None
        self.tcp_port: int | None = None
        self.services: tuple[str, ...] = SERVICE_NAMES

    def start(self) -> None:
        opts = self.daemon.opts
        tls = tls_files(opts.listen_tcp, opts.tls_cert, opts.tls_key, opts.tls_client_ca)
        creds = server_credentials(tls) if tls else None
        prepare_socket_path(opts.socket)
        server = grpc.server(ThreadPoolExecutor(WORKERS, "routerd-api"), options=OPTIONS)
        self._add_services(server)
        try:
            self._bind(server, f"unix:{opts.socket}", None)
            self._inode = os.lstat(opts.socket).st_ino
            secure_socket(opts.socket, opts.socket_group)
            if creds is not None:
                self.tcp_port = self._bind(server, opts.listen_tcp or "", creds)
        except BaseException:
            server.stop(None)
            remove_socket(opts.socket, self._inode)
            raise
        server.start()
        self._server = server
        for name in ("", *self.services):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        tcp = f"{opts.listen_tcp} (mutual TLS)" if creds else "off"
        LOG.info("API listening socket=%s tcp=%s", opts.socket, tcp)

    def _add_services(self, server: grpc.Server) -> None:
        d = self.daemon
        world = simulated_world(d)
        if world is not None:
            from routerd.api.sim import SimServicer
            from routerd.v1 import sim_pb2_grpc

            sim_pb2_grpc.add_SimServiceServicer_to_server(SimServicer(world), server)
            self.services = (*SERVICE_NAMES, SIM_SERVICE)
        action_pb2_grpc.add_ActionServiceServicer_to_server(ActionServicer(d), server)
        claims_pb2_grpc.add_ClaimServiceServicer_to_server(self.claims, server)
        config_pb2_grpc.add_ConfigServiceServicer_to_server(ConfigServicer(d), server)
        doctor_pb2_grpc.add_DoctorServiceServicer_to_server(DoctorServicer(d), server)
        mobility_pb2_grpc.add_MobilityServiceServicer_to_server(self.mobility, server)
        plugins_pb2_grpc.add_PluginServiceServicer_to_server(PluginServicer(d), server)
        redundancy_pb2_grpc.add_RedundancyServiceServicer_to_server(RedundancyServicer(d), server)
        status_pb2_grpc.add_StatusServiceServicer_to_server(StatusServicer(d), server)
        topology_pb2_grpc.add_TopologyServiceServicer_to_server(TopologyServicer(d), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        names = (*self.services, health.SERVICE_NAME, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, server)

    @staticmethod
    def _bind(server: grpc.Server, address: str, creds: grpc.ServerCredentials | None) -> int:
        try:
            port = (
                server.add_secure_port(address, creds)
                if creds is not None
                else server.add_insecure_port(address)
            )
        except RuntimeError as e:
            raise ListenerError(f"cannot listen on {address}: {e}") from None
        if port == 0:
            raise ListenerError(f"cannot listen on {address} (address in use or not permitted)")
        return int(port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.health.enter_graceful_shutdown()
        self.claims.shutdown()
        self.mobility.shutdown()
        server.stop(STOP_GRACE).wait(STOP_GRACE + 3)
        remove_socket(self.daemon.opts.socket, self._inode)
        LOG.info("API stopped")


def simulated_world(daemon: DaemonView) -> SimWorld | None:
    """The world a sim-backend router of ``routerd serve --world`` lives in, else None.

    A daemon on any other backend never serves SimService: nothing of the simulator is
    reachable through a real router's API.
    """
    if daemon.opts.backend != "sim":
        return None
    return getattr(daemon, "sim", None)


def start(daemon: DaemonView) -> Callable[[], None]:
    """Daemon component hook: serve the API until the returned callable is called.

    Raises:
        ListenerError: the API cannot listen as configured (nothing is left bound).
    """
    api = ApiServer(daemon)
    api.start()
    return api.stop
