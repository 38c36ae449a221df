"""What differs between two executed section notebooks, cell by cell (paired by cell id):
the code or text of a cell, then each output (its HTML through :mod:`html_diff`, streams and
errors as text), then the notebook's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scorecard_lib.audit.findings import flat, text_diff
from scorecard_lib.audit.html_diff import compare_html


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _out_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _compare_outputs(old: Sequence[Any], new: Sequence[Any]) -> list[str]:
    lines = []
    if len(old) != len(new):
        lines.append(f"it shows {len(new)} outputs instead of {len(old)}")
    for o, n in zip(old, new, strict=False):
        if o == n:
            continue
        if o.get("output_type") != n.get("output_type"):
            lines.append(f"output {o.get('output_type')} became {n.get('output_type')}")
            continue
        kind = o.get("output_type")
        if kind == "stream":
            lines += text_diff(
                _out_text(o.get("text")).splitlines(), _out_text(n.get("text")).splitlines()
            )
        elif kind == "error":
            lines.append(
                f"error {o.get('ename')}: {o.get('evalue')} -> {n.get('ename')}: {n.get('evalue')}"
            )
        else:
            da, db = dict(o.get("data") or {}), dict(n.get("data") or {})
            if "text/html" in da or "text/html" in db:
                ha, hb = _out_text(da.get("text/html")), _out_text(db.get("text/html"))
                if ha != hb:
                    lines += compare_html(ha, hb)
            html_differs = da.get("text/html") != db.get("text/html")
            other = sorted((set(da) | set(db)) - {"text/html"})
            for mime in other:
                if da.get(mime) == db.get(mime):
                    continue
                if mime == "text/plain" and html_differs:
                    continue  # the object's label (e.g. <Html: summary>): the HTML says more
                if mime.startswith("image/"):
                    lines.append(f"an image ({mime}) differs")
                else:
                    lines += text_diff(
                        _out_text(da.get(mime)).splitlines(),
                        _out_text(db.get(mime)).splitlines(),
                        f"text ({mime})",
                    )
            if o.get("metadata") != n.get("metadata") and da == db:
                lines.append("an output's metadata differs")
    return lines


def compare_notebooks(old_path: Path, new_path: Path) -> list[str]:
    """What differs between two executed notebooks, cell by cell (paired by cell id)."""
    import nbformat

    a = nbformat.read(str(old_path), as_version=4)
    b = nbformat.read(str(new_path), as_version=4)
    lines: list[str] = []

    def ids(nb: Any) -> list[str]:
        return [str(c.get("id") or f"#{i + 1}") for i, c in enumerate(nb.cells)]

    ia, ib = ids(a), ids(b)
    if len(set(ia)) != len(ia) or len(set(ib)) != len(ib):  # ids unusable: pair by position
        ia = [f"#{i + 1}" for i in range(len(a.cells))]
        ib = [f"#{i + 1}" for i in range(len(b.cells))]
    ma, mb = dict(zip(ia, a.cells, strict=True)), dict(zip(ib, b.cells, strict=True))
    for cid in ia + [i for i in ib if i not in ma]:
        ca, cb = ma.get(cid), mb.get(cid)
        if cb is None:
            lines.append(f"cell {cid} is no longer there")
            continue
        if ca is None:
            lines.append(f"cell {cid} is new")
            continue
        if ca == cb:
            continue
        if ca.get("cell_type") != cb.get("cell_type") or _source(ca) != _source(cb):
            what = "code" if ca.get("cell_type") == "code" else "text"
            diff = text_diff(_source(ca).splitlines(), _source(cb).splitlines(), "line")
            lines.append(f"cell {cid}: its {what} differs" + (f" ({diff[0]})" if diff else ""))
        if ca.get("cell_type") == "code":
            lines += [
                line
                if line.startswith(("the table", "table", "the chart", "the data"))
                else f"cell {cid}: {line}"
                for line in _compare_outputs(ca.get("outputs") or [], cb.get("outputs") or [])
            ]
            if ca.get("execution_count") != cb.get("execution_count"):
                lines.append(
                    f"cell {cid}: execution count {ca.get('execution_count')} -> "
                    f"{cb.get('execution_count')}"
                )
    if not lines:
        fa, fb = flat(a.get("metadata") or {}), flat(b.get("metadata") or {})
        for key in sorted(set(fa) | set(fb)):
            if fa.get(key) != fb.get(key):
                lines.append(f"notebook metadata {key}: {fa.get(key)!r} -> {fb.get(key)!r}")
    if not lines and a != b:
        lines.append("the notebook differs outside its cells and metadata")
    return lines
