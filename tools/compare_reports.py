"""Compare what a reader sees in two sets of built reports, ignoring markup and drawings.

A refactor may change how the report is written (markup, ids of internal elements, the shapes
inside a chart) but not what a reader sees. This script reads two output folders, each holding
``QUARTER/report.html`` and ``QUARTER/manifest.json``, and compares, quarter by quarter:

- the reading order of the text: every heading (with its level), paragraph, list item, caption
  and table cell, whitespace normalised;
- every chart's accessible name (its alt text, whether the chart is inline SVG or an image);
- every in-page link: its text, and that its target exists;
- the manifest's ``results`` (the figures the report states).

With ``--ignore-code`` the code behind each section (the collapsed code listings) and the
provenance block (commit, code fingerprint, packages) are left out: a change of code changes
them by design, and they are not what the paper says.

Used for issue 14 (docs/aqa/refactor-2026-12.md). Exit 0 when every quarter reads the same,
1 otherwise, listing the first differences of each quarter.

    python tools/compare_reports.py [--ignore-code] BEFORE_DIR AFTER_DIR
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

import lxml.html

# Elements whose text a reader takes in as one piece. Text in an element that holds none of
# these is reported by its nearest such ancestor.
BLOCKS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "caption", "figcaption",
    "dt", "dd", "summary", "blockquote", "pre", "label", "legend", "title",
}  # fmt: skip
SKIP = {"script", "style", "svg", "template"}


def _text(element: lxml.html.HtmlElement) -> str:
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        if isinstance(node.tag, str) and node.tag.lower() in SKIP:
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return " ".join("".join(parts).split())


def reader_view(html: str, ignore_code: bool = False) -> list[str]:
    """The report as a list of lines, one per thing a reader (or a screen reader) meets."""
    root = lxml.html.document_fromstring(html)
    ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    if ignore_code:
        for element in root.xpath('//details[@class="code"] | //section[@id="provenance"]'):
            element.drop_tree()
    lines: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower().split("}")[-1]
        if any(
            isinstance(a.tag, str) and a.tag.lower().split("}")[-1] in SKIP
            for a in element.iterancestors()
        ):
            continue
        if tag == "svg":
            label = element.get("aria-label") or ""
            lines.append(f"[graphic] {' '.join(label.split())}")
            continue
        if tag == "img":
            lines.append(f"[graphic] {' '.join((element.get('alt') or '').split())}")
            continue
        if tag == "a" and (element.get("href") or "").startswith("#"):
            target = element.get("href")[1:]
            found = "ok" if target in ids or target == "" else "MISSING TARGET"
            lines.append(f"[link] {_text(element)} -> ({found})")
        if tag in BLOCKS and not any(
            isinstance(d.tag, str) and d.tag.lower() in BLOCKS for d in element.iterdescendants()
        ):
            text = _text(element)
            if text:
                heading = tag[0] == "h" and tag[1:].isdigit()
                kind = tag if heading else "cell" if tag in {"td", "th"} else "text"
                lines.append(f"[{kind}] {text}")
    return lines


def results(folder: Path) -> object:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("results")


def compare(before: Path, after: Path, ignore_code: bool = False, limit: int = 40) -> int:
    quarters = sorted(p.name for p in before.iterdir() if (p / "report.html").is_file())
    if not quarters:
        print(f"No reports under {before}")
        return 1
    different = 0
    for quarter in quarters:
        b, a = before / quarter, after / quarter
        if not (a / "report.html").is_file():
            print(f"{quarter}: no report under {after}")
            different += 1
            continue
        view_b = reader_view((b / "report.html").read_text(encoding="utf-8"), ignore_code)
        view_a = reader_view((a / "report.html").read_text(encoding="utf-8"), ignore_code)
        diff = list(difflib.unified_diff(view_b, view_a, "before", "after", n=1, lineterm=""))
        same_results = results(b) == results(a)
        missing = [line for line in view_a if "MISSING TARGET" in line]
        if diff or not same_results or missing:
            different += 1
            print(f"{quarter}: DIFFERENT ({len(view_b)} lines before, {len(view_a)} after)")
            if not same_results:
                print("  manifest results differ")
            for line in missing[:5]:
                print(f"  broken link: {line}")
            for line in diff[:limit]:
                print(f"  {line}")
        else:
            print(f"{quarter}: same ({len(view_a)} lines read, results identical)")
    print(f"{len(quarters) - different} same, {different} different")
    return 1 if different else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    ignore = "--ignore-code" in args
    folders = [a for a in args if a != "--ignore-code"]
    if len(folders) != 2:
        sys.exit(__doc__)
    sys.exit(compare(Path(folders[0]), Path(folders[1]), ignore))
