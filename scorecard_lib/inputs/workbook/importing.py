"""Import a filled returns workbook (``scorecard import``).

Every cell is checked (naming the sheet, cell and value of each problem), the sheets become
``values.csv``, ``commentary.yaml``, ``risks.csv`` and ``breakdowns.csv``, those are
validated with the same rules as ``scorecard validate``
(:func:`scorecard_lib.inputs.loading.load_inputs` on a temporary copy of the data folder),
the figures are compared with the previous quarter, and only then is the quarter's folder
written, all at once. Nothing is written when anything is wrong.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from numbers import Real
from pathlib import Path

from scorecard_lib.core.errors import (
    InputError,
    Problem,
    PublishedError,
    QuarterError,
    ValidationError,
)
from scorecard_lib.core.formatting import format_number
from scorecard_lib.core.paths import display_path, resolve, resolve_given
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.inputs.loading import Inputs, load_inputs
from scorecard_lib.inputs.locations import available_quarters
from scorecard_lib.inputs.scaffold import (
    BREAKDOWN_COLUMNS,
    RISK_COLUMNS,
    VALUES_COLUMNS,
    Start,
    commentary_yaml,
    csv_text,
    fmt,
    params_text,
    placeholder_cabinet_date,
    start,
    write_files_atomically,
    write_text_atomically,
)
from scorecard_lib.inputs.workbook.cells import CellReader, Where, open_workbook
from scorecard_lib.inputs.workbook.sheets import (
    Parsed,
    check_sheets,
    parse_breakdowns,
    parse_indicators,
    parse_risks,
    read_meta,
    workbook_quarter,
)


@dataclass
class ImportResult:
    """What an import did. ``changes`` compares the figures with the previous quarter, one
    line per indicator or risk; ``swings`` lists changes beyond the swing limit (confirmed);
    ``warnings`` lists things the analyst should know (no row written, placeholders...)."""

    quarter: str
    files: list[Path] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    swings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    backup: Path | None = None

    def lines(self) -> list[str]:
        """The import's report as the command line prints it."""
        q = parse_quarter(self.quarter)
        out = [f"Imported the returns for {q.prose} ({q.id})."]
        if self.changes:
            out.append(f"Changes since {q.previous().prose}:")
            out.extend(f"  {c}" for c in self.changes)
        if self.swings:
            out.append("Large changes, confirmed:")
            out.extend(f"  {s}" for s in self.swings)
        if self.warnings:
            out.append("Please note:")
            out.extend(f"  {w}" for w in self.warnings)
        if self.backup is not None:
            out.append(
                f"The data it replaces is kept in {display_path(self.backup, outside='given')}."
            )
        out.append("Files written:")
        out.extend(f"  {display_path(p, outside='given')}" for p in self.files)
        out.append(f"Next: build the report with 'scorecard run {q.id}'.")
        return out


def _published(q: Quarter, out_dir: Path) -> list[Path]:
    """Reports already published that read this quarter's data (its own and later ones)."""
    found = []
    if out_dir.is_dir():
        for child in sorted(out_dir.iterdir()):
            try:
                other = parse_quarter(child.name)
            except QuarterError:
                continue
            if other.id == child.name and other >= q and (child / "report.html").is_file():
                found.append(child / "report.html")
    return found


def _backup_name(folder: Path) -> Path:
    n = 1
    while (folder.parent / f"{folder.name}.previous-{n}").exists():
        n += 1
    return folder.parent / f"{folder.name}.previous-{n}"


def _translate(
    problems: Iterable[Problem],
    parsed: Parsed,
    q: Quarter,
    tmp_root: Path,
    tmp_params: Path,
    root: Path,
    params_file: Path,
    name: str,
) -> list[Problem]:
    """Problems found in the generated files, located in the workbook instead."""
    own = {
        display_path(tmp_root / q.id / "values.csv", tmp_root): parsed.value_cells,
        display_path(tmp_root / q.id / "risks.csv", tmp_root): parsed.risk_cells,
        display_path(tmp_root / q.id / "breakdowns.csv", tmp_root): parsed.breakdown_cells,
    }
    commentary_file = display_path(tmp_root / q.id / "commentary.yaml", tmp_root)
    params_name = display_path(tmp_params, tmp_root)
    out = []
    for p in problems:
        where: Where | None = None
        if p.file in own and p.row is not None and 0 <= p.row - 2 < len(own[p.file]):
            cells = own[p.file][p.row - 2]
            where = cells.get(p.column or "") or next(iter(cells.values()))
        elif p.file == commentary_file and p.column:
            where = parsed.commentary_cells.get(p.column.split(".")[0])
        if where is not None:
            out.append(
                Problem(
                    file=name,
                    row=where.row,
                    column=where.ref,
                    value=p.value,
                    rule=p.rule,
                    fix=p.fix,
                )
            )
        elif p.file == params_name:
            out.append(replace(p, file=display_path(params_file, outside="given")))
        elif p.file.startswith("DATA/"):
            out.append(replace(p, file=display_path(root / p.file[5:], outside="given")))
        else:
            out.append(p)
    return out


def _validate(
    st: Start,
    files: Mapping[str, str],
    params: str,
    parsed: Parsed,
    name: str,
) -> Inputs:
    """Load the quarter from a temporary copy of the data folder holding the new files."""
    q = st.quarter
    with tempfile.TemporaryDirectory(prefix="scorecard-import-") as tmp:
        tmp_root = Path(tmp) / "data"
        tmp_root.mkdir()
        for f in ("catalogue.csv", "settings.yaml"):
            if (st.data_dir / f).is_file():
                shutil.copy2(st.data_dir / f, tmp_root / f)
        for earlier in available_quarters(st.data_dir):
            if earlier < q:
                shutil.copytree(st.data_dir / earlier.id, tmp_root / earlier.id)
        (tmp_root / q.id).mkdir()
        for fname, text in files.items():
            (tmp_root / q.id / fname).write_bytes(text.encode("utf-8"))
        tmp_params = Path(tmp) / "params" / f"{q.id}.yaml"
        tmp_params.parent.mkdir()
        tmp_params.write_bytes(params.encode("utf-8"))
        try:
            return load_inputs(q, tmp_root, tmp_params.parent)
        except ValidationError as exc:
            raise ValidationError(
                _translate(
                    exc.problems,
                    parsed,
                    q,
                    tmp_root,
                    tmp_params,
                    st.data_dir,
                    st.params_dir / f"{q.id}.yaml",
                    name,
                )
            ) from None


def _pct(new: float, old: float) -> float:
    if old == 0:
        return 0.0 if new == 0 else math.inf
    return (new - old) / abs(old) * 100


def _pct_text(p: float) -> str:
    if math.isinf(p):
        return "from zero"
    return f"{p:+.1f}%"


def _compare(
    st: Start, inputs: Inputs, parsed: Parsed, swing_percent: float, name: str
) -> tuple[list[str], list[str], list[Problem]]:
    """Lines comparing the new figures with the last ones, and the swings beyond the limit."""
    q = st.quarter
    cat = inputs.catalogue.set_index("indicator_id", drop=False)
    changes: list[str] = []
    swings: list[str] = []
    problems: list[Problem] = []
    for row, cells in zip(parsed.values, parsed.value_cells, strict=True):
        iid = row["indicator_id"]
        d = cat.loc[iid]
        dec = int(d["decimals"])
        label = f"{iid} {d['name']}"
        new = float(row["value"])
        last = st.latest(iid)
        if not last or last.get("value") is None:
            changes.append(f"{label}: {format_number(new, dec)} (first figure)")
            continue
        old = float(last["value"])
        lq = parse_quarter(str(last["quarter"]))
        when = "" if lq == q.previous() else f" ({lq.short})"
        pct = _pct(new, old)
        line = (
            f"{label}: {format_number(old, dec)}{when} -> {format_number(new, dec)} "
            f"({_pct_text(pct)})"
        )
        extras = []
        for ref in ("target", "benchmark"):
            was, now = last.get(ref), row.get(ref)
            if now is not None and was is not None and float(was) != float(now):
                extras.append(f"{ref} {format_number(was, dec)} -> {format_number(now, dec)}")
            elif now is not None and was is None:
                extras.append(f"{ref} {format_number(now, dec)} (new)")
        changes.append(line + ("; " + "; ".join(extras) if extras else ""))
        if abs(pct) > swing_percent:
            swings.append(f"{line}, more than the {swing_percent:g}% swing limit")
            problems.append(
                Problem(
                    file=name,
                    row=cells["value"].row,
                    column=cells["value"].ref,
                    value=fmt(row["value"]),
                    rule=f"{iid} changed by {_pct_text(pct)} since {lq.short} "
                    f"({format_number(old, dec)} -> {format_number(new, dec)}), more than "
                    f"the {swing_percent:g}% allowed without a check",
                    fix="check the figure; if it is right, import again confirming the swings "
                    "(scorecard import --confirm-swings)",
                )
            )
    before = {r["risk_id"]: r for r in st.previous_risks().to_dict("records")}
    for r in parsed.risks:
        rid = r["risk_id"]
        now_score = int(r["current_likelihood"]) * int(r["current_impact"])
        old_row = before.get(rid)
        if r["status"] == "closed":
            changes.append(f"{rid} {r['title']}: closed this quarter")
        elif old_row is None:
            changes.append(f"{rid} {r['title']}: new risk, current score {now_score}")
        else:
            old_score = int(old_row["current_likelihood"]) * int(old_row["current_impact"])
            if old_score != now_score:
                word = "up" if now_score > old_score else "down"
                changes.append(
                    f"{rid} {r['title']}: current score {old_score} -> {now_score} ({word})"
                )
    return changes, swings, problems


def import_workbook(
    path: Path,
    *,
    quarter: str | None = None,
    data_dir: Path | None = None,
    params_dir: Path | None = None,
    swing_percent: float = 25.0,
    confirm_swings: bool = False,
    force: bool = False,
    out_dir: Path | None = None,
) -> ImportResult:
    """Read a filled returns workbook and write the quarter's data files.

    Every check runs before anything is written; any problem raises a ScorecardError
    (ValidationError lists each problem with its sheet, cell and value) and leaves the data
    untouched. Changes of a figure by more than ``swing_percent`` per cent since its last
    value are refused unless ``confirm_swings``. A quarter whose report (or a later
    quarter's report) is published in the archive ``out_dir`` (default ``published/``) is
    only overwritten with ``force``, and then the old data folder is kept as
    ``data/QUARTER.previous-N``.
    """
    path = Path(path)
    resolve_given(path)  # a symbolic-link loop on the way is an input error
    name = path.name
    if not isinstance(swing_percent, Real) or not swing_percent >= 0:
        raise InputError(
            f"The swing limit {swing_percent!r} is not a percentage of 0 or more",
            fix="give a number such as 25",
        )
    book = open_workbook(path)
    meta = read_meta(book, name)
    q = workbook_quarter(meta, name, quarter)
    st = start(q, data_dir, params_dir)
    from scorecard_lib.inputs.archive import ARCHIVE_DIR

    outputs = resolve(out_dir, ARCHIVE_DIR)
    published = _published(q, outputs)
    if published and not force:
        listed = ", ".join(display_path(p, outside="given") for p in published)
        own = outputs / q.id / "report.html" in published
        what = (
            f"The report for {q.prose} has been published"
            if own
            else f"A report for a later quarter, which carries forward figures from {q.prose}, "
            "has been published"
        )
        raise PublishedError(
            f"{what}, so the data of {q.prose} will not be overwritten",
            where=listed,
            fix="import again with --force if the published figures must be corrected (the "
            "current data will be kept as "
            + display_path(_backup_name(st.folder), outside="given")
            + ")",
        )

    rd = CellReader(name, book)
    parsed = Parsed()
    check_sheets(rd, book)
    if not rd.problems:
        parse_indicators(rd, st, parsed)
        parse_risks(rd, st, parsed)
        parse_breakdowns(rd, parsed)
    if rd.problems:
        raise ValidationError(rd.problems)

    files: dict[str, str] = {
        "values.csv": csv_text(VALUES_COLUMNS, parsed.values),
        "commentary.yaml": commentary_yaml(dict(sorted(parsed.commentary.items()))),
        "risks.csv": csv_text(RISK_COLUMNS, parsed.risks),
    }
    if parsed.breakdowns:
        files["breakdowns.csv"] = csv_text(BREAKDOWN_COLUMNS, parsed.breakdowns)
    warnings = list(parsed.warnings)
    if st.folder.is_dir():  # files the workbook does not cover (overrides) are kept
        for other in sorted(st.folder.iterdir()):
            if other.is_file() and other.name not in files and other.name != "breakdowns.csv":
                files[other.name] = other.read_text(encoding="utf-8")
                warnings.append(f"Kept {other.name} from the existing data for {q.short}.")
    params_file = st.params_dir / f"{q.id}.yaml"
    new_params: str | None = None
    if params_file.is_file():
        params = params_file.read_text(encoding="utf-8")
    else:
        new_params = params = params_text(
            q, str(st.inputs.params.get("title", "")), str(st.inputs.params.get("council", ""))
        )
        warnings.append(
            f"{display_path(params_file, outside='given')} did not exist: it has been written "
            "with a placeholder "
            f"Cabinet date ({placeholder_cabinet_date(q).isoformat()}); change it to the real "
            "date."
        )

    inputs = _validate(st, files, params, parsed, name)
    changes, swings, swing_problems = _compare(st, inputs, parsed, swing_percent, name)
    if swing_problems and not confirm_swings:
        raise ValidationError(swing_problems)
    draft = st.existing.get("values")
    if draft is not None and "value" in draft.columns and (draft["value"].str.strip() != "").any():
        warnings.append(f"This replaces the figures that {q.short} already had.")

    backup = _backup_name(st.folder) if published and st.folder.exists() else None
    result = ImportResult(
        quarter=q.id, changes=changes, swings=swings, warnings=warnings, backup=backup
    )
    try:
        if new_params is not None:
            result.files.append(write_text_atomically(params_file, new_params))
        result.files.extend(write_files_atomically(st.folder, files, keep_old_as=backup))
    except OSError as exc:
        raise InputError(
            f"The data for {q.prose} could not be written ({exc.strerror or exc})",
            where=display_path(st.folder, outside="given"),
            fix="check that the data folder can be written to and try again",
        ) from None
    return result


__all__ = ["ImportResult", "import_workbook"]
