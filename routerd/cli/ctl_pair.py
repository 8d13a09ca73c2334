"""``routerctl failback``: make this router its pair's active router again, without an outage.

A router of a pair that recovered from a failure comes back as standby and stays so (no
preemption): the partner keeps serving, so the recovery costs no second outage. Failback
is the operator's decision (or ``failbackHoldDown``'s): this command asks routerd to take
over by VRRP preemption (make-before-break for the address; a packet that reaches the
partner after it let go is forwarded to this router), then restores the normal priority.
Its arguments are in ``ctl_args``.
"""

from __future__ import annotations

import argparse

from routerd.cli.common import EXIT_OK
from routerd.cli.ctl_client import Client
from routerd.cli.ctl_output import emit
from routerd.v1 import redundancy_pb2, redundancy_pb2_grpc


def cmd_failback(args: argparse.Namespace, client: Client) -> int:
    stub = client.stub(redundancy_pb2_grpc.RedundancyServiceStub)
    resp = client.call(stub.Failback, redundancy_pb2.FailbackRequest())
    if args.output == "table":
        print(resp.message)
        print(f"now {resp.role.role}: {resp.role.why}")
    else:
        emit(resp, args.output)
    return EXIT_OK
