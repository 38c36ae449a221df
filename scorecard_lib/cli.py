"""The ``scorecard`` command: parse arguments, call one runner function, map errors to exit codes.

    scorecard run 2016-17-Q4 [--data DIR] [--out DIR] [--jobs N] [--no-cache]   (a draft)
    scorecard publish 2016-17-Q4 [--supersede --reason "..."] [--archive DIR] [--data DIR]
    scorecard validate 2016-17-Q4 [--data DIR]
    scorecard audit 2016-17-Q4 | published/2016-17-Q4 | --all [--with-current-code]
    scorecard quarters [--data DIR] [--out DIR] [--archive DIR]
    scorecard new-quarter QUARTER / template QUARTER -o FILE.xlsx / import FILE.xlsx
    scorecard batch ROOT --out OUTROOT [--quarters FIRST:LAST | --quarter Q ...] [--orgs A,B]
    scorecard index [--archive DIR | --out DIR]

A :class:`~scorecard_lib.core.errors.ScorecardError` prints its one-paragraph message (no traceback)
and exits with its ``exit_code``; ``--debug`` shows the traceback instead. Ctrl-C exits 130
having published nothing, and so does SIGTERM. The runner (and pandas behind it) is imported
only when a command runs, so ``scorecard --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from scorecard_lib.core.errors import ScorecardError
from scorecard_lib.core.files import disk_full_error, is_disk_full
from scorecard_lib.core.paths import SECTIONS
from scorecard_lib.core.quarters import EXAMPLE, Quarter, parse_quarter
from scorecard_lib.core.version import __version__
from scorecard_lib.inputs.validate import quarter_argument

EXIT_INTERRUPTED = 130
EXIT_OS_ERROR = 2


#: The most sections (or quarters, for ``audit --parallel``) run at once that is accepted: each
#: runs its own kernel, and a report has six sections. More than the sections of a report
#: never helps; the runner never starts more workers than it has sections.
MAX_JOBS = 64


def _jobs(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_JOBS:
        raise argparse.ArgumentTypeError(
            f"{value} is too many: at most {MAX_JOBS} (a report has {len(SECTIONS)} sections, "
            f"so more than {len(SECTIONS)} at once never helps)"
        )
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def word_options(command: argparse.ArgumentParser) -> None:
    """``--docx`` and ``--docx-template`` (run and publish)."""
    command.add_argument(
        "--docx",
        action="store_true",
        help="also write the paper in Word, report.docx, beside report.html (listed in the "
        "manifest and checked by the audit); see docs/word.md",
    )
    command.add_argument(
        "--docx-template",
        metavar="FILE",
        type=Path,
        help="the council's Word template (.docx or .dotx) whose styles, fonts, headers and "
        "footers the paper uses; implies --docx",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scorecard",
        description="Build the quarterly Corporate Balanced Scorecard and Corporate Risk report.",
    )
    parser.add_argument("--version", action="version", version=f"scorecard {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def folders(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data", metavar="DIR", type=Path, help="data folder (default: the project's data/)"
        )
        p.add_argument(
            "--out",
            metavar="DIR",
            type=Path,
            help="output folder (default: the project's outputs/)",
        )

    def archive_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--archive",
            metavar="DIR",
            type=Path,
            help="the archive of published records (default: the project's published/)",
        )

    run = sub.add_parser(
        "run",
        help="build a draft of a quarter's report (as often as you like)",
        description="Run every section notebook for QUARTER and write the draft "
        "OUT/QUARTER/report.html with the executed notebooks and manifest.json, replacing the "
        "previous draft. Nothing is written if any section fails. Drafts are not committed; "
        "'scorecard publish' makes the record the Cabinet reads.",
    )
    run.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    folders(run)
    run.add_argument(
        "--jobs",
        metavar="N",
        type=_jobs,
        help="sections run at once, 1 to 64 (default: the number of CPUs; never more than "
        "the report's sections)",
    )
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_int,
        default=600,
        help="stop a section whose cell runs longer than this and report it (default: 600)",
    )
    run.add_argument(
        "--pdf",
        action="store_true",
        help="also write report.pdf (A4, through Chromium) beside report.html; it is not part "
        "of the manifest, since its bytes depend on the Chromium version",
    )
    word_options(run)
    run.add_argument(
        "--no-cache",
        action="store_true",
        help="execute every section even if nothing changed (the build cache in OUT/.cache/ "
        "is neither read nor written)",
    )
    run.set_defaults(handler=_cmd_run)

    publish = sub.add_parser(
        "publish",
        help="make the final build of a quarter and add it to the archive of published records",
        description="Build QUARTER afresh (no cache) and add it to the archive as "
        "ARCHIVE/QUARTER/, never to be rebuilt or rewritten. Refused when the quarter is "
        "already published, unless --supersede --reason gives why a correction replaces it: "
        "it is then published beside the old record as ARCHIVE/QUARTER.vN, the old one kept "
        "as it was. The code must be committed. See docs/aqa/audit.md.",
    )
    publish.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    publish.add_argument(
        "--data", metavar="DIR", type=Path, help="data folder (default: the project's data/)"
    )
    archive_option(publish)
    publish.add_argument(
        "--supersede",
        action="store_true",
        help="publish a correction of an already published quarter beside its record",
    )
    publish.add_argument(
        "--reason", metavar="TEXT", help="with --supersede: why (written into the manifest)"
    )
    publish.add_argument(
        "--jobs",
        metavar="N",
        type=_positive_int,
        help="sections run at once (default: the number of CPUs)",
    )
    publish.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_int,
        default=600,
        help="stop a section whose cell runs longer than this and report it (default: 600)",
    )
    word_options(publish)
    publish.set_defaults(handler=_cmd_publish)

    audit = sub.add_parser(
        "audit",
        help="re-run a published record with the code that made it and check it reproduces",
        description="Check a published record's files, inputs and environment against its "
        "manifest, re-execute the quarter in a temporary folder with the code of the git "
        "commit the manifest names, and compare the results, every notebook cell, table, "
        "chart and the report with what was published. With --with-current-code, re-execute "
        "it with today's code instead and list everything that would change. Exit status 0 "
        "identical, 1 different, 2 bad input (no published record, unreadable manifest, the "
        "recorded commit not in the repository). The data folder is the one the record was "
        "built from unless --data is given. See docs/aqa/audit.md.",
    )
    audit.add_argument(
        "quarter",
        metavar="QUARTER",
        nargs="?",
        help=f"the published quarter (its standing record), e.g. {EXAMPLE}, or a record "
        "folder such as published/2016-17-Q4 (e.g. a superseded version)",
    )
    audit.add_argument(
        "--all", action="store_true", help="audit the standing record of every published quarter"
    )
    audit.add_argument(
        "--data", metavar="DIR", type=Path, help="data folder (default: the one recorded)"
    )
    archive_option(audit)
    audit.add_argument(
        "--jobs",
        metavar="N",
        type=_jobs,
        help="sections of one quarter run at once, 1 to 64 (default: the number of CPUs)",
    )
    audit.add_argument(
        "--parallel",
        metavar="N",
        type=_jobs,
        help="quarters audited at once with --all, 1 to 64 (default: CPUs divided by --jobs, or 2)",
    )
    audit.add_argument(
        "--with-current-code",
        action="store_true",
        help="re-run with the working tree's code instead of the recorded commit's, and list "
        "every published figure, rating, direction, sentence and risk band it would change",
    )
    audit.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="keep the re-run's outputs in DIR/QUARTER-recorded-code (or DIR/QUARTER with "
        "--with-current-code)",
    )
    audit.set_defaults(handler=_cmd_audit)

    validate = sub.add_parser(
        "validate",
        help="check every input of a quarter and list every problem, without running anything",
        description="Check the catalogue, settings, parameters and every data file QUARTER "
        "reads, and list every problem at once (file, row, column, value, rule, how to fix). "
        "Exit status 2 when anything is wrong. 'scorecard run' makes the same checks first. "
        "The parameters file is read from a params/ folder beside --data DIR when there is "
        "one, otherwise from the project's params/.",
    )
    validate.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    validate.add_argument(
        "--data", metavar="DIR", type=Path, help="data folder (default: the project's data/)"
    )
    validate.set_defaults(handler=_cmd_validate)

    quarters = sub.add_parser(
        "quarters",
        help="list the quarters that have data, their drafts and their published records",
        description="List the quarters that have data, whether each has a draft (OUT/QUARTER) "
        "and which record of it is published (ARCHIVE/QUARTER, or QUARTER.vN when superseded).",
    )
    folders(quarters)
    archive_option(quarters)
    quarters.set_defaults(handler=_cmd_quarters)

    new_q = sub.add_parser(
        "new-quarter",
        help="start a quarter's data folder and parameters from the previous quarter",
        description="Scaffold params/QUARTER.yaml and the quarter's data folder from the previous "
        "quarter (indicators in force, targets carried, risks copied for review). Refuses a "
        "quarter that already has data.",
    )
    new_q.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    new_q.add_argument("--data", metavar="DIR", type=Path, help="data folder (default: data/)")
    new_q.set_defaults(handler=_cmd_new_quarter)

    template = sub.add_parser(
        "template",
        help="write the Excel returns workbook services fill in for a quarter",
        description="Write an Excel returns workbook listing the indicators due in QUARTER, with "
        "cells for the figures, notes and commentary, and a risk sheet.",
    )
    template.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    template.add_argument(
        "-o",
        "--output",
        metavar="FILE.xlsx",
        type=Path,
        required=True,
        help="where to write the workbook",
    )
    template.add_argument("--data", metavar="DIR", type=Path, help="data folder (default: data/)")
    template.set_defaults(handler=_cmd_template)

    imp = sub.add_parser(
        "import",
        help="read a filled returns workbook, check it and write the quarter's data files",
        description="Read a filled returns workbook, check it with the same rules as 'scorecard "
        "validate', show what changed since the previous quarter, and write the quarter's data "
        "files. Nothing is written if anything is wrong.",
    )
    imp.add_argument("workbook", metavar="FILE.xlsx", type=Path, help="the filled workbook")
    imp.add_argument(
        "--quarter",
        metavar="QUARTER",
        help="the quarter the workbook must be for (default: the one it names)",
    )
    imp.add_argument("--data", metavar="DIR", type=Path, help="data folder (default: data/)")
    archive_option(imp)
    imp.add_argument(
        "--swing-percent",
        metavar="N",
        type=float,
        default=25.0,
        help="flag changes bigger than N%% for you to confirm (default 25)",
    )
    imp.add_argument(
        "--confirm-swings", action="store_true", help="accept the flagged changes: they are real"
    )
    imp.add_argument(
        "--force",
        action="store_true",
        help="replace data of a published quarter (the old data is kept beside it)",
    )
    imp.set_defaults(handler=_cmd_import)

    batch = sub.add_parser(
        "batch",
        help="build every organisation's quarters as tasks on a Dask cluster",
        description="Build every (organisation, quarter) pair of ROOT, one folder per "
        "organisation laid out as the project is (ORG/data/, ORG/params/), into "
        "OUT/ORG/QUARTER/, each exactly as 'scorecard run QUARTER --data ROOT/ORG/data --out "
        "OUT/ORG' would. Each pair is one task on a Dask cluster: the one at --scheduler, or "
        "one started on this machine. A pair that fails does not stop the others; the summary "
        "lists built, unchanged, refused and failed pairs. Exit status 0 when none failed, 1 "
        "when any did, 2 for bad input (nothing ran). Needs the scale extra "
        "(pip install .[scale]); see docs/scale.md.",
    )
    batch.add_argument("root", metavar="ROOT", type=Path, help="folder of organisation folders")
    batch.add_argument(
        "--out",
        metavar="OUTROOT",
        type=Path,
        required=True,
        help="output root: each organisation's reports go to OUTROOT/ORG/QUARTER/",
    )
    chosen = batch.add_mutually_exclusive_group()
    chosen.add_argument(
        "--quarters",
        metavar="FIRST:LAST",
        help="the quarters from FIRST to LAST that each organisation has data for "
        "(default: every quarter each has)",
    )
    chosen.add_argument(
        "--quarter",
        metavar="QUARTER",
        action="append",
        default=[],
        help="a quarter every organisation must have (repeat for more)",
    )
    batch.add_argument(
        "--orgs",
        metavar="A,B",
        default="",
        help="only these organisations (folder names, comma-separated; default: all)",
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the Dask scheduler of an existing cluster, e.g. tcp://10.0.0.5:8786 (default: "
        "start a cluster of worker processes on this machine)",
    )
    batch.add_argument(
        "--workers",
        metavar="N",
        type=_positive_int,
        help="worker processes of the cluster started on this machine (default: one per CPU)",
    )
    batch.add_argument(
        "--jobs",
        metavar="N",
        type=_positive_int,
        help="sections run at once inside each build (default: the CPUs divided among the "
        "workers of a machine)",
    )
    batch.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive_int,
        default=600,
        help="stop a section whose cell runs longer than this (default: 600)",
    )
    batch.add_argument(
        "--no-cache", action="store_true", help="execute every section of every pair"
    )
    act = batch.add_mutually_exclusive_group()
    act.add_argument(
        "--publish",
        action="store_true",
        help="publish each pair as 'scorecard publish' would, into OUTROOT/ORG/published/ "
        "(a quarter already published there is refused)",
    )
    act.add_argument(
        "--audit",
        action="store_true",
        help="audit every published record in OUTROOT/ORG/published/ as 'scorecard audit' "
        "would (--quarters, --quarter and --orgs choose which); exit 1 if any differs",
    )
    batch.set_defaults(handler=_cmd_batch)
    index = sub.add_parser(
        "index",
        help="rebuild the archive page that lists every published quarter (index.html)",
        description="Write index.html at the top of the archive of published records: every "
        "quarter newest first with its counts of ratings and red risks, links to its report, "
        "notebooks, open data and manifest, a chart of the ratings by quarter and the ratings "
        "that changed since the quarter before. 'scorecard publish' rebuilds it too. With "
        "--out DIR the same page is written over a folder of drafts.",
    )
    where = index.add_mutually_exclusive_group()
    where.add_argument(
        "--archive",
        metavar="DIR",
        type=Path,
        help="the archive of published records (default: the project's published/)",
    )
    where.add_argument(
        "--out", metavar="DIR", type=Path, help="a folder of drafts instead (e.g. outputs)"
    )
    index.set_defaults(handler=_cmd_index)
    return parser


# --- commands ---------------------------------------------------------------------------------


class _Progress:
    """Prints "[2/6] childrens_services finished in 3.1 s" lines to ``stream``."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream

    def __call__(self, section: str, event: str, seconds: float | None) -> None:
        if event == "started":
            return
        self.done += 1
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        print(f"[{self.done}/{self.total}] {section} {event}{took}", file=self.stream, flush=True)


def _shown(path: Path) -> str:
    """A path relative to the current directory when inside it (as ``runner.human_path``)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symbolic-link loop
        return str(path)


def _cmd_run(args: argparse.Namespace) -> int:
    quarter_argument(args.quarter)  # a typo fails here, before anything heavy is imported
    from scorecard_lib.build.pipeline import build

    def building(quarter: Quarter) -> None:
        print(
            f"Building the report for {quarter.prose} ({quarter.id})...",
            file=sys.stderr,
            flush=True,
        )

    built = build(
        args.quarter,
        data_dir=args.data,
        out_dir=args.out,
        jobs=args.jobs,
        timeout=args.timeout,
        cache=not args.no_cache,
        pdf=args.pdf,
        docx=args.docx or args.docx_template is not None,
        docx_template=args.docx_template,
        on_event=_Progress(len(SECTIONS), sys.stderr),
        on_building=building,
    )
    result = built.run
    if built.up_to_date:
        print(f"Nothing changed: {_shown(built.report)} is up to date.")
    else:
        print(f"Draft report written to {_shown(result.report)}")
        print(f"Manifest written to {_shown(result.manifest)}")
        print(f"Took {result.seconds:.1f} s.", file=sys.stderr)
    if built.pdf is not None:
        print(f"PDF written to {_shown(built.pdf)}")
    if built.docx is not None:
        print(f"Word paper written to {_shown(built.docx)}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    q = quarter_argument(args.quarter)  # a typo fails here, before anything heavy
    if args.reason is not None and not args.supersede:
        print("--reason goes with --supersede (a first publication needs none).", file=sys.stderr)
        return 2
    if args.supersede and not (args.reason or "").strip():
        print(
            '--supersede needs --reason "...": the new record\'s manifest says why it replaces '
            "the published one.",
            file=sys.stderr,
        )
        return 2
    from scorecard_lib.publish.publishing import publish_quarter

    def building(name: str) -> None:
        print(f"Publishing {q.prose} as {name}: a final build...", file=sys.stderr, flush=True)

    done = publish_quarter(
        q,
        data_dir=args.data,
        archive_dir=args.archive,
        supersede_reason=args.reason if args.supersede else None,
        jobs=args.jobs,
        timeout=args.timeout,
        docx=args.docx or args.docx_template is not None,
        docx_template=args.docx_template,
        on_event=_Progress(len(SECTIONS), sys.stderr),
        on_building=building,
    )
    shown = _shown(done.folder)
    print(f"Published {q.prose} as {shown} (version {done.record.version}).")
    if done.superseded is not None:
        print(f"It supersedes {_shown(done.superseded.folder)}, which is kept as it was.")
    print(f"Commit it: git add {shown} && git commit -m 'Publish {done.folder.name}'")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    if args.all == bool(args.quarter):
        print(
            "Give one QUARTER (or record folder) to audit, or --all for every published "
            "quarter (not both).",
            file=sys.stderr,
        )
        return 2
    folder: Path | None = None
    how = "with the current code" if args.with_current_code else "with the code that made it"
    if args.quarter:
        if "/" in args.quarter or os.sep in args.quarter:
            folder = Path(args.quarter)  # a record folder, e.g. a superseded version
            print(f"Auditing {args.quarter}: re-running it {how}...", file=sys.stderr, flush=True)
        else:
            q = quarter_argument(args.quarter)  # a typo fails here, before anything heavy
            print(
                f"Auditing {q.prose} ({q.id}): re-running it {how} in a temporary folder...",
                file=sys.stderr,
                flush=True,
            )
    else:
        print(f"Auditing every published quarter {how}...", file=sys.stderr, flush=True)
    from scorecard_lib import audit

    def progress(quarter: str, section: str, event: str, seconds: float | None) -> None:
        if event != "started":
            took = f" in {seconds:.1f} s" if seconds is not None else ""
            print(f"[{quarter}] {section} {event}{took}", file=sys.stderr, flush=True)

    options = dict(
        archive_dir=args.archive,
        data_dir=args.data,
        jobs=args.jobs,
        code=audit.CURRENT if args.with_current_code else audit.RECORDED,
        keep=args.keep,
        on_event=progress,
    )
    if folder is not None:
        results = [audit.audit_quarter(folder=folder, **options)]
    elif args.quarter:
        results = [audit.audit_quarter(args.quarter, **options)]
    else:
        results = audit.audit_all(parallel=args.parallel, **options)
    print("\n\n".join(r.text() for r in results))
    if len(results) > 1:
        same = sum(r.exit_code == 0 for r in results)
        print(
            f"\n{len(results)} published quarters audited: {same} identical, "
            f"{sum(r.exit_code == 1 for r in results)} different, "
            f"{sum(r.exit_code == 2 for r in results)} could not be audited."
        )
    changes = [c for r in results for c in r.result_changes]
    if args.with_current_code and changes:
        print(f"\nPublished results today's code would change ({len(changes)}):")
        print("\n".join(f"  - {c.text()}" for c in changes))
    return audit.exit_code(results)


def _cmd_validate(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs.validate import validate_quarter

    print("\n".join(validate_quarter(quarter_argument(args.quarter), args.data).lines()))
    return 0


def _cmd_quarters(args: argparse.Namespace) -> int:
    from scorecard_lib.build import runner

    rows = [
        (row.quarter.id, row.quarter.prose, "yes" if row.draft else "no", row.published_text())
        for row in runner.quarter_states(args.data, args.out, args.archive)
    ]
    if not rows:
        print("No quarter has data yet.", file=sys.stderr)
        return 0
    header = ("Quarter", "Name", "Draft", "Published")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _cmd_new_quarter(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs import scaffold

    q = parse_quarter(args.quarter)
    written = scaffold.new_quarter(args.quarter, data_dir=args.data)
    print(f"Started {q.prose} ({q.id}). Files written:")
    for path in written:
        print(f"  {scaffold.human(path)}")
    if any(p.suffix == ".yaml" and p.parent.name == "params" for p in written):
        print(f"cabinet_date in params/{q.id}.yaml is a placeholder: change it.")
    print(f"Next: scorecard template {q.id} -o returns-{q.id}.xlsx")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs import workbook

    q = parse_quarter(args.quarter)
    path = workbook.write_template(args.quarter, args.output, data_dir=args.data)
    print(
        f"Wrote the returns workbook for {q.prose} to {path}. Send it to the services; when it "
        f"comes back, run 'scorecard import {path}'."
    )
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs import workbook

    result = workbook.import_workbook(
        args.workbook,
        quarter=args.quarter,
        data_dir=args.data,
        out_dir=args.archive,
        swing_percent=args.swing_percent,
        confirm_swings=args.confirm_swings,
        force=args.force,
    )
    print("\n".join(result.lines()))
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from scorecard_lib.scale.batch import run_batch

    done: list[str] = []
    try:
        result = run_batch(
            args.root,
            args.out,
            quarters=args.quarter,
            quarter_span=args.quarters,
            orgs=args.orgs.split(","),
            scheduler=args.scheduler,
            workers=args.workers,
            jobs=args.jobs,
            timeout=args.timeout,
            cache=not args.no_cache,
            publish=args.publish,
            audit=args.audit,
            on_result=lambda r: done.append(r.name),
        )
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(
            f"\nInterrupted after {len(done)} pair{'s' if len(done) != 1 else ''}; the pairs "
            "not finished were not published (nothing half-built is ever published).",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print("\n".join(result.lines()))
    return result.exit_code


def _cmd_index(args: argparse.Namespace) -> int:
    from scorecard_lib.publish.archive_index import write_archive_index

    drafts = args.out is not None
    path = write_archive_index(args.out if drafts else args.archive, drafts=drafts)
    print(f"Archive page written to {_shown(path)}")
    return 0


# --- entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    debug: bool = args.debug
    previous = _stop_on_sigterm()
    try:
        code: int = args.handler(args)
        return code
    except ScorecardError as exc:
        if debug:
            raise
        print(exc.message(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("\nInterrupted; nothing was published.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        if debug:
            raise
        if is_disk_full(exc):  # a write the library did not expect to fail
            folder = Path(exc.filename).parent if exc.filename else Path.cwd()
            print(disk_full_error(folder, exc).message(), file=sys.stderr)
            return EXIT_OS_ERROR
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(
            f"Could not read or write a file{where}: {exc.strerror or exc}. "
            "Check the folder exists and you may write to it; --debug shows the details.",
            file=sys.stderr,
        )
        return EXIT_OS_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm() -> Any:
    """Handle SIGTERM (``kill PID``, a service manager stopping us) as Ctrl-C: raise
    KeyboardInterrupt, so the run stops its workers and kernels, removes its staging folder and
    says "Interrupted; nothing was published" (exit 130). Returns the handler it replaced
    (None when it could not be set: not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def terminated(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, terminated)


def console() -> None:
    """The ``scorecard`` command: :func:`main`, then leave at once.

    Tearing down the interpreter (freeing pandas, matplotlib, jupyter and their thousands of
    objects one by one) takes 0.2-0.35 s after the work is done and everything is written and
    closed. When nothing is left to finish (no other thread, no child process), the streams
    are flushed and the process ends with ``os._exit``; otherwise it exits the ordinary way.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said anyway
        raise SystemExit(code) from None
    if threading.active_count() == 1 and not _child_processes():
        os._exit(code)
    raise SystemExit(code)


def _child_processes() -> bool:
    mp = sys.modules.get("multiprocessing")
    return bool(mp is not None and mp.active_children())


if __name__ == "__main__":
    console()
