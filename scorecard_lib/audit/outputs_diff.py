"""Every file of a published record against the re-run's (git fields normalised): the
section notebooks, the report (its provenance block on its own), the open data cell by cell
and the Word paper's text, each difference said in words.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from pathlib import Path

from scorecard_lib.audit.findings import Finding, csv_diff, limit, text_diff
from scorecard_lib.audit.html_diff import compare_html
from scorecard_lib.audit.notebook_diff import compare_notebooks
from scorecard_lib.report import manifest as manifest_mod
from scorecard_lib.report import record

_PROVENANCE = re.compile(r'<section id="provenance".*?</section>', re.DOTALL)


def _split_provenance(text: str) -> tuple[str, str]:
    """The report without its provenance section, and that section. Used only to describe a
    difference already found (never to decide whether two reports are the same)."""
    found = _PROVENANCE.search(text)
    if found is None:
        return text, ""
    return text[: found.start()] + text[found.end() :], found.group(0)


def _report_order(name: str) -> tuple[int, str]:
    """Files in the order the report shows them: the sections in order, then the rest."""
    from scorecard_lib.core.registry import SECTIONS

    stem = Path(name).stem
    return (SECTIONS.index(stem) if stem in SECTIONS else len(SECTIONS), name)


def _section_title(name: str) -> str:
    from scorecard_lib.core.registry import SECTION_TITLES

    stem = Path(name).stem
    return SECTION_TITLES.get(stem, stem)


def compare_outputs(published: Path, rerun: Path) -> list[Finding]:
    """Every published file against the re-run's, git fields normalised; described in words."""
    pa = record.normalised_files(published)
    pb = record.normalised_files(rerun)
    found: list[Finding] = []
    names = sorted((set(pa) | set(pb)) - {record.MANIFEST_NAME}, key=_report_order)
    notebooks_differ = False
    found += _compare_open_data(pa, pb)
    for name in names:
        if name == record.REPORT_NAME or _is_open_data(name):
            continue
        if name == record.DOCX_NAME:
            found += _compare_docx(published, rerun, pa, pb)
            continue
        if name not in pb:
            found.append(Finding("outputs", f"{name} is published but the re-run has none"))
            notebooks_differ = True
        elif name not in pa:
            found.append(Finding("outputs", f"the re-run made {name}, which was not published"))
            notebooks_differ = True
        elif pa[name] != pb[name]:
            notebooks_differ = True
            detail = compare_notebooks(published / name, rerun / name)
            title = _section_title(name)
            found += [
                Finding("outputs", f"section '{title}' ({name}): {line}")
                for line in limit(detail, f"in {name}")
            ]
    name = record.REPORT_NAME
    if name in pa and name not in pb:
        found.append(Finding("outputs", "report.html is published but the re-run made none"))
    elif name in pa and pa[name] != pb[name]:
        old, new = pa[name].decode("utf-8"), pb[name].decode("utf-8")
        (old_body, old_prov), (new_body, new_prov) = _split_provenance(old), _split_provenance(new)
        if old_body == new_body:
            # Say what differs in it: text slipped into the provenance must not pass for the
            # code, environment or inputs it lists.
            found += [
                Finding("outputs", f"report.html, provenance block: {line}")
                for line in limit(compare_html(old_prov, new_prov), "in the provenance block")
            ]
        elif notebooks_differ:
            found.append(
                Finding(
                    "outputs",
                    "report.html differs accordingly: it is assembled from the section notebooks",
                )
            )
        else:
            found += [
                Finding("outputs", f"report.html: {line}")
                for line in limit(compare_html(old_body, new_body), "in report.html")
            ]
    if not any(f.differs for f in found):
        compared = [n for n in names if n in pa]
        found.append(
            Finding(
                "outputs",
                f"every published file is identical ({len(compared) + 1} files, git fields aside)",
                differs=False,
            )
        )
    return found


def _is_open_data(name: str) -> bool:
    return name.startswith(f"{manifest_mod.OPEN_DATA_SUBDIR}/")


def _compare_open_data(published: Mapping[str, bytes], rerun: Mapping[str, bytes]) -> list[Finding]:
    """The open-data files (``opendata.py``): a CSV cell by cell, any other file as a whole.
    A record published before open data existed has none, and that is no difference."""
    old = {n: b for n, b in published.items() if _is_open_data(n)}
    new = {n: b for n, b in rerun.items() if _is_open_data(n)}
    if not old and new:
        return [
            Finding(
                "outputs",
                "this record was published before open data existed; the re-run's open data "
                f"({len(new)} files) is not compared",
                differs=False,
            )
        ]
    found: list[Finding] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            found.append(Finding("outputs", f"{name} is published but the re-run has none"))
        elif name not in old:
            found.append(Finding("outputs", f"the re-run made {name}, which was not published"))
        elif old[name] != new[name]:
            detail: list[str] = []
            if name.endswith(".csv"):
                with contextlib.suppress(UnicodeDecodeError):
                    detail = csv_diff(old[name].decode("utf-8"), new[name].decode("utf-8"))
            found += [
                Finding("outputs", f"{name}: {line}")
                for line in limit(detail or ["the file differs"], f"in {name}")
            ]
    return found


def _compare_docx(
    published: Path, rerun: Path, pa: Mapping[str, bytes], pb: Mapping[str, bytes]
) -> list[Finding]:
    """The Word paper: missing on either side, or what text differs (paragraphs and table
    cells in order; when the text is the same, the difference is in layout or pictures)."""
    name = record.DOCX_NAME
    if name not in pb:
        return [Finding("outputs", f"{name} is published but the re-run made none")]
    if name not in pa:
        return [Finding("outputs", f"the re-run made {name}, which was not published")]
    if pa[name] == pb[name]:
        return []
    from scorecard_lib.report.word import document_text

    try:
        old, new = document_text(published / name), document_text(rerun / name)
    except Exception:  # not a Word file any more: say so, do not fail the audit
        return [Finding("outputs", f"{name} differs and can no longer be read as a Word file")]
    lines = text_diff(old, new, "text")
    if not lines:
        return [
            Finding(
                "outputs",
                f"{name}: the text is the same; its pictures, styles or layout differ",
            )
        ]
    return [Finding("outputs", f"{name}: {line}") for line in limit(lines, f"in {name}")]
