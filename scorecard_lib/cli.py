"""The ``scorecard`` command: parse arguments, call one runner function, map errors to exit codes.

    scorecard run 2016-17-Q4 [--data DIR] [--out DIR] [--jobs N] [--no-cache]
    scorecard validate 2016-17-Q4 [--data DIR]
    scorecard audit 2016-17-Q4 | --all [--with-recorded-code] [--data DIR] [--out DIR]
    scorecard quarters [--data DIR] [--out DIR]
    scorecard new-quarter QUARTER / template QUARTER -o FILE.xlsx / import FILE.xlsx
    scorecard batch ROOT --out OUTROOT [--quarters FIRST:LAST | --quarter Q ...] [--orgs A,B]

A :class:`~scorecard_lib.errors.ScorecardError` prints its one-paragraph message (no traceback)
and exits with its ``exit_code``; ``--debug`` shows the traceback instead. Ctrl-C exits 130
having published nothing. The runner (and pandas behind it) is imported only when a command
runs, so ``scorecard --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__
from .errors import ScorecardError
from .paths import SECTIONS
from .quarters import EXAMPLE, Quarter, parse_quarter
from .validate import quarter_argument

EXIT_INTERRUPTED = 130
EXIT_OS_ERROR = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


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

    run = sub.add_parser(
        "run",
        help="run every section notebook for a quarter and publish one HTML report",
        description="Run every section notebook for QUARTER and publish OUT/QUARTER/report.html "
        "with the executed notebooks and manifest.json. Nothing is published if any section "
        "fails.",
    )
    run.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    folders(run)
    run.add_argument(
        "--jobs",
        metavar="N",
        type=_positive_int,
        help="sections run at once (default: the number of CPUs)",
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
    run.add_argument(
        "--no-cache",
        action="store_true",
        help="execute every section even if nothing changed (the build cache in OUT/.cache/ "
        "is neither read nor written)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="replace a published report that this build differs from (the published version "
        "is kept beside it as OUT/QUARTER.previous-N); without it such a run is refused",
    )
    run.set_defaults(handler=_cmd_run)

    audit = sub.add_parser(
        "audit",
        help="re-run a published quarter and say exactly what differs from the published record",
        description="Check a published quarter's inputs, code and environment against its "
        "manifest, re-execute it in a temporary folder and compare the results, every notebook "
        "cell, table, chart and the report with what was published. Exit status 0 identical, "
        "1 different, 2 bad input (no published record, unreadable manifest). The data folder "
        "is the one the record was built from unless --data is given. See docs/aqa/audit.md.",
    )
    audit.add_argument(
        "quarter", metavar="QUARTER", nargs="?", help=f"the published quarter, e.g. {EXAMPLE}"
    )
    audit.add_argument(
        "--all", action="store_true", help="audit every published quarter, several at a time"
    )
    folders(audit)
    audit.add_argument(
        "--jobs",
        metavar="N",
        type=_positive_int,
        help="sections of one quarter run at once (default: the number of CPUs)",
    )
    audit.add_argument(
        "--parallel",
        metavar="N",
        type=_positive_int,
        help="quarters audited at once with --all (default: CPUs divided by --jobs, or 2)",
    )
    audit.add_argument(
        "--with-recorded-code",
        action="store_true",
        help="when the code differs, also re-run with the code of the git commit the manifest "
        "names (a temporary git worktree), to tell a data change from a code change",
    )
    audit.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="keep the re-run's outputs in DIR/QUARTER (and DIR/QUARTER-recorded-code)",
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
        help="list the quarters that have data and whether each has a report",
        description="List the quarters that have data and whether each has a published report.",
    )
    folders(quarters)
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
    folders(imp)
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
    except (ValueError, OSError):
        return str(path)


def _cmd_run(args: argparse.Namespace) -> int:
    quarter_argument(args.quarter)  # a typo fails here, before anything heavy is imported
    from .build import build

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
        force=args.force,
        pdf=args.pdf,
        on_event=_Progress(len(SECTIONS), sys.stderr),
        on_building=building,
    )
    result = built.run
    if built.up_to_date:
        print(f"Nothing changed: {_shown(built.report)} is up to date.")
    elif result.unchanged:
        print(f"Identical to the published report; nothing changed: {_shown(built.report)}")
    else:
        if result.previous is not None:
            print(f"The version it replaced is kept in {_shown(result.previous)}")
        print(f"Report written to {_shown(result.report)}")
        print(f"Manifest written to {_shown(result.manifest)}")
        print(f"Took {result.seconds:.1f} s.", file=sys.stderr)
    if built.pdf is not None:
        print(f"PDF written to {_shown(built.pdf)}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    if args.all == bool(args.quarter):
        print(
            "Give one QUARTER to audit, or --all for every published quarter (not both).",
            file=sys.stderr,
        )
        return 2
    if args.quarter:
        q = quarter_argument(args.quarter)  # a typo fails here, before anything heavy
        print(
            f"Auditing {q.prose} ({q.id}): re-running it in a temporary folder...",
            file=sys.stderr,
            flush=True,
        )
    else:
        print("Auditing every published quarter...", file=sys.stderr, flush=True)
    from . import audit

    def progress(quarter: str, section: str, event: str, seconds: float | None) -> None:
        if event != "started":
            took = f" in {seconds:.1f} s" if seconds is not None else ""
            print(f"[{quarter}] {section} {event}{took}", file=sys.stderr, flush=True)

    options = dict(
        out_dir=args.out,
        data_dir=args.data,
        jobs=args.jobs,
        with_recorded_code=args.with_recorded_code,
        keep=args.keep,
        on_event=progress,
    )
    if args.quarter:
        results = [audit.audit_quarter(q, **options)]
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
    return audit.exit_code(results)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate_quarter

    print("\n".join(validate_quarter(quarter_argument(args.quarter), args.data).lines()))
    return 0


def _cmd_quarters(args: argparse.Namespace) -> int:
    from . import runner

    rows = [
        (qid, parse_quarter(qid).prose, "yes" if has else "no")
        for qid, has in runner.list_quarters(args.data, args.out)
    ]
    if not rows:
        print("No quarter has data yet.", file=sys.stderr)
        return 0
    header = ("Quarter", "Name", "Report")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _cmd_new_quarter(args: argparse.Namespace) -> int:
    from . import scaffold

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
    from . import workbook

    q = parse_quarter(args.quarter)
    path = workbook.write_template(args.quarter, args.output, data_dir=args.data)
    print(
        f"Wrote the returns workbook for {q.prose} to {path}. Send it to the services; when it "
        f"comes back, run 'scorecard import {path}'."
    )
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from . import workbook

    result = workbook.import_workbook(
        args.workbook,
        quarter=args.quarter,
        data_dir=args.data,
        out_dir=args.out,
        swing_percent=args.swing_percent,
        confirm_swings=args.confirm_swings,
        force=args.force,
    )
    print("\n".join(result.lines()))
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch

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


# --- entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    debug: bool = args.debug
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
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(
            f"Could not read or write a file{where}: {exc.strerror or exc}. "
            "Check the folder exists and you may write to it; --debug shows the details.",
            file=sys.stderr,
        )
        return EXIT_OS_ERROR


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
