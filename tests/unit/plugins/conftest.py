"""The plugin tests' fixtures (shell-script plugins, pid cleanup), shared with core's."""

from __future__ import annotations

from tests.unit.core.plugins.conftest import reap_pids, script

__all__ = ["reap_pids", "script"]
