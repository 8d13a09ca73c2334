"""RedundancyService: this router's role in its pair, and ``routerctl failback``.

The role comes from the daemon's RoleSource (``daemon.role_source``; a daemon without the
redundancy component, a simulated router for instance, is its site's only router). A
failback is a planned takeover: the RoleSource reloads keepalived at a priority the
partner yields to and restores the normal one once master, so no traffic is lost.
"""

from __future__ import annotations

import grpc

from routerd.api import convert
from routerd.api.errors import unary
from routerd.api.view import DaemonView
from routerd.core.redundancy import RoleSource, SoloRoleSource
from routerd.v1 import redundancy_pb2, redundancy_pb2_grpc


def role_source(daemon: object) -> RoleSource:
    """The daemon's RoleSource (a solo one when it has none)."""
    source = getattr(daemon, "role_source", None)
    return source if source is not None else SoloRoleSource()


def pair_role(source: RoleSource) -> redundancy_pb2.PairRole:
    """The role of ``source`` as the API reports it."""
    r = source.role()
    plan = getattr(source, "plan", None)
    return redundancy_pb2.PairRole(
        role=r.role.value,
        since=convert.timestamp(r.since),
        why=r.why,
        partners=list(plan.peers) if plan is not None else [],
        group=r.group,
        active=r.active,
    )


class RedundancyServicer(redundancy_pb2_grpc.RedundancyServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    @unary
    def GetRole(
        self, request: redundancy_pb2.GetRoleRequest, context: grpc.ServicerContext
    ) -> redundancy_pb2.PairRole:
        return pair_role(role_source(self.daemon))

    @unary
    def Failback(
        self, request: redundancy_pb2.FailbackRequest, context: grpc.ServicerContext
    ) -> redundancy_pb2.FailbackResponse:
        source = role_source(self.daemon)
        message = source.take_over()  # TakeoverRefused: FAILED_PRECONDITION, with why
        return redundancy_pb2.FailbackResponse(message=message, role=pair_role(source))
