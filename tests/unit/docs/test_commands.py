"""Every ``routerd ...`` / ``routerctl ...`` command line shown in the docs parses.

Command lines are taken from fenced code blocks (shell-like or unlabelled; ``text``, ``json``
and other output blocks are skipped) in README.md and docs/*.md, after joining backslash
continuations, dropping comments, ``sudo``, environment assignments and ``ExecStart=``, and
splitting pipelines and ``&&`` lists. Lines with placeholders (``<name>``, ``...``, ``…``)
are skipped. Inline code spans in prose are checked too, but may leave out required
arguments. Each command goes through the real ``build_parser()``, so a renamed flag, a
removed subcommand or a missing required argument fails here with the page and line.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from routerd.cli import routerctl_main, routerd_main
from tests.unit.docs.conftest import ROOT, pages

FENCE = re.compile(r"^\s*```(\S*)")
SHELL_BLOCKS = {"", "sh", "bash", "shell", "console", "ini", "systemd"}
PLACEHOLDER = re.compile(r"<[A-Za-z][^>]*>|\.\.\.|…")
OPERATORS = {"|", "||", "&&", ";", "&"}
REDIRECTS = {">", ">>", "<", "2>", "2>&1"}
INLINE = re.compile(r"`((?:sudo )?router(?:d|ctl) [^`]+)`")
PARSERS = {"routerd": routerd_main.build_parser, "routerctl": routerctl_main.build_parser}


@dataclass(frozen=True)
class Command:
    page: str
    line: int
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {shlex.join(self.argv)}"


def shell_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, logical line) of every shell-like fenced block in a page."""
    lang: str | None = None
    pending, start = "", 0
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        fence = FENCE.match(raw)
        if fence:
            lang = None if lang is not None else fence.group(1).lower()
            continue
        if lang not in SHELL_BLOCKS:
            continue
        start = start or n
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield start, (pending + raw).strip()
        pending, start = "", 0


def simple_commands(line: str) -> Iterator[list[str]]:
    """The simple commands of one line, with comments and redirections removed."""
    lex = shlex.shlex(line.removeprefix("$ "), posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = "#"
    words: list[str] = []
    tokens = iter(lex)
    for tok in tokens:
        if tok in OPERATORS:
            yield words
            words = []
        elif tok in REDIRECTS:
            next(tokens, None)
        else:
            words.append(tok)
    yield words


def program(words: list[str]) -> list[str]:
    """Strip ``ExecStart=``, ``sudo`` and ``VAR=value`` prefixes."""
    if words and words[0].startswith("ExecStart="):
        words = [words[0].removeprefix("ExecStart="), *words[1:]]
    while words and (words[0] == "sudo" or re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0])):
        words = words[1:]
    return words


def commands() -> list[Command]:
    found = []
    for path in pages():
        for n, line in shell_lines(path):
            if not re.search(r"\brouter(d|ctl)\b", line) or PLACEHOLDER.search(line):
                continue
            for words in map(program, simple_commands(line)):
                if words and Path(words[0]).name in PARSERS:
                    found.append(Command(str(path.relative_to(ROOT)), n, tuple(words)))
    return found


class UsageError(Exception):
    pass


def parse(argv: tuple[str, ...]) -> None:
    def error(_: argparse.ArgumentParser, message: str) -> None:
        raise UsageError(message)

    parser = PARSERS[Path(argv[0]).name]()
    with mock.patch.object(argparse.ArgumentParser, "error", error):
        try:
            parser.parse_args(list(argv[1:]))
        except SystemExit as e:  # --help / --version
            assert e.code == 0


def inline_commands() -> list[Command]:
    """``routerd ...`` / ``routerctl ...`` code spans in prose (often partial references)."""
    found = []
    for path in pages():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for span in INLINE.findall(line):
                words = program(next(simple_commands(span)))
                if words and words[0] in PARSERS and not PLACEHOLDER.search(span):
                    found.append(Command(str(path.relative_to(ROOT)), n, tuple(words)))
    return found


COMMANDS = commands()
INLINE_COMMANDS = inline_commands()


def test_the_docs_show_commands_at_all() -> None:
    pages_with_commands = {c.page for c in COMMANDS}
    assert {"README.md", "docs/install.md", "docs/howto-oci.md"} <= pages_with_commands


@pytest.mark.parametrize("cmd", COMMANDS, ids=str)
def test_documented_command_parses(cmd: Command) -> None:
    try:
        parse(cmd.argv)
    except UsageError as e:
        pytest.fail(
            f"{cmd}\n  does not parse: {e}\n  fix the page (see docs/reference/cli.md), or "
            "label the block ```text if it is output, not a command"
        )


@pytest.mark.parametrize("cmd", INLINE_COMMANDS, ids=str)
def test_inline_command_names_real_commands_and_flags(cmd: Command) -> None:
    """Prose may leave out required arguments (`routerctl dynamic put`), nothing else."""
    try:
        parse(cmd.argv)
    except UsageError as e:
        if not str(e).startswith(("the following arguments are required", "one of the arguments")):
            pytest.fail(f"{cmd}\n  is not a routerd/routerctl command: {e}")


@pytest.mark.parametrize(
    "line",
    [
        "routerctl get claim",  # singular: not a kind
        "routerd serve",  # -c is required
        "routerctl doctor hybrid --probes",
    ],
)
def test_a_wrong_command_is_caught(line: str) -> None:
    (words,) = list(simple_commands(line))
    with pytest.raises(UsageError):
        parse(tuple(words))


def test_extraction_handles_shell_syntax(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "```sh\n"
        "tools/bootstrap && sudo ROUTERD_SOCKET=/tmp/s routerctl get claims -o json | jq . \\\n"
        "    # comment\n"
        "routerd schema > schema.json\n"
        "```\n"
        "```text\nrouterd is not running\n```\n"
        "```ini\nExecStart=/usr/local/bin/routerd serve -c /etc/routerd/router.yaml\n```\n"
    )
    lines = list(shell_lines(page))
    got = [program(w) for _, line in lines for w in simple_commands(line)]
    assert ["routerctl", "get", "claims", "-o", "json"] in got
    assert ["routerd", "schema"] in got
    assert ["/usr/local/bin/routerd", "serve", "-c", "/etc/routerd/router.yaml"] in got
    assert not any(w[:2] == ["routerd", "is"] for w in got)
