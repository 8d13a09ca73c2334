"""Find the shipped example configs (kept here for the CLI; see ``routerd.examples``)."""

from __future__ import annotations

from routerd.examples import example_text, examples_dir, world_file

__all__ = ["example_text", "examples_dir", "world_file"]
