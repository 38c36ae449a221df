"""Sentences generated from the numbers, never typed: the summary and each red indicator's
headline. Also the safe rendering of officers' commentary (Markdown in, escaped HTML out).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt

from .formatting import format_value
from .quarters import Quarter, parse_quarter
from .rating import IMPROVING, NO_CHANGE, WORSENING


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def summary_sentences(counts: Mapping[str, int], quarter: Quarter, updated_red: int) -> list[str]:
    """The opening paragraph of the report, in the form the Cabinet report uses."""
    total = sum(counts.values())
    g, a, r = counts.get("Green", 0), counts.get("Amber", 0), counts.get("Red", 0)
    nr, nd = counts.get("Not rated", 0), counts.get("No data", 0)
    out = [
        f"There are {total} {_plural(total, 'indicator', 'indicators')} in the Scorecard.",
        f"{g} {_plural(g, 'is', 'are')} rated green, {a} amber and {r} red.",
    ]
    if nr or nd:
        bits = []
        if nr:
            bits.append(f"{nr} {_plural(nr, 'is', 'are')} shown for information and not rated")
        if nd:
            bits.append(f"{nd} {_plural(nd, 'has', 'have')} no data yet")
        out.append("; ".join(bits).capitalize() + ".")
    if r:
        out.append(
            f"Of the {r} red {_plural(r, 'indicator', 'indicators')}, {updated_red} "
            f"{_plural(updated_red, 'has', 'have')} had a performance update in {quarter.prose}."
        )
    return out


def _value(row: Mapping[str, Any], value: float | None) -> str:
    return format_value(value, row["unit"], int(row["decimals"]), row.get("unit_label") or "")


def natural_decimals(value: float, decimals: int) -> int:
    """The fewest decimals that show ``value`` as precisely as ``decimals`` would: targets and
    benchmarks are usually round numbers ("a target of 7 days", not "7.00 days")."""
    for d in range(decimals + 1):
        if round(value, d) == round(value, decimals):
            return d
    return decimals


def reference_text(row: Mapping[str, Any], value: float) -> str:
    """A target or benchmark written as a reader expects it."""
    d = natural_decimals(float(value), int(row["decimals"]))
    return format_value(value, row["unit"], d, row.get("unit_label") or "")


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def headline(row: Mapping[str, Any], quarter: Quarter) -> list[str]:
    """Sentences on one indicator's latest figure, its previous figure and its reference, e.g.
    'The rate of looked after children has increased to 66.3 per 10,000 children.'"""
    value = row["value"]
    if _missing(value):
        return [f"There is no figure yet for {row['name'][0].lower()}{row['name'][1:]}."]
    subject = row["subject"]
    prev = row.get("previous_value")
    sentences: list[str] = []
    if _missing(prev):
        sentences.append(f"{subject} is {_value(row, value)}.")
    else:
        if round(value - prev, 9) > 0:
            verb = "has increased to"
        elif round(value - prev, 9) < 0:
            verb = "has decreased to"
        else:
            verb = "has stayed at"
        sentences.append(f"{subject} {verb} {_value(row, value)}.")
        prev_q = parse_quarter(row["previous_quarter"])
        latest_q = parse_quarter(row["value_quarter"])
        when: str
        if row.get("previous_period_label"):
            when = f"in the {row['previous_period_label']}"
            if prev_q == latest_q.previous():
                when = f"at the end of the previous quarter ({row['previous_period_label']})"
        elif prev_q == latest_q.previous():
            when = "at the end of the previous quarter"
        else:
            when = f"in {prev_q.prose}"
        sentences.append(f"It was {_value(row, prev)} {when}.")
        word = {IMPROVING: "an improvement", WORSENING: "a deterioration"}.get(row["short_term"])
        if word:
            sentences.append(f"This is {word} on the previous figure.")
        elif row["short_term"] == NO_CHANGE:
            sentences.append("This is no noticeable change on the previous figure.")
    ref = row.get("reference")
    if not _missing(ref):
        if round(value - ref, 9) > 0:
            rel = "above"
        elif round(value - ref, 9) < 0:
            rel = "below"
        else:
            rel = "the same as"
        if row["rating_basis"] == "benchmark":
            label = row.get("benchmark_label") or "benchmark"
            date = f" at {row['benchmark_date']}" if row.get("benchmark_date") else ""
            sentences.append(f"This is {rel} the {label} of {reference_text(row, ref)}{date}.")
        else:
            sentences.append(f"This is {rel} the target of {reference_text(row, ref)}.")
    return sentences


_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MD.disable(["image"])


def markdown_html(text: str) -> str:
    """Officers' Markdown as HTML. Raw HTML in the text is escaped, never passed through, and
    images are not loaded (the report makes no network requests)."""
    rendered = _MD.render(text or "")
    return rendered.strip()


def markdown_inline(text: str) -> str:
    """One line of Markdown (an action, a list item) without a wrapping paragraph."""
    return _MD.renderInline(text or "").strip()


def markdown_tokens(text: str) -> list[Any]:
    """Markdown parsed into markdown-it tokens, with the same rules as :func:`markdown_html`
    (for the Word paper, which writes the text as Word paragraphs)."""
    return list(_MD.parse(text or ""))


def markdown_inline_tokens(text: str) -> list[Any]:
    """One line of Markdown as inline tokens (bold, italic, links, text)."""
    tokens = _MD.parseInline(text or "")
    return list(tokens[0].children or []) if tokens else []


def escape(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)
