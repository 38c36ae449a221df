"""Sentences generated from the numbers, never typed: the summary and each red indicator's
headline. Also the safe rendering of officers' commentary (Markdown in, escaped HTML out).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt

from scorecard_lib.core.formatting import format_value, with_unit
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.values import is_missing
from scorecard_lib.rules.rating import IMPROVING, NO_CHANGE, WORSENING


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
        out.append(red_update_sentence(r, updated_red, quarter))
    return out


def red_update_sentence(red: int, updated: int, quarter: Quarter) -> str:
    """How many of the red indicators have a new figure, without "0 of" or "1 ... have"."""
    if red == 1:
        verb = "has" if updated else "has not"
        return f"The red indicator {verb} had a performance update in {quarter.prose}."
    if updated == 0:
        return f"None of the {red} red indicators has had a performance update in {quarter.prose}."
    if updated == red:
        return f"All {red} red indicators have had a performance update in {quarter.prose}."
    return (
        f"Of the {red} red indicators, {updated} {_plural(updated, 'has', 'have')} had a "
        f"performance update in {quarter.prose}."
    )


def count_words(count: int, one: str, many: str) -> str:
    """ "1 indicator", "3 indicators": a count with its noun in agreement."""
    return f"{count} {_plural(count, one, many)}"


def _value(row: Mapping[str, Any], value: float | None) -> str:
    return format_value(value, row["unit"], int(row["decimals"]), row.get("unit_label") or "")


def latest_value_text(row: Mapping[str, Any]) -> str:
    """The latest figure as sentences write it: as the service reported it when it said so
    ("just over 1,300 older people"), otherwise the number itself."""
    reported = row.get("reported_as")
    if isinstance(reported, str) and reported.strip():
        return with_unit(reported.strip(), row["unit"], row.get("unit_label") or "")
    return _value(row, row["value"])


def _shown(row: Mapping[str, Any], x: float) -> float:
    """A figure rounded as the report shows it: words such as "increased" or "above" describe
    what the reader sees, not a difference hidden beyond the last decimal shown."""
    return round(float(x), int(row["decimals"]))


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


def headline(row: Mapping[str, Any], quarter: Quarter) -> list[str]:
    """Sentences on one indicator's latest figure, its previous figure and its reference, e.g.
    'The rate of looked after children has increased to 66.3 per 10,000 children.'"""
    value = row["value"]
    if is_missing(value):
        return [f"There is no figure yet for {row['name'][0].lower()}{row['name'][1:]}."]
    subject = row["subject"]
    prev = row.get("previous_value")
    sentences: list[str] = []
    latest = latest_value_text(row)
    if is_missing(prev):
        sentences.append(f"{subject} is {latest}.")
    else:
        same_shown = _shown(row, value) == _shown(row, prev)
        steady = row["short_term"] == NO_CHANGE
        if same_shown:
            verb = "has stayed at"
        elif steady:  # a change under the threshold of "no noticeable change"
            verb = "has stayed at about"
        elif value > prev:
            verb = "has increased to"
        else:
            verb = "has decreased to"
        sentences.append(f"{subject} {verb} {latest}.")
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
        if word and not same_shown:
            sentences.append(f"This is {word} on the previous figure.")
        # "no noticeable change" is already said by "has stayed at (about)"
    ref = row.get("reference")
    if not is_missing(ref):
        if _shown(row, value) > _shown(row, ref):
            rel = "above"
        elif _shown(row, value) < _shown(row, ref):
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
