"""Every documented ``routerd``/``routerctl`` command runs where it can and prints what is shown.

test_commands proves each documented line parses; this runs them. ``routerctl`` commands go
to a real daemon (``routerd serve`` on the sim backend, in-process, on the example config
the page is about); ``routerd`` commands run as a process, offline (``plan``/``apply`` on the
sim backend, ``install`` into a temp root). Each must exit as ``EXPECTED_EXIT`` says (0 by
default), without a traceback. A command that cannot run here is a skipped case whose reason
says why (``-rs`` lists them), never a silent omission.

Where a page shows a command's output (a ``text`` block right after the block whose last
command it is), the run's output must contain it: every documented line, in order, after
normalising what differs between runs (ages, timestamps, WireGuard keys, temp paths, column
widths). A documented line ending in ``…`` is a prefix. Where the page shows a run the sim
cannot reproduce, ``DIFFERS`` names the columns that differ and why, or ``NOT_COMPARED`` says
why the output is not compared at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.api.harness import Served, make_daemon, run_ctl, serve
from tests.support.configs import EXAMPLES, with_keys
from tests.unit.docs.conftest import ROOT, pages
from tests.unit.docs.test_commands import (
    FENCE,
    PARSERS,
    PLACEHOLDER,
    SHELL_BLOCKS,
    program,
    simple_commands,
)

pytestmark = pytest.mark.integration

CONFIG_PATHS = {"/etc/routerd/router.yaml", "router.yaml"}
INVENTORY = EXAMPLES / "plugins" / "inventory"
INSTALLED_INVENTORY = "/usr/local/libexec/routerd/plugins/inventory/bin/inventory"

# The routerd subcommands that may run here, and how: each is offline or forced onto the sim
# backend or a temp root. Anything else (``serve`` above all: on this host it would configure
# the real network) is not run, with the reason.
RUNS = {"validate", "schema", "plan", "apply", "install", "demo"}
NOT_RUN = {
    ("routerd", "serve"): "runs in the foreground until stopped; the test starts this same "
    "daemon on the sim backend and runs the page's routerctl commands against it",
    **{
        ("routerctl", *words): "the page's sim daemon has no mobile domain; these commands "
        "and their output are checked against a mobility port in "
        "tests/integration/api/test_routerctl_mobility.py"
        for words in (
            ("move",),
            ("where",),
            ("pin",),
            ("unpin",),
            ("get", "homes"),
            ("watch", "homes"),
            ("history", "address"),
            ("history", "domain"),
        )
    },
}
# The exit code a documented command has on the page's example, when it is not 0.
EXPECTED_EXIT: dict[tuple[str, ...], int] = {}
# Output the sim reproduces only in part: the columns that differ, and why.
DIFFERS = {
    ("routerctl", "get", "claims"): (
        ("STATE", "REASON", "SINCE"),
        "the page shows both routers keyed and handshaking; a single sim daemon has no peer, "
        "so its claim waits at delivering/handshake-stale",
    ),
}
# Output not compared at all, and why.
NOT_COMPARED = {
    ("routerctl", "doctor", "hybrid"): "the page shows a real router's live checks (routes, "
    "firewall, handshake), which need root on a real host; on the sim backend they are skipped",
}


@dataclass(frozen=True)
class Doc:
    """One documented command, with the output the page shows right after it (if any)."""

    page: str
    line: int
    argv: tuple[str, ...]
    output: str | None = None

    @property
    def words(self) -> tuple[str, ...]:
        """Program name and subcommand words, global options (``--log-format json``) left out."""
        name, rest = Path(self.argv[0]).name, list(self.argv[1:])
        while rest and rest[0].startswith("-"):
            del rest[: 1 if "=" in rest[0] else 2]
        return (name, *rest)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {' '.join(self.argv)}"


def blocks(path: Path) -> Iterator[tuple[str, int, list[str]]]:
    """(language, first line number, lines) of every fenced block in a page."""
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            j = i + 1
            while j < len(lines) and not FENCE.match(lines[j]):
                j += 1
            yield fence.group(1).lower(), i + 2, lines[i + 1 : j]
            i = j
        i += 1


def block_commands(start: int, body: list[str]) -> list[tuple[int, tuple[str, ...]]]:
    out, pending, first = [], "", 0
    for n, raw in enumerate(body, start):
        first = first or n
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending, at = (pending + raw).strip(), "", first
        first = 0
        if not re.search(r"\brouter(d|ctl)\b", line) or PLACEHOLDER.search(line):
            continue
        for words in map(program, simple_commands(line)):
            if words and Path(words[0]).name in PARSERS:
                out.append((at, tuple(words)))
    return out


def documented() -> list[Doc]:
    found: list[Doc] = []
    for path in pages():
        page = str(path.relative_to(ROOT))
        previous: list[tuple[int, tuple[str, ...]]] = []
        for lang, start, body in blocks(path):
            if lang in SHELL_BLOCKS:
                previous = block_commands(start, body)
                found.extend(Doc(page, n, argv) for n, argv in previous)
                continue
            if lang == "text" and previous:
                n, argv = previous[-1]
                found.remove(Doc(page, n, argv))
                found.append(Doc(page, n, argv, "\n".join(body)))
            previous = []
    return found


DOCS = documented()


# -- normalising ------------------------------------------------------------------------


def normalise(text: str, tmp: str = "") -> list[str]:
    """Lines with what differs between runs replaced by a token, whitespace collapsed."""
    if tmp:
        text = text.replace(tmp, "<tmp>")
    text = re.sub(r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?", "<time>", text)
    text = re.sub(r"\b(\d+(\.\d+)?(ms|s|m|h|d) ago|just now)\b", "<ago>", text)
    text = re.sub(r"\bin \d+(\.\d+)?(ms|s|m|h|d)\b", "<ago>", text)
    text = re.sub(r"[A-Za-z0-9+/]{42,43}=", "<key>", text)
    text = re.sub(r"[A-Za-z0-9+/]{6,}\.\.\.", "<key>", text)
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def masked(text: str, columns: tuple[str, ...]) -> str:
    """A fixed-width table with ``columns`` blanked (header kept), for a partial compare."""
    lines = text.splitlines()
    header = next((i for i, ln in enumerate(lines) if all(c in ln.split() for c in columns)), None)
    if header is None:
        return text
    starts = [m.start() for m in re.finditer(r"\S+", lines[header])]
    names = lines[header].split()
    out = lines[: header + 1]
    for row in lines[header + 1 :]:
        if not row.strip():
            out.append(row)
            continue
        cells = [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        cells = ["*" if name in columns else cell for name, cell in zip(names, cells, strict=True)]
        out.append("  ".join(cells))
    return "\n".join(out)


def contains(actual: list[str], shown: list[str]) -> str | None:
    """None when every shown line appears in ``actual`` in order, else the first one missing."""
    i = 0
    for want in shown:
        prefix = want[:-1].rstrip() if want.endswith("…") else None
        while i < len(actual) and not (
            actual[i] == want or (prefix is not None and actual[i].startswith(prefix))
        ):
            i += 1
        if i == len(actual):
            return want
        i += 1
    return None


# -- running ----------------------------------------------------------------------------


def key(words: tuple[str, ...], table: dict[tuple[str, ...], object]) -> tuple[str, ...] | None:
    return next((k for k in table if words[: len(k)] == k), None)


def page_config(page: str, tmp: Path) -> str:
    """The example config the page is about, with keys (and the plugin) under ``tmp``."""
    howto = re.fullmatch(r"docs/howto-(\w+)\.md", page)
    if page.startswith("examples/plugins/inventory/"):
        text = (INVENTORY / "router.yaml").read_text()
        text = text.replace(INSTALLED_INVENTORY, str(INVENTORY / "bin" / "inventory"))
    elif howto:
        text = (EXAMPLES / howto.group(1) / "cloud.yaml").read_text()
    else:  # the sample `routerd install` writes
        text = (EXAMPLES / "azure" / "onprem.yaml").read_text()
    return with_keys(text, tmp / "keys")


@dataclass
class Lab:
    """Temp space, and one sim daemon per page config, shared by the module's runs."""

    root: Path
    daemons: dict[str, Served]

    def daemon(self, page: str) -> Served:
        text = page_config(page, self.root / "cfg")
        if text not in self.daemons:
            where = self.root / f"d{len(self.daemons)}"
            sock = str(where / "s.sock")
            daemon, host = make_daemon(where, sock, pytest.MonkeyPatch(), text=text, backend="sim")
            self.daemons[text] = serve(daemon, host, where)
        return self.daemons[text]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """Name: lab / Scope: module / Depends: nothing. Temp space and the sim daemons."""
    root = Path(tempfile.mkdtemp(prefix="rddoc-", dir="/tmp"))
    state = Lab(root, {})
    try:
        yield state
    finally:
        for served in state.daemons.values():
            served.close()
        shutil.rmtree(root, ignore_errors=True)


def run(doc: Doc, lab: Lab, tmp: Path) -> tuple[int, str, str]:
    """Run a documented command the way it can run here; (exit code, stdout, stderr)."""
    argv = list(doc.argv[1:])
    if doc.words[0] == "routerctl":
        served = lab.daemon(doc.page)
        while "--socket" in argv:  # the page's socket is ours here
            i = argv.index("--socket")
            del argv[i : i + 2]
        r = run_ctl("--socket", served.socket, *argv)
        return r.code, r.out, r.err
    assert doc.words[1] in RUNS, doc  # never anything that could touch this host
    config = tmp / "router.yaml"
    config.write_text(page_config(doc.page, lab.root / "cfg"))
    argv = [str(config) if a in CONFIG_PATHS else a for a in argv]
    for option in ("--backend", "--state-dir", "--root"):  # never the page's: ours below
        while option in argv:
            i = argv.index(option)
            del argv[i : i + 2]
    if doc.words[1] in ("plan", "apply"):
        argv += ["--backend", "sim", "--state-dir", str(tmp / "state")]
    if doc.words[1] == "install":
        argv += ["--root", str(tmp / "root")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "routerd.cli.routerd_main", *argv]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("doc", DOCS, ids=str)
def test_documented_command_runs_and_prints_what_the_page_shows(doc: Doc, lab: Lab, tmp_path):
    reason = NOT_RUN.get(key(doc.words, NOT_RUN) or ())
    if reason is None and doc.words[0] == "routerd" and doc.words[1] not in RUNS:
        reason = f"routerd {doc.words[1]} is not known to be safe to run on this host"
    if reason:
        pytest.skip(f"not run: {reason}")
    code, out, err = run(doc, lab, tmp_path)
    want = EXPECTED_EXIT.get(key(doc.words, EXPECTED_EXIT) or (), 0)
    assert code == want and "Traceback" not in err, f"{doc}\nexit {code}\n{out}\n{err}"
    if doc.output is None:
        return
    if (why := NOT_COMPARED.get(key(doc.words, NOT_COMPARED) or ())) is not None:
        pytest.skip(f"ran; output not compared: {why}")
    shown, printed = doc.output, out
    if (k := key(doc.words, DIFFERS)) is not None:
        columns, _ = DIFFERS[k]
        shown, printed = masked(shown, columns), masked(printed, columns)
    missing = contains(normalise(printed, str(lab.root)), normalise(shown))
    assert missing is None, (
        f"{doc}\n  the page shows {missing!r}, which the command does not print:\n{out}\n"
        "  update the page's output block (or the command)"
    )


def test_outputs_were_found_and_every_exception_is_used():
    with_output = [d for d in DOCS if d.output is not None]
    assert len(with_output) >= 8
    used = {key(d.words, t) for d in DOCS for t in (NOT_RUN, DIFFERS, NOT_COMPARED, EXPECTED_EXIT)}
    unused = [
        k for t in (NOT_RUN, DIFFERS, NOT_COMPARED, EXPECTED_EXIT) for k in t if k not in used
    ]
    assert not unused, f"exceptions that match no documented command: {unused}"


def test_the_comparison_catches_a_changed_line():
    printed = "NAME  ADDRESS        STATE\nvm-1  10.0.0.1/32    verified\n"
    assert contains(normalise(printed), normalise("NAME ADDRESS STATE")) is None
    assert contains(normalise(printed), normalise("vm-1  10.0.0.2/32  verified")) is not None
    assert contains(normalise("a long detail line"), normalise("a long det…")) is None
    assert contains(normalise("x 3s ago"), normalise("x 1m ago")) is None
    shown = "NAME  STATE\nvm-1  verified\n"
    assert masked(printed, ("STATE",)).splitlines()[1].split() == ["vm-1", "10.0.0.1/32", "*"]
    assert masked(shown, ("STATE",)).splitlines()[1].split() == ["vm-1", "*"]
