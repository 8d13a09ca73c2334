"""Read xtables rulesets (``iptables-save`` text) as ``packet_filter`` chains.

Two different things print this text and the doctor needs both:

* ``iptables-legacy-save`` (and ``ip6tables-legacy-save``): the legacy x_tables kernel path,
  which nftables never shows. Its base chains hook into netfilter at fixed priorities next
  to every nftables chain, so they are walked like any other base chain.
* ``iptables-nft-save``: iptables-nft's *view* of nf_tables. The kernel's truth for those
  tables is ``nft -j list ruleset``; this text is read only to decode the rules nft prints
  as opaque ``xt`` expressions (``-m conntrack``, ``-j LOG``, ...) and to learn which tables
  iptables-nft can manage (it marks the others "incompatible" and lists no rules there).

Without ``-t`` the save commands dump only tables that exist: ``iptables-legacy-save -t
filter`` would *create* a legacy filter table in the namespace it reads. Lines are
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
    Chain,
    Rule,
    split_csv,
)
from routerd.doctor.packet_match import (
    Addr,
    AddrType,
    Condition,
    Iface,
    Opaque,
    Port,
    Proto,
    State,
)

NON_TERMINAL = frozenset(
    {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "CT", "TRACE", "AUDIT", "CLASSIFY"}
)
NAT_TARGETS = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP", "TPROXY"})
PROTO_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp"}
IGNORED_MODULES = frozenset(
    {"tcp", "udp", "icmp", "icmp6", "comment", "state", "conntrack", "multiport", "addrtype"}
)
BINARIES = {"ipv4": "iptables", "ipv6": "ip6tables"}
INCOMPATIBLE = "incompatible"


@dataclass
class Ruleset:
    """One xtables dump: every table it printed.

    Attributes:
        tool: the command that produced it (``iptables-legacy-save``).
        binary: the iptables binary that manages these tables (for a remedy).
        backend: "legacy" or "nft".
        tables: table -> chain name -> chain; base chains carry their policy.
        lines: (table, chain) -> the ``-A`` lines in order, as printed.
        incompatible: tables the tool printed without rules ("use 'nft' tool").
        error: why nothing could be read ("" when read).
    """

    tool: str
    binary: str
    backend: str
    tables: dict[str, dict[str, Chain]] = field(default_factory=dict)
    lines: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    incompatible: set[str] = field(default_factory=set)
    error: str = ""

    @property
    def chains(self) -> dict[str, Chain]:
        """The filter table (the only one the ``-S`` form lists)."""
        return self.tables.get("filter", {})


def read_legacy(host: Host, family: str = "ipv4") -> Ruleset | None:
    """The legacy x_tables rules, or None when no legacy iptables is installed.

    Hosts with a single unsuffixed ``iptables`` (no ``-legacy``/``-nft`` binaries) are read
    through it; its banner says which backend it drives, and an nf_tables one is left to
    ``nft`` (returned with backend "nft" so the caller can use it as a decoder instead).
    """
    binary = BINARIES[family]
    found = _read(host, f"{binary}-legacy", "legacy")
    if found is not None:
        return found
    if host.cached(f"{binary}-nft-save").failure != NOT_FOUND:
        return None  # an iptables-nft host without legacy tools: nothing legacy to read
    return _read(host, binary, "")


def read_nft_view(host: Host, family: str = "ipv4") -> Ruleset | None:
    """iptables-nft's view of nf_tables (None when iptables-nft is not installed)."""
    return _read(host, f"{BINARIES[family]}-nft", "nft")


def _read(host: Host, binary: str, backend: str) -> Ruleset | None:
    save = host.cached(f"{binary}-save")
    if save.ok:
        return parse(save.stdout, tool=f"{binary}-save", binary=binary, backend=backend)
    if save.failure != NOT_FOUND:
        return Ruleset(f"{binary}-save", binary, backend or "legacy", error=save.describe())
    listing = host.cached(binary, "-S")
    if listing.ok:
        return parse(listing.stdout, tool=f"{binary} -S", binary=binary, backend=backend)
    if listing.failure == NOT_FOUND:
        return None
    return Ruleset(f"{binary} -S", binary, backend or "legacy", error=listing.describe())


def parse(text: str, *, tool: str, binary: str = "iptables", backend: str = "legacy") -> Ruleset:
    """Parse ``iptables-save`` (every table) or ``iptables -S`` (filter only) output.

    Args:
        text: what the tool printed.
        tool: the command, for rule texts.
        binary: the iptables binary a remedy should use.
        backend: "legacy", "nft", or "" to take it from the banner (``(nf_tables)``).
    """
    if not backend:
        backend = "nft" if "(nf_tables)" in text.split("\n", 1)[0] else "legacy"
    rs = Ruleset(tool, binary, backend)
    lines = [ln.strip() for ln in text.splitlines()]
    table = "filter"
    for line in lines:
        if line.startswith("# Table `"):
            rs.incompatible.add(line.split("`", 1)[1].split("'", 1)[0])
        elif line.startswith("*"):
            table = line[1:].strip()
            rs.tables.setdefault(table, {})
        else:
            _declare(rs.tables.setdefault(table, {}), line)
    table = "filter"
    for line in lines:
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("-A "):
            _append(rs, table, line)
    return rs


def _declare(chains: dict[str, Chain], line: str) -> None:
    if line.startswith(":"):
        name, _, rest = line[1:].partition(" ")
        policy = rest.split()[0] if rest.split() else "-"
        chains[name] = Chain(name, policy=_policy(policy))
    elif line.startswith(("-P ", "-N ")):
        parts = line.split()
        policy = _policy(parts[2]) if parts[0] == "-P" and len(parts) > 2 else ""
        chains[parts[1]] = Chain(parts[1], policy=policy)


def _policy(word: str) -> str:
    return {"ACCEPT": ACCEPT, "DROP": DROP}.get(word, "")


def _append(rs: Ruleset, table: str, line: str) -> None:
    try:
        tokens = shlex.split(line)
    except ValueError:
        tokens = line.split()
    chains = rs.tables.setdefault(table, {})
    chain = chains.setdefault(tokens[1], Chain(tokens[1]))
    conditions, verdict, target = parse_rule(tokens[2:], set(chains))
    text = f"{rs.binary} -t {table} {chain.name} rule {len(chain.rules) + 1}: {line}"
    chain.rules.append(Rule(tuple(conditions), verdict, text, target))
    rs.lines.setdefault((table, tokens[1]), []).append(line)


def parse_rule(tokens: list[str], chains: set[str]) -> tuple[list[Condition], str, str]:
    """One rule's options (after ``-A CHAIN``) as conditions, a verdict and a target."""
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
    if opt in ("-i", "--in-interface", "-o", "--out-interface"):
        return Iface("iif" if opt in ("-i", "--in-interface") else "oif", (value,), neg)
    if opt in ("-p", "--protocol"):
        return Proto((PROTO_NUMBERS.get(value, value),), neg)
    if opt in ("-s", "--source", "-d", "--destination"):
        return Addr("src" if opt in ("-s", "--source") else "dst", split_csv([value]), neg)
    if opt in ("--dport", "--destination-port", "--dports", "--destination-ports"):
        return Port(tuple(_port_range(p) for p in split_csv([value])), neg)
    if opt in ("--state", "--ctstate"):
        return State(split_csv([value]), neg)
    if opt in ("--dst-type", "--src-type"):
        return AddrType("dst" if opt == "--dst-type" else "src", split_csv([value]), neg)
    if opt == "-m":
        return None if value in IGNORED_MODULES else Opaque(f"-m {value}")
    if opt in ("--sport", "--source-port", "--sports", "--source-ports"):
        return Port(tuple(_port_range(p) for p in split_csv([value])), neg, "sport")
    if opt in ("--comment", "--reject-with", "--log-prefix", "--log-level", "--limit-iface-in"):
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
    if name in NAT_TARGETS:
        return UNKNOWN, f"{name}: rewrites the packet, where it goes then is not evaluated"
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
