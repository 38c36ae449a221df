"""What a batch is made of: the (organisation, quarter) pairs, checked before anything runs.

``scorecard batch`` refuses a bad root, organisation or quarter range with one message before
it starts a cluster (:class:`BatchError`, exit 2). This module finds the pairs
(:func:`plan`, :func:`audit_plan`) and holds what a pair's task returns (:class:`PairResult`)
and the summary of them all (:class:`BatchResult`); it needs no Dask, so the checks and the
summary are tested without one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scorecard_lib.core.errors import ScorecardError
from scorecard_lib.core.quarters import Quarter, parse_quarter, quarter_range

#: Pair outcomes, in the order the summary lists them.
STATUSES: tuple[str, ...] = ("built", "unchanged", "refused", "failed")
#: Outcomes of auditing a published record (``scorecard audit``'s exit status 0, 1, 2).
AUDIT_STATUSES: tuple[str, ...] = ("identical", "different", "failed")
#: Outcomes that make the batch exit with :data:`EXIT_SOME_FAILED`.
BAD_STATUSES = frozenset({"failed", "different"})
#: Sub-folder of ``OUTROOT/ORG/`` that ``publish`` adds records to (``scorecard publish
#: --archive``).
ARCHIVE_SUBDIR = "published"
#: Exit status of a batch in which at least one pair failed.
EXIT_SOME_FAILED = 1


class BatchError(ScorecardError):
    """The batch cannot start: a bad root, organisation, quarter range or scheduler."""


@dataclass(frozen=True)
class Pair:
    """One build: an organisation (a folder of the root) and a quarter."""

    organisation: str
    quarter: Quarter

    @property
    def name(self) -> str:
        return f"{self.organisation} {self.quarter.id}"


@dataclass(frozen=True)
class PairResult:
    """What one pair's task did. ``status`` is one of :data:`STATUSES`; ``message`` the
    one-paragraph message ``scorecard run`` would print for a refusal or failure;
    ``exit_code`` the status ``scorecard run`` would exit with; ``executed`` whether any
    notebook ran (False when the build cache said the pair is up to date: "unchanged").
    "refused" is a publication refused (``scorecard publish``'s rules)."""

    organisation: str
    quarter: str
    status: str
    exit_code: int = 0
    message: str = ""
    folder: str = ""
    seconds: float = 0.0
    executed: bool = True

    @property
    def name(self) -> str:
        return f"{self.organisation} {self.quarter}"


@dataclass
class BatchResult:
    """Every pair's result, in the order of the plan."""

    results: list[PairResult] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0
    statuses: tuple[str, ...] = STATUSES

    def by_status(self, status: str) -> list[PairResult]:
        return [r for r in self.results if r.status == status]

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if any(r.status in BAD_STATUSES for r in self.results) else 0

    def lines(self) -> list[str]:
        """The summary: counts, then each pair that was refused or failed, with its message."""
        counts = ", ".join(f"{len(self.by_status(s))} {s}" for s in self.statuses)
        lines = [
            f"{len(self.results)} pairs on {self.workers} worker"
            f"{'s' if self.workers != 1 else ''} in {self.seconds:.1f} s: {counts}."
        ]
        for status in self.statuses:
            for r in self.by_status(status):
                if status in ("built", "unchanged", "identical"):
                    lines.append(f"  {status:9} {r.name}")
                else:
                    head = f"  {status:9} {r.name} (exit status {r.exit_code}): "
                    lines.append(head + r.message.replace("\n", "\n" + " " * 14))
        return lines


# --- the plan: checked before anything runs ---------------------------------------------------


def organisations(root: Path) -> list[str]:
    """The organisation folders of ``root`` (sorted; hidden folders left out)."""
    if not root.is_dir():
        raise BatchError(
            f"The batch root {root} does not exist or is not a folder",
            fix="give the folder that holds one folder per organisation (ORG/data/, ORG/params/)",
        )
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise BatchError(
            f"The batch root {root} holds no organisation folder",
            fix="add one folder per organisation, each with data/ and params/ as in the project",
        )
    return found


def _check_organisation(root: Path, org: str) -> None:
    folder = root / org
    missing = [name for name in ("data", "params") if not (folder / name).is_dir()]
    if missing:
        raise BatchError(
            f"The organisation folder {org} has no {' and no '.join(f'{m}/' for m in missing)} "
            "folder",
            where=str(folder),
            fix="lay each organisation out as the project is: ORG/data/ (catalogue.csv and "
            "one folder per quarter) and ORG/params/ (QUARTER.yaml); move anything else out "
            "of the root",
        )


def _quarters_with_data(data: Path) -> list[Quarter]:
    found = []
    for p in data.iterdir() if data.is_dir() else ():
        if p.is_dir():
            with contextlib.suppress(ScorecardError):
                q = parse_quarter(p.name)
                if q.id == p.name:
                    found.append(q)
    return sorted(found)


def parse_range(text: str) -> list[Quarter]:
    """``FIRST:LAST`` as every quarter from FIRST to LAST inclusive."""
    first, sep, last = text.partition(":")
    if not sep or not first.strip() or not last.strip():
        raise BatchError(
            f"'{text}' is not a quarter range",
            where="--quarters",
            fix="write it as FIRST:LAST, e.g. 2016-17-Q1:2017-18-Q1",
        )
    try:
        a, b = parse_quarter(first.strip()), parse_quarter(last.strip())
    except ScorecardError as exc:
        raise BatchError(
            f"'{text}' is not a quarter range: {exc.what}",
            where="--quarters",
            fix="write it as FIRST:LAST, e.g. 2016-17-Q1:2017-18-Q1",
        ) from None
    if b < a:
        raise BatchError(
            f"The quarter range '{text}' ends before it starts",
            where="--quarters",
            fix=f"put the earlier quarter first: {b.id}:{a.id}",
        )
    return quarter_range(a, b)


def _chosen_organisations(root: Path, orgs: Sequence[str]) -> list[str]:
    every = organisations(root)
    chosen = list(dict.fromkeys(o.strip() for o in orgs if o.strip())) or every
    unknown = [o for o in chosen if o not in every]
    if unknown:
        raise BatchError(
            f"No organisation folder named {', '.join(unknown)} in {root}",
            where="--orgs",
            fix=f"choose from {', '.join(every)}",
        )
    for org in chosen:
        _check_organisation(root, org)
    return chosen


def audit_plan(
    root: Path,
    out_root: Path,
    *,
    quarters: Sequence[str] = (),
    quarter_span: str | None = None,
    orgs: Sequence[str] = (),
) -> list[Pair]:
    """Every published record to audit: the standing record of each quarter in each
    organisation's archive (``OUTROOT/ORG/published/``), only those of ``quarters`` or
    ``quarter_span`` when given."""
    from scorecard_lib.inputs.archive import current_records

    root, out_root = Path(root), Path(out_root)
    chosen = _chosen_organisations(root, orgs)
    wanted = {parse_quarter(q) for q in quarters}
    span = parse_range(quarter_span) if quarter_span else None
    pairs = [
        Pair(org, record.quarter)
        for org in chosen
        for record in current_records(out_root / org / ARCHIVE_SUBDIR)
        if (not wanted or record.quarter in wanted) and (span is None or record.quarter in span)
    ]
    if not pairs:
        raise BatchError(
            "No organisation has a published record to audit",
            where=str(out_root),
            fix="publish first ('scorecard batch ROOT --out OUTROOT --publish'), or check "
            "--quarters and --orgs",
        )
    return pairs


def plan(
    root: Path,
    *,
    quarters: Sequence[str] = (),
    quarter_span: str | None = None,
    orgs: Sequence[str] = (),
) -> list[Pair]:
    """Every pair the batch builds, organisation by organisation, oldest quarter first.

    ``quarters`` (``--quarter``) must each have data in every organisation; ``quarter_span``
    (``--quarters FIRST:LAST``) takes the quarters in the range that each organisation has
    data for; with neither, every quarter each organisation has data for."""
    root = Path(root)
    chosen = _chosen_organisations(root, orgs)
    wanted = [parse_quarter(q) for q in quarters]
    span = parse_range(quarter_span) if quarter_span else None
    pairs: list[Pair] = []
    for org in chosen:
        have = _quarters_with_data(root / org / "data")
        if wanted:
            lacking = [q.id for q in wanted if q not in have]
            if lacking:
                raise BatchError(
                    f"The organisation {org} has no data for {', '.join(lacking)}",
                    where=str(root / org / "data"),
                    fix="add the quarter's data, leave the organisation out with --orgs, or "
                    "use --quarters FIRST:LAST to take only the quarters each one has",
                )
            pairs += [Pair(org, q) for q in sorted(set(wanted))]
        else:
            pairs += [Pair(org, q) for q in have if span is None or q in span]
    if not pairs:
        raise BatchError(
            "No organisation has data for any quarter asked for",
            where=str(root),
            fix="check --quarters, or add the quarters' data (ORG/data/QUARTER/)",
        )
    return pairs
