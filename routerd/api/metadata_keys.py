"""Trailing-metadata keys of routerd's gRPC API, shared by the server and its clients.

A module of its own (no grpc, no core imports) so ``routerctl`` can read a refusal's keys
without loading the server's error mapping.
"""

from __future__ import annotations

RESUME_SEQ_KEY = "routerd-resume-seq"
"""Trailing metadata key naming the last sequence a watcher was sent (resume after it)."""
REASON_KEY = "routerd-reason"
"""Trailing metadata key carrying the stable reason code(s) of a refusal, comma-separated."""
