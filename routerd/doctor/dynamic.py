"""``doctor dynamic`` over routerd's merge semantics (D2, D3, D4 in docs/decisions.md).

Failing the whole merge on one bad part would hide every other part's state; the merge
rejects a bad part as a whole and keeps the rest (D3), so the doctor reports each rejected
part as its own FAIL with the merge's reasons, next to a PASS saying the effective config
still builds. Expiry is ``received_at + ttl`` (D4) and only the latest active generation
of a source participates (D2): older ones are counted as superseded, not as conflicts.
"""

from __future__ import annotations

from collections import defaultdict

from routerd.core.doctor import Finding, Status
from routerd.core.dynamic import DynamicPart
from routerd.core.effective import describe_identity
from routerd.core.resources import DynamicOverridePolicy
from routerd.doctor.inputs import Inputs

AREA = "dynamic"


def findings(inputs: Inputs) -> list[Finding]:
    """Every ``doctor dynamic`` finding."""
    store = inputs.ctx.store
    if store is None and inputs.effective is None:
        return [Finding(AREA, "inputs", Status.SKIP, "no state store and no effective config")]
    out: list[Finding] = []
    parts: list[DynamicPart] | None = None
    if store is None:
        out.append(Finding(AREA, "dynamic parts decode", Status.SKIP, "no state store"))
    else:
        try:
            parts = store.list_parts()
        except Exception as e:  # a row the current code cannot read at all
            detail = f"a stored part does not decode: {type(e).__name__}: {e}"
            out.append(Finding(AREA, "dynamic parts decode", Status.FAIL, detail, _PRUNE))
        else:
            out.append(_decode(parts))
            out.append(_expiry(inputs, parts))
    out += _effective(inputs)
    out.append(_policies(inputs))
    return out


_PRUNE = "inspect with `routerctl dynamic list`; delete the source with `routerctl dynamic delete`"


def _decode(parts: list[DynamicPart]) -> Finding:
    bad = [
        f"{p.label}: {p.metadata['decode_error']}" for p in parts if p.metadata.get("decode_error")
    ]
    name = "dynamic parts decode"
    if bad:
        return Finding(AREA, name, Status.FAIL, "; ".join(bad), _PRUNE)
    n_res = sum(len(p.resources) for p in parts)
    n_dir = sum(len(p.directives) for p in parts)
    return Finding(
        AREA, name, Status.PASS, f"{len(parts)} parts, {n_res} resources, {n_dir} directives"
    )


def _expiry(inputs: Inputs, parts: list[DynamicPart]) -> Finding:
    name = "expired parts ignored"
    by_source: dict[str, list[DynamicPart]] = defaultdict(list)
    for p in parts:
        by_source[p.source].append(p)
    active = [p for p in parts if not p.expired(inputs.now)]
    expired = len(parts) - len(active)
    superseded = len(inputs.effective.superseded) if inputs.effective else 0
    stale = sorted(s for s, ps in by_source.items() if all(p.expired(inputs.now) for p in ps))
    detail = f"{len(active)} active, {expired} expired (ignored), {superseded} superseded"
    if stale:
        return Finding(
            AREA,
            name,
            Status.WARN,
            f"{detail}; stale: source {', '.join(stale)} has only expired generations",
            "the source stopped refreshing: check `routerctl plugin` for its last run",
        )
    return Finding(AREA, name, Status.PASS, detail)


def _effective(inputs: Inputs) -> list[Finding]:
    name = "effective config builds"
    if inputs.build_error:
        return [
            Finding(AREA, name, Status.FAIL, inputs.build_error, "report this as a routerd bug")
        ]
    eff = inputs.effective
    if eff is None:
        return [Finding(AREA, name, Status.SKIP, "no dynamic state")]
    out = [
        Finding(
            AREA,
            name,
            Status.PASS,
            f"{len(eff.suppressed)} suppressed, {len(eff.added)} dynamic resources added, "
            f"{len(eff.rejected)} parts rejected",
        )
    ]
    for rej in eff.rejected:
        out.append(
            Finding(
                AREA,
                f"DynamicConfigPart {rej.source}@{rej.generation} rejected",
                Status.FAIL,
                "; ".join(rej.reasons),
                "the part is ignored as a whole (startup config and other parts keep working); "
                "fix the source, or allow the mask with a DynamicOverridePolicy",
            )
        )
    return out


def _policies(inputs: Inputs) -> Finding:
    name = "override policies present for masks"
    policies = inputs.ctx.startup.of(DynamicOverridePolicy)
    masked = {s.target for s in inputs.effective.suppressed} if inputs.effective else set()
    targets = [(r.source, t.identity) for p in policies for r in p.spec.allow for t in r.targets]
    if not targets and not masked:
        return Finding(AREA, name, Status.PASS, "no masks and no policies")
    dead = [f"{src} -> {describe_identity(t)}" for src, t in targets if t not in masked]
    if dead:
        return Finding(
            AREA,
            name,
            Status.WARN,
            f"{len(dead)}/{len(targets)} DynamicOverridePolicy target rules match no current "
            f"mask: {', '.join(dead)}",
            "fine while the source is idle; remove rules for masks that will never come",
        )
    return Finding(AREA, name, Status.PASS, f"{len(masked)} masks, all allowed by a policy")
