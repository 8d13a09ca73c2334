"""Read a World file into a validated ``WorldSpec`` plus each router's config.

Errors read like router-config errors because they are made by the same machinery
(``routerd.core.loader``): every problem at once, each with ``file:line``, the item
(``VM/cloud-vm``, ``Segment/onprem-lan``, ``Router/cloud-router``), the field path inside it
and what to do. A router config given by path is loaded from its own file (its errors name
that file); an inline one is validated in place, its line numbers mapped back into the
World file. Cross-references and addresses are checked by ``routerd.backends.sim.worldfile
.checks``; which WireGuard peer stands for which router by ``.peers``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigError, ConfigIssue
from routerd.core.loader import LineMap, LoadResult, load_text, parse_yaml

from .checks import check_fit, check_world
from .decode import decode_world
from .findings import Findings
from .peers import paired_document, resolve_peers
from .spec import WORLD_KIND, WorldSpec

# libyaml's loader when present (~10x faster), as the router config loader does.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class RouterSource:
    """Where one router's config comes from.

    Attributes:
        name: the router (world item) name.
        doc: the Router document as written (a mapping), None when unreadable.
        file: the file its line numbers refer to.
        inline_at: the World-file path of an inline document (None: from its own file).
        text: the config file's text (configs from their own file).
        config: the validated config (peer keys not yet paired), None when invalid.
    """

    name: str
    doc: Any
    file: str | None
    inline_at: tuple[Any, ...] | None = None
    text: str = ""
    config: RouterConfig | None = None


@dataclass
class WorldFile:
    """A loaded World file: the spec when valid, every finding, the router configs."""

    spec: WorldSpec | None
    file: str | None
    routers: dict[str, RouterSource] = field(default_factory=dict)
    pairs: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """(router, WireGuardPeer name) -> (router it stands for, that router's WireGuard
    interface)."""
    errors: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)
    lines: LineMap = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.spec is not None and not self.errors

    def raise_for_errors(self) -> WorldSpec:
        if self.spec is None or self.errors:
            raise ConfigError(self.errors, self.warnings)
        return self.spec


def _dump_lines(text: str) -> dict[int, tuple[Any, ...]]:
    """Line of a dumped document -> the deepest path that starts on it."""
    _, lines, _ = parse_yaml(text)
    by_line: dict[int, tuple[Any, ...]] = {}
    for path, line in lines.items():
        if len(path) >= len(by_line.get(line, ())):
            by_line[line] = path
    return by_line


def load_router(source: RouterSource, found: Findings, doc: Any = None) -> LoadResult:
    """Validate one router's config (``doc`` instead of the source's, when given).

    A config from its own file keeps that file's lines; an inline one (and any document
    passed as ``doc``) is validated as dumped YAML, its lines mapped back to the World file.
    """
    from routerd.providers import config_checks

    if doc is None and source.inline_at is None:
        return load_text(source.text, source.file, extra_checks=[config_checks])
    text = yaml.dump(source.doc if doc is None else doc, Dumper=_Dumper, sort_keys=False)
    result = load_text(text, source.file, extra_checks=[config_checks])
    if source.inline_at is None:
        return result
    at, by_line = source.inline_at, _dump_lines(text)

    def remap(i: ConfigIssue) -> ConfigIssue:
        path = by_line.get(i.line or 0)
        line = found.line(at + path) if path is not None else None
        return dataclasses.replace(i, line=line or found.line(at), file=found.file)

    result.errors = [remap(i) for i in result.errors]
    result.warnings = [remap(i) for i in result.warnings]
    return result


def router_sources(spec: WorldSpec, base_dir: Path, found: Findings) -> Iterator[RouterSource]:
    """Each router's config document, read from its file or taken inline."""
    for i, router in enumerate(spec.spec.routers):
        at = (*found.item("routers", i), "config")
        if isinstance(router.config, dict):
            yield RouterSource(router.name, router.config, found.file, inline_at=at)
            continue
        if not isinstance(router.config, str) or not router.config:
            continue  # checks.py reports it
        path = Path(router.config)
        path = path if path.is_absolute() else base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            found.issue(
                f"Router/{router.name}",
                at,
                f"cannot read {path}: {e.strerror}; the "
                "path is relative to the World file (or give the Router document "
                "inline)",
            )
            continue
        try:
            doc = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError:
            doc = None  # load_router reports the syntax error with its line
        yield RouterSource(router.name, doc, str(path), text=text)


def load_world_text(
    text: str, file: str | None = None, *, base_dir: Path | None = None
) -> WorldFile:
    """Parse and validate a World document given as text.

    Args:
        text: the YAML.
        file: its path, for messages (and the base of relative config paths).
        base_dir: where relative config paths start (default: the file's directory, else
            the current directory).

    Returns:
        The WorldFile; ``valid`` when the world and every router config are.
    """
    data, lines, syntax = parse_yaml(text, file)
    world = WorldFile(None, file, lines=lines)
    found = Findings(file, lines)
    if syntax:
        world.errors = [dataclasses.replace(i, resource=WORLD_KIND) for i in syntax]
        if data is None:
            return world
    spec = decode_world(data, found)
    if spec is not None:
        check_world(spec, found)
        base = base_dir or (Path(file).parent if file else Path.cwd())
        for source in router_sources(spec, base, found):
            result = load_router(source, found)
            found.errors += result.errors
            found.warnings += result.warnings
            source.config = result.config
            world.routers[source.name] = source
        configs = {n: s.config for n, s in world.routers.items() if s.config is not None}
        check_fit(spec, configs, found)
        world.pairs = resolve_peers(spec, configs, found)
    world.spec = spec
    world.errors += found.errors
    world.warnings += found.warnings
    return world


def load_world_file(path: str | Path) -> WorldFile:
    """Read and validate a World file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        issue = ConfigIssue(WORLD_KIND, "", f"cannot read world file: {e.strerror}", None, str(p))
        return WorldFile(None, str(p), errors=[issue])
    return load_world_text(text, str(p))


def paired_config(world: WorldFile, router: str, key_dirs: dict[str, Path]) -> LoadResult:
    """``router``'s config with every WireGuard peer's key filled in (keys created).

    Args:
        world: a valid WorldFile.
        router: one of its routers.
        key_dirs: router name -> its key directory (every router of the world).
    """
    source = world.routers[router]
    doc, _ = paired_document(router, source.doc, world.pairs, key_dirs)
    return load_router(source, Findings(world.file, world.lines), doc)
