"""``routerd validate`` and ``routerd schema``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from routerd.cli.common import EXIT_OK, EXIT_USAGE, add_config, add_output, add_world
from routerd.configfile import load_file
from routerd.core.errors import ConfigIssue
from routerd.core.loader import LoadResult
from routerd.core.resources import KINDS, ROUTER_API_VERSION
from routerd.core.validation_mobility import mobility_notes
from routerd.providers import config_checks


def load_config(path: str) -> LoadResult:
    """Load a startup config with every rule, provider rules included."""
    return load_file(path, extra_checks=[config_checks])


def print_issues(result: LoadResult, *, stream: Any = sys.stderr) -> None:
    for e in result.errors:
        print(f"error: {e.render()}", file=stream)
    for w in result.warnings:
        print(f"warning: {w.render()}", file=stream)


def _issue_json(i: ConfigIssue) -> dict[str, Any]:
    return i.as_dict()


def _validate_world(args: argparse.Namespace) -> int:
    from routerd.backends.sim.worldfile.load import load_world_file

    world = load_world_file(args.world)
    if args.output == "json":
        doc = {
            "valid": world.valid,
            "errors": [_issue_json(e) | {"file": e.file} for e in world.errors],
            "warnings": [_issue_json(w) | {"file": w.file} for w in world.warnings],
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK if world.valid else EXIT_USAGE
    for e in world.errors:
        print(f"error: {e.render()}")
    for w in world.warnings:
        print(f"warning: {w.render()}")
    if world.valid and world.spec is not None:
        body = world.spec.spec
        print(
            f"{args.world}: valid world {world.spec.name} ({len(body.routers)} routers, "
            f"{len(body.vms)} VMs, {len(world.spec.segments())} segments, "
            f"{len(world.warnings)} warnings)"
        )
    else:
        print(f"{args.world}: {len(world.errors)} error(s); nothing was started")
    return EXIT_OK if world.valid else EXIT_USAGE


def cmd_validate(args: argparse.Namespace) -> int:
    if args.world:
        return _validate_world(args)
    result = load_config(args.config)
    notes = mobility_notes(result.config) if result.config is not None else []
    if args.output == "json":
        print(
            json.dumps(
                {
                    "valid": result.valid,
                    "errors": [_issue_json(e) for e in result.errors],
                    "warnings": [_issue_json(w) for w in result.warnings],
                    "info": [_issue_json(n) for n in notes],
                },
                indent=2,
            )
        )
    else:
        print_issues(result, stream=sys.stdout)
        for n in notes:
            print(f"info: {n.render()}")
        if result.valid:
            count = len(result.config) if result.config else 0
            print(f"{args.config}: valid ({count} resources, {len(result.warnings)} warnings)")
        else:
            print(f"{args.config}: {len(result.errors)} error(s); nothing was applied")
    return EXIT_OK if result.valid else EXIT_USAGE


def router_schema() -> dict[str, Any]:
    """JSON Schema of a Router file (every startup kind), for editors."""
    variants = []
    defs: dict[str, Any] = {}
    for kind, cls in sorted(KINDS.items()):
        if kind == "DynamicConfigPart":
            continue
        schema = cls.model_json_schema(by_alias=True)
        defs.update(schema.pop("$defs", {}))
        props = schema.setdefault("properties", {})
        props["kind"] = {"const": kind}
        props["apiVersion"] = {"const": cls.API_VERSION}
        schema["title"] = kind
        variants.append(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "routerd Router",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": ROUTER_API_VERSION},
            "kind": {"const": "Router"},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            },
            "spec": {
                "type": "object",
                "properties": {"resources": {"type": "array", "items": {"oneOf": variants}}},
            },
        },
        "$defs": defs,
    }


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(router_schema(), indent=2))
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check a config file or World file; exit 0 valid, 2 invalid",
        description="Validate a Router YAML file (-c) or a simulated World file (--world, "
        "with every router config it names) and report every error at once (file, line, "
        "Kind/name, field path, what to do). Warnings are printed but do not fail; info lines "
        "name what is allowed but worth knowing (a static claim inside a mobile domain pins "
        "its address). Exit 0 when valid, 2 when not.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    add_config(source, required=False)
    add_world(source)
    add_output(p, ("text", "json"), "text")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of the Router file",
        description="Print the JSON Schema of a Router file for editors "
        "(for example yaml-language-server).",
    )
    p.set_defaults(func=cmd_schema)
