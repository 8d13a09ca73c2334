"""The ``inet routerd_mss`` clamp table through libnftables (one persistent context).

Writes are one atomic transaction: ``add table; delete table; table {...}`` in a single
buffer, so the forward path never sees a half-built table and a failing rule leaves the old
table in place. The buffer is nft *text*, not JSON, for one measured reason: libnftables
1.0.6 (Debian 12) silently drops a table ``comment`` given in JSON and never prints it in
JSON output, and the comment is routerd's ownership marker (D14 in docs/decisions.md,
``routerd.owner=routerd routerd.generation=<generation>``). Reads use JSON for the chain and
rules (structured, no text parsing of expressions) plus the text listing for the comment.

A table named ``routerd_mss`` without the marker belongs to someone else: it is never
rewritten or deleted, and applying over it fails with a clear error.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from routerd.core.desired import MSS_TABLE, MssClampTable, MssRule
from routerd.core.errors import DataplaneError

LOG = logging.getLogger(__name__)

OWNER_MARK = "routerd.owner=routerd"
UNRECOGNIZED = MssRule("<unrecognized>", "<unrecognized>", 0)
"""Stands in for anything in the table routerd did not write, so the diff rewrites it."""

_COMMENT = re.compile(r'^\tcomment "([^"]*)"$', re.MULTILINE)
_GENERATION = re.compile(r"routerd\.generation=(\d+)")
_IFNAME = re.compile(r'[^\s"\\/:]{1,15}')
_MSS_OPTION = {"tcp option": {"name": "maxseg", "field": "size"}}


def render(table: MssClampTable) -> str:
    """The nft transaction that (re)creates the table exactly as desired."""
    for rule in table.rules:
        for name in (rule.iif, rule.oif):
            if not _IFNAME.fullmatch(name):
                raise DataplaneError("nft render", f"invalid interface name {name!r}", errno=22)
    lines = [
        f"add table inet {MSS_TABLE}",
        f"delete table inet {MSS_TABLE}",
        f"table inet {MSS_TABLE} {{",
        f'\tcomment "{OWNER_MARK} routerd.generation={table.generation}"',
        "\tchain forward {",
        "\t\ttype filter hook forward priority mangle; policy accept;",
    ]
    for r in sorted(table.rules, key=lambda r: (r.iif, r.oif)):
        lines.append(
            f'\t\tiifname "{r.iif}" oifname "{r.oif}" tcp flags syn / syn,rst'
            f" tcp option maxseg size > {r.mss} tcp option maxseg size set {r.mss}"
        )
    lines += ["\t}", "}", ""]
    return "\n".join(lines)


def parse_rule(expr: list[dict[str, Any]]) -> MssRule | None:
    """An MssRule from a rule's JSON expressions, or None when it is not one of ours."""
    if len(expr) != 5:
        return None
    iif, oif, flags, guard, mangle = expr
    try:
        ok = (
            iif["match"]["left"] == {"meta": {"key": "iifname"}}
            and oif["match"]["left"] == {"meta": {"key": "oifname"}}
            and flags["match"]["left"]["&"][0] == {"payload": {"protocol": "tcp", "field": "flags"}}
            and sorted(flags["match"]["left"]["&"][1]) == ["rst", "syn"]
            and flags["match"]["right"] == "syn"
            and guard["match"]["op"] == ">"
            and guard["match"]["left"] == _MSS_OPTION
            and mangle["mangle"]["key"] == _MSS_OPTION
            and guard["match"]["right"] == mangle["mangle"]["value"]
            and iif["match"]["op"] == oif["match"]["op"] == "=="
        )
        if not ok:
            return None
        return MssRule(
            str(iif["match"]["right"]), str(oif["match"]["right"]), int(guard["match"]["right"])
        )
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def parse_listing(doc: dict[str, Any]) -> frozenset[MssRule]:
    """Rules from ``list table`` JSON; anything unexpected adds ``UNRECOGNIZED``."""
    rules: set[MssRule] = set()
    for item in doc.get("nftables", []):
        if "chain" in item:
            c = item["chain"]
            wanted = ("forward", "filter", "forward", -150, "accept")
            got = (c.get("name"), c.get("type"), c.get("hook"), c.get("prio"), c.get("policy"))
            if got != wanted:
                rules.add(UNRECOGNIZED)
        elif "rule" in item:
            rules.add(parse_rule(item["rule"].get("expr", [])) or UNRECOGNIZED)
        elif any(k in item for k in ("set", "map", "flowtable", "element")):
            rules.add(UNRECOGNIZED)
    return frozenset(rules)


class MssTable:
    """Observe, write and delete ``inet routerd_mss`` through one libnftables context."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nft: Any = None

    def _cmd(self, text: str, *, json_output: bool = False) -> tuple[int, str, str]:
        with self._lock:
            if self._nft is None:
                import nftables  # the ctypes binding loads libnftables on first use

                self._nft = nftables.Nftables()
            self._nft.set_json_output(json_output)
            rc, out, err = self._nft.cmd(text)
            return int(rc), str(out), str(err)

    def observe(self) -> tuple[MssClampTable | None, bool]:
        """``(our table, a foreign table of that name exists)``."""
        rc, text, err = self._cmd(f"list table inet {MSS_TABLE}")
        if rc != 0:
            if "No such file" in err:
                return None, False
            raise DataplaneError(f"nft list table inet {MSS_TABLE}", err.strip())
        m = _COMMENT.search(text)
        if m is None or OWNER_MARK not in m.group(1):
            return None, True
        g = _GENERATION.search(m.group(1))
        rc, out, err = self._cmd(f"list table inet {MSS_TABLE}", json_output=True)
        if rc != 0:
            raise DataplaneError(f"nft -j list table inet {MSS_TABLE}", err.strip())
        rules = parse_listing(json.loads(out))
        return MssClampTable(rules, generation=int(g.group(1)) if g else 0), False

    def apply(self, table: MssClampTable) -> None:
        """Replace the table atomically.

        Raises:
            DataplaneError: a foreign table holds the name, or nft refused the ruleset.
        """
        _, foreign = self.observe()
        if foreign:
            raise DataplaneError(
                f"nft table inet {MSS_TABLE}",
                "exists without the routerd.owner marker; not touching a foreign table",
                errno=17,
                retryable=True,
            )
        rc, _, err = self._cmd(render(table))
        if rc != 0:
            raise DataplaneError(f"nft table inet {MSS_TABLE}", err.strip(), retryable=False)
        LOG.info("nft table inet %s written (%d rules)", MSS_TABLE, len(table.rules))

    def delete(self) -> None:
        """Delete the table when it is ours; absent or foreign tables are left alone."""
        ours, _ = self.observe()
        if ours is None:
            return
        rc, _, err = self._cmd(f"delete table inet {MSS_TABLE}")
        if rc != 0 and "No such file" not in err:
            raise DataplaneError(f"nft delete table inet {MSS_TABLE}", err.strip())
        LOG.info("nft table inet %s deleted", MSS_TABLE)
