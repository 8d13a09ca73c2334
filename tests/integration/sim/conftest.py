"""Fixtures for the simulated-world tests: the ``routerd_world`` fixtures come from the
``routerd.testing`` pytest plugin (installed with routerd); ``sockdir`` is the API suite's."""

from __future__ import annotations

from tests.integration.api.conftest import sockdir

__all__ = ["sockdir"]
