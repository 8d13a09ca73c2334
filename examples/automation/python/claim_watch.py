"""The automation under test: what a monitoring job pages on.

It reads claims through routerd's gRPC API, exactly as it would on a real router; the tests
next to it run it against a simulated world instead.
"""

from __future__ import annotations

import grpc

from routerd.v1 import claims_pb2, claims_pb2_grpc


def unhealthy_claims(channel: grpc.Channel) -> list[str]:
    """Names of the claims a person should look at: every claim that is not verified."""
    stub = claims_pb2_grpc.ClaimServiceStub(channel)
    claims = stub.ListClaims(claims_pb2.ListClaimsRequest()).claims
    return sorted(c.name for c in claims if c.state != "verified")
