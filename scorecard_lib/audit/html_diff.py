"""What differs between two HTML fragments, as a reader sees them: table cells by caption,
row and column; the data table behind each chart, then its drawing; then the text, line by
line. Markup is read with BeautifulSoup, never with regular expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from scorecard_lib.audit.findings import clip_pair, text_diff

#: Elements that start a new line of text when a fragment's text is compared.
_BLOCKS = [
    *("p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "header"),
    *("footer", "nav", "main", "article", "aside", "figure", "figcaption", "details"),
    *("summary", "ul", "ol", "dl", "pre", "blockquote", "br", "hr", "caption", "tr"),
]


@dataclass(frozen=True)
class _Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (row key, cell texts)


@dataclass(frozen=True)
class _Chart:
    title: str
    table: _Table | None
    drawing: str


@dataclass(frozen=True)
class _Content:
    charts: tuple[_Chart, ...]
    tables: tuple[_Table, ...]
    text: tuple[str, ...]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _parse_table(el: Any) -> _Table:
    cap = el.find("caption")
    caption = _squash(cap.get_text(" ")) if cap else ""
    trs = el.find_all("tr")
    head = None
    thead = el.find("thead")
    if thead is not None:
        head = thead.find("tr")
    elif trs and all(c.name == "th" for c in trs[0].find_all(["th", "td"], recursive=False)):
        head = trs[0]
    columns = tuple(_squash(c.get_text(" ")) for c in (head.find_all(["th", "td"]) if head else []))
    rows = []
    for tr in trs:
        if tr is head:
            continue
        cells = tr.find_all(["th", "td"], recursive=False)
        texts = tuple(_squash(c.get_text(" ")) for c in cells)
        key_at = next(
            (i for i, c in enumerate(cells) if c.name == "th" and c.get("scope") == "row"), 0
        )
        rows.append((texts[key_at] if texts else "", texts))
    return _Table(caption, columns, tuple(rows))


def html_content(fragment: str) -> _Content:
    """The charts (title, data table, drawing), tables and lines of text of an HTML fragment."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    charts = []
    for fig in soup.find_all("figure"):
        drawing = fig.find(["svg", "img"])
        if drawing is None:
            continue
        cap = fig.find("figcaption")
        table = fig.find("table")
        charts.append(
            _Chart(
                title=_squash(cap.get_text(" ")) if cap else "",
                table=_parse_table(table) if table is not None else None,
                drawing=str(drawing),
            )
        )
        fig.decompose()
    for drawing in soup.find_all(["svg", "img"]):  # drawings outside a figure
        label = drawing.get("aria-label") or drawing.get("alt") or ""
        charts.append(_Chart(title=_squash(str(label))[:80], table=None, drawing=str(drawing)))
        drawing.decompose()
    tables = []
    for el in soup.find_all("table"):
        tables.append(_parse_table(el))
        el.decompose()
    for el in soup.find_all(["style", "script"]):
        el.decompose()
    for el in soup.find_all(_BLOCKS):  # one line of text per block, inline markup kept together
        el.insert_before("\n")
        el.insert_after("\n")
    text = tuple(line for line in (_squash(x) for x in soup.get_text("").split("\n")) if line)
    return _Content(tuple(charts), tuple(tables), text)


def _keyed(items: Iterable[Any], key: Callable[[Any], str]) -> dict[tuple[str, int], Any]:
    seen: dict[str, int] = {}
    out = {}
    for item in items:
        k = key(item)
        seen[k] = seen.get(k, 0) + 1
        out[(k, seen[k])] = item
    return out


def _name(key: tuple[str, int]) -> str:
    return key[0] if key[1] == 1 else f"{key[0]} (number {key[1]})"


def _compare_table(old: _Table, new: _Table, what: str) -> list[str]:
    if old == new:
        return []
    lines = []
    if old.columns != new.columns:
        lines.append(f"{what} has different columns: {list(old.columns)} -> {list(new.columns)}")
    a = _keyed(old.rows, lambda r: r[0])
    b = _keyed(new.rows, lambda r: r[0])
    for key in list(a) + [k for k in b if k not in a]:
        if key not in b:
            lines.append(f"{what}, row '{_name(key)}' is no longer there")
        elif key not in a:
            lines.append(f"{what}, row '{_name(key)}' is new")
        else:
            ca, cb = a[key][1], b[key][1]
            for i in range(max(len(ca), len(cb))):
                o = ca[i] if i < len(ca) else "(no cell)"
                n = cb[i] if i < len(cb) else "(no cell)"
                if o != n:
                    col = new.columns[i] if i < len(new.columns) else f"column {i + 1}"
                    o, n = clip_pair(o, n)
                    lines.append(f"{what}, row '{_name(key)}', column '{col}': {o} -> {n}")
    if not lines:
        lines.append(f"{what} differs in its layout")
    return lines


def compare_html(old: str, new: str) -> list[str]:
    """What differs between two HTML fragments: table cells, the data behind charts (then the
    drawings), then the text. Markup-only differences give one line."""
    if old == new:
        return []
    a, b = html_content(old), html_content(new)
    lines: list[str] = []
    ca = _keyed(a.charts, lambda c: c.title)
    cb = _keyed(b.charts, lambda c: c.title)
    for key in list(ca) + [k for k in cb if k not in ca]:
        title = _name(key)
        if key not in cb:
            lines.append(f"the chart '{title}' is no longer there")
        elif key not in ca:
            lines.append(f"the chart '{title}' is new")
        else:
            x, y = ca[key], cb[key]
            if x.table is not None and y.table is not None:
                lines += _compare_table(x.table, y.table, f"the data behind the chart '{title}'")
            elif (x.table is None) != (y.table is None):
                lines.append(f"the chart '{title}' has lost or gained its data table")
            if x.drawing != y.drawing and (x.table == y.table):
                lines.append(
                    f"the chart '{title}' drawing differs (the data behind it is the same)"
                )
    ta = _keyed(a.tables, lambda t: t.caption)
    tb = _keyed(b.tables, lambda t: t.caption)
    for key in list(ta) + [k for k in tb if k not in ta]:
        caption = _name(key)
        if key not in tb:
            lines.append(f"the table '{caption}' is no longer there")
        elif key not in ta:
            lines.append(f"the table '{caption}' is new")
        else:
            lines += _compare_table(ta[key], tb[key], f"table '{caption}'")
    lines += text_diff(a.text, b.text)
    if not lines:
        o, n = clip_pair(old, new, 40)
        lines.append(f"the markup differs (not its text, tables or charts), first at: {o} -> {n}")
    return lines
