"""Read the host's iptables filter table, legacy and nf_tables backends alike (#52).

Both backends can hold rules at once (a distro image may load rules with one and Docker
with the other), and a packet must pass both, so each is read separately: first
``iptables-<backend>-save -t filter`` (which only dumps tables that exist, so it never loads
a kernel module), then ``iptables-<backend> -S`` when only that binary is present, and plain
``iptables-save`` / ``iptables -S`` on hosts with a single unsuffixed iptables. Lines are
translated into ``packet_filter`` rules; match modules we do not model become MAYBE
conditions, never silently ignored.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from routerd.doctor.host import NOT_FOUND, Host
from routerd.doctor.packet_filter import (
    ACCEPT,
    CONTINUE,
    DROP,
    GOTO,
    JUMP,
    RETURN,
    UNKNOWN,
    Addr,
    Chain,
    Condition,
    Iface,
    Opaque,
    Port,
    Proto,
    Rule,
    State,
    split_csv,
)

BACKENDS = ("legacy", "nft")
NON_TERMINAL = frozenset(
    {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "CT", "TRACE", "AUDIT", "CLASSIFY"}
)
PROTO_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp"}
IGNORED_MODULES = frozenset({"tcp", "udp", "icmp", "comment", "state", "conntrack", "multiport"})


@dataclass
class Ruleset:
    """One backend's filter table.

    Attributes:
        tool: the command that produced it (``iptables-nft-save``).
        backend: "legacy", "nft" or "" (unsuffixed iptables).
        chains: name -> chain; base chains carry their policy.
        error: why nothing could be read ("" when read).
    """

    tool: str
    backend: str
    chains: dict[str, Chain] = field(default_factory=dict)
    error: str = ""

    @property
    def command(self) -> str:
        """The iptables binary to name in a remedy."""
        return f"iptables-{self.backend}" if self.backend else "iptables"


def read_rulesets(host: Host) -> list[Ruleset]:
    """Every iptables backend present on the host (missing binaries are simply absent)."""
    found: list[Ruleset] = []
    for backend in BACKENDS:
        rs = _read_backend(host, f"iptables-{backend}", backend)
        if rs is not None:
            found.append(rs)
    if not found:
        rs = _read_backend(host, "iptables", "")
        if rs is not None:
            found.append(rs)
    return found


def _read_backend(host: Host, binary: str, backend: str) -> Ruleset | None:
    save = host.cached(f"{binary}-save", "-t", "filter")
    if save.ok:
        return parse(save.stdout, tool=f"{binary}-save", backend=backend)
    if save.failure != NOT_FOUND:
        return Ruleset(f"{binary}-save", backend, error=save.describe())
    listing = host.cached(binary, "-S")
    if listing.ok:
        return parse(listing.stdout, tool=f"{binary} -S", backend=backend)
    if listing.failure == NOT_FOUND:
        return None
    return Ruleset(f"{binary} -S", backend, error=listing.describe())


def parse(text: str, *, tool: str, backend: str) -> Ruleset:
    """Parse ``iptables-save`` or ``iptables -S`` output (filter table only)."""
    rs = Ruleset(tool, backend)
    table = "filter"
    lines = [ln.strip() for ln in text.splitlines()]
    for line in lines:
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "filter":
            _declare(rs, line)
    for line in lines:
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "filter" and line.startswith("-A "):
            _append(rs, line)
    return rs


def _declare(rs: Ruleset, line: str) -> None:
    if line.startswith(":"):
        name, _, rest = line[1:].partition(" ")
        policy = rest.split()[0] if rest.split() else "-"
        rs.chains[name] = Chain(name, policy=_policy(policy))
    elif line.startswith(("-P ", "-N ")):
        parts = line.split()
        policy = _policy(parts[2]) if parts[0] == "-P" and len(parts) > 2 else ""
        rs.chains[parts[1]] = Chain(parts[1], policy=policy)


def _policy(word: str) -> str:
    return {"ACCEPT": ACCEPT, "DROP": DROP}.get(word, "")


def _append(rs: Ruleset, line: str) -> None:
    try:
        tokens = shlex.split(line)
    except ValueError:
        tokens = line.split()
    chain = rs.chains.setdefault(tokens[1], Chain(tokens[1]))
    conditions, verdict, target = _rule(tokens[2:], set(rs.chains))
    chain.rules.append(Rule(tuple(conditions), verdict, f"{rs.tool}: {line}", target))


def _rule(tokens: list[str], chains: set[str]) -> tuple[list[Condition], str, str]:
    conds: list[Condition] = []
    verdict, target = CONTINUE, ""
    for neg, opt, args in _options(tokens):
        if opt in ("-j", "-g", "--jump", "--goto"):
            verdict, target = _target(args[0] if args else "", opt in ("-g", "--goto"), chains)
            continue
        cond = _condition(opt, args, neg)
        if cond is not None:
            conds.append(cond)
    return conds, verdict, target


def _condition(opt: str, args: list[str], neg: bool) -> Condition | None:
    value = args[0] if args else ""
    if opt in ("-i", "--in-interface"):
        return Iface("iif", (value,), neg)
    if opt in ("-o", "--out-interface"):
        return Iface("oif", (value,), neg)
    if opt in ("-p", "--protocol"):
        return Proto((PROTO_NUMBERS.get(value, value),), neg)
    if opt in ("-s", "--source", "-d", "--destination"):
        return Addr("src" if opt in ("-s", "--source") else "dst", split_csv([value]), neg)
    if opt in ("--dport", "--destination-port", "--dports", "--destination-ports"):
        return Port(tuple(_port_range(p) for p in split_csv([value])), neg)
    if opt in ("--state", "--ctstate"):
        return State(split_csv([value]), neg)
    if opt == "-m":
        return None if value in IGNORED_MODULES else Opaque(f"-m {value}")
    if opt in ("--sport", "--source-port", "--sports", "--source-ports"):
        return Opaque(f"{opt} {value} (source port)")
    if opt in ("--comment", "--reject-with", "--log-prefix", "--log-level"):
        return None
    return Opaque(" ".join([opt, *args]))


def _port_range(text: str) -> tuple[int, int]:
    """``22`` -> (22, 22); ``1000:2000``; open ends ``:2000`` / ``1000:`` as iptables reads them."""
    lo, sep, hi = text.partition(":")
    if not sep:
        return int(lo), int(lo)
    return int(lo or 0), int(hi or 65535)


def _target(name: str, goto: bool, chains: set[str]) -> tuple[str, str]:
    if name == "ACCEPT":
        return ACCEPT, ""
    if name in ("DROP", "REJECT"):
        return DROP, ""
    if name == "RETURN":
        return RETURN, ""
    if name in chains:
        return (GOTO if goto else JUMP), name
    if name in NON_TERMINAL:
        return CONTINUE, ""
    return UNKNOWN, name


def _options(tokens: list[str]) -> Iterator[tuple[bool, str, list[str]]]:
    """``(negated, option, arguments)`` for each option in a rule's tokens."""
    i, neg = 0, False
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            neg, i = True, i + 1
            continue
        if not _is_option(tok):
            i += 1
            continue
        args: list[str] = []
        i += 1
        while i < len(tokens):
            t = tokens[i]
            if t == "!" and i + 1 < len(tokens) and _is_option(tokens[i + 1]):
                break  # it negates the next option
            if _is_option(t):
                break
            if t == "!":  # old syntax: --dport ! 22
                neg = True
            else:
                args.append(t)
            i += 1
        yield neg, tok, args
        neg = False


def _is_option(tok: str) -> bool:
    return tok.startswith("-") and not tok.lstrip("-").isdigit()
