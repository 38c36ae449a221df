"""The results a manifest records (each indicator's value, reference, rating and direction;
each risk's scores and band; the counts), published against re-run: in words for the audit,
field by field for ``make test``'s check that today's code changes no published result.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scorecard_lib.audit.findings import MAX_DETAILS, Finding, flat, limit, show_value
from scorecard_lib.core.errors import ScorecardError
from scorecard_lib.core.quarters import parse_quarter
from scorecard_lib.report import record

_INDICATOR_WORDS: dict[str, str] = {
    "name": "name",
    "value": "value",
    "value_quarter": "quarter of the value",
    "reference": "target or benchmark",
    "reference_label": "rated against",
    "rating": "rating",
    "rating_computed": "computed rating",
    "short_term": "short-term direction",
    "long_term": "long-term direction",
    "updated": "updated this quarter",
    "previous_value": "previous value",
    "previous_quarter": "quarter of the previous value",
    "last_year_value": "value a year earlier",
}
_RISK_WORDS: dict[str, str] = {
    "title": "title",
    "status": "status",
    "inherent_score": "inherent score",
    "current_score": "current score",
    "target_score": "target score",
    "current_band": "band",
    "trend": "change since last quarter",
}


def _related_inputs(ind: Mapping[str, Any], changed: Sequence[str], quarter_id: str) -> list[str]:
    """Changed input files that feed this indicator's figures."""
    quarters = {str(ind.get(k)) for k in ("value_quarter", "previous_quarter") if ind.get(k)}
    vq = ind.get("value_quarter")
    if vq:
        with contextlib.suppress(ScorecardError):
            quarters.add(parse_quarter(str(vq)).same_quarter_last_year().id)
    names = []
    for name in changed:
        parts = name.split("/")
        base = parts[-1]
        folder = parts[-2] if len(parts) > 1 else ""
        if (
            (base == "values.csv" and folder in quarters)
            or (base == "overrides.csv" and folder == quarter_id)
            or base in ("catalogue.csv", "settings.yaml")
        ):
            names.append(name)
    return names


def _pair(old: Any, new: Any) -> str:
    """``old -> new`` in words; in full when the rounding would hide the difference."""
    a, b = show_value(old), show_value(new)
    if a == b and old != new:
        a, b = repr(old), repr(new)
    return f"{a} -> {b}"


def compare_results(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    changed_inputs: Sequence[str] = (),
    quarter_id: str = "",
) -> list[Finding]:
    """Indicator-level, risk-level and count differences between two manifests' results."""
    if not isinstance(old, Mapping):
        return [
            Finding(
                "results",
                "the published manifest records no results (it predates them): the outputs "
                "below are compared instead",
                differs=False,
            )
        ]
    if not isinstance(new, Mapping):
        return [Finding("results", "the re-run recorded no results to compare")]
    lines: list[str] = []
    for kind, words, what in (
        ("indicators", _INDICATOR_WORDS, "Indicator"),
        ("risks", _RISK_WORDS, "Risk"),
    ):
        a = dict(old.get(kind) or {})
        b = dict(new.get(kind) or {})
        for key in sorted(set(a) | set(b)):
            ra, rb = a.get(key), b.get(key)
            name = (rb or ra or {}).get("name" if kind == "indicators" else "title") or ""
            head = f"{what} {key} {name}".rstrip()
            if ra is None:
                lines.append(f"{head}: not in the published report, in the re-run")
                continue
            if rb is None:
                lines.append(f"{head}: in the published report, not in the re-run")
                continue
            if ra == rb:
                continue
            changes = [
                f"{words.get(f, f)} {_pair(ra.get(f), rb.get(f))}"
                for f in [*words, *sorted((set(ra) | set(rb)) - set(words))]
                if ra.get(f) != rb.get(f)
            ]
            band = "rating" if kind == "indicators" else "current_band"
            if ra.get(band) == rb.get(band):
                changes.append(f"{words[band]} {show_value(rb.get(band))} (unchanged)")
            line = f"{head}: " + "; ".join(changes)
            if kind == "indicators":
                related = _related_inputs(rb, changed_inputs, quarter_id)
                if related:
                    line += f" (changed input: {', '.join(related)})"
            lines.append(line)
    ca, cb = dict(old.get("counts") or {}), dict(new.get("counts") or {})
    for key in sorted(set(ca) | set(cb)):
        va, vb = ca.get(key), cb.get(key)
        if va == vb:
            continue
        label = key.replace("_", " ")
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            parts = [
                f"{k} {show_value(va.get(k))} -> {show_value(vb.get(k))}"
                for k in sorted(set(va) | set(vb))
                if va.get(k) != vb.get(k)
            ]
            lines.append(f"Count of {label}: " + ", ".join(parts))
        else:
            lines.append(f"Count of {label}: {show_value(va)} -> {show_value(vb)}")
    for key in sorted((set(old) | set(new)) - {"indicators", "risks", "counts"}):
        if old.get(key) != new.get(key):
            lines.append(f"Result '{key}' differs")
    if not lines:
        return [
            Finding(
                "results",
                "the same: every indicator's value, reference, rating and direction, every "
                "risk's scores and band, and the counts",
                differs=False,
            )
        ]
    return [Finding("results", line) for line in limit(lines, "in the results")]


@dataclass(frozen=True)
class ResultChange:
    """One recorded result (``manifest.results``) that a re-run states differently: an
    indicator's or risk's field, or a count. ``old`` is the published value."""

    quarter_id: str
    kind: str  # "indicator", "risk" or "count"
    key: str  # the indicator or risk id, or the count's name
    field: str  # e.g. "rating"; "present" when the indicator or risk is only on one side
    old: Any
    new: Any

    def text(self) -> str:
        words = {**_INDICATOR_WORDS, **_RISK_WORDS}.get(self.field, self.field.replace("_", " "))
        what = {"indicator": "indicator", "risk": "risk", "count": "count of"}[self.kind]
        return (
            f"{self.quarter_id} {what} {self.key} {words}: {show_value(self.old)} published, "
            f"{show_value(self.new)} with the current code"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter_id,
            "kind": self.kind,
            "key": self.key,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


def result_changes(
    quarter_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[ResultChange]:
    """Every recorded result that differs between two manifests' ``results`` (the published
    one first), field by field; empty when either has none (records before results)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return []
    out: list[ResultChange] = []
    for kind, plural in (("indicator", "indicators"), ("risk", "risks")):
        a, b = dict(old.get(plural) or {}), dict(new.get(plural) or {})
        for key in sorted(set(a) | set(b)):
            ra, rb = a.get(key), b.get(key)
            if ra is None or rb is None:
                out.append(ResultChange(quarter_id, kind, key, "present", ra is not None,
                                        rb is not None))  # fmt: skip
                continue
            for f in sorted(set(ra) | set(rb)):
                if ra.get(f) != rb.get(f):
                    out.append(ResultChange(quarter_id, kind, key, f, ra.get(f), rb.get(f)))
    ca, cb = dict(old.get("counts") or {}), dict(new.get("counts") or {})
    for key in sorted(set(ca) | set(cb)):
        va, vb = ca.get(key), cb.get(key)
        if va == vb:
            continue
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            for sub in sorted(set(va) | set(vb)):
                if va.get(sub) != vb.get(sub):
                    out.append(ResultChange(quarter_id, "count", key, sub, va.get(sub),
                                            vb.get(sub)))  # fmt: skip
        else:
            out.append(ResultChange(quarter_id, "count", key, "total", va, vb))
    return out


def compare_manifest_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """Manifest fields not compared elsewhere (parameters, command, anything new). The
    ``publication`` block records the act of publishing, which no re-run repeats."""
    skip = {"inputs", "code", "environment", "outputs", "results", record.PUBLICATION}
    found = []
    for key in sorted((set(old) | set(new)) - skip):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "parameters" and isinstance(a, Mapping) and isinstance(b, Mapping):
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    found.append(
                        Finding(
                            "manifest",
                            f"parameter {name}: {json.dumps(a.get(name))} when published, "
                            f"{json.dumps(b.get(name))} in the re-run",
                        )
                    )
        else:
            found.append(
                Finding(
                    "manifest",
                    f"{key}: {json.dumps(a, sort_keys=True)[:200]} when published, "
                    f"{json.dumps(b, sort_keys=True)[:200]} in the re-run",
                )
            )
    return found


def unexplained_manifest_difference(
    old: Mapping[str, Any], new: Mapping[str, Any], found: Sequence[Finding]
) -> list[Finding]:
    """When nothing else differs, the two manifests must be the same too (git fields, the
    output hashes and the publication block aside, as :func:`record.normalise_manifest`
    says): a field the other checks do not describe (an extra key under ``code`` or
    ``environment``, say) is named here, so an IDENTICAL verdict always means identical
    manifests."""
    if any(f.differs for f in found):
        return []
    a = flat(record.normalise_manifest(old))
    b = flat(record.normalise_manifest(new))
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return [
        Finding(
            "manifest",
            f"{key}: {json.dumps(a.get(key), sort_keys=True)[:200]} when published, "
            f"{json.dumps(b.get(key), sort_keys=True)[:200]} in the re-run",
        )
        for key in keys[:MAX_DETAILS]
    ]
