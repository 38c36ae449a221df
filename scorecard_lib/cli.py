"""The ``scorecard`` command: parse arguments, call one runner function, map errors to exit codes.

    scorecard run 2016-17-Q4 [--data DIR] [--out DIR] [--jobs N]
    scorecard quarters [--data DIR] [--out DIR]
    scorecard new-quarter QUARTER / template QUARTER -o FILE.xlsx / import FILE.xlsx

A :class:`~scorecard_lib.errors.ScorecardError` prints its one-paragraph message (no traceback)
and exits with its ``exit_code``; ``--debug`` shows the traceback instead. Ctrl-C exits 130
having published nothing. The runner (and pandas behind it) is imported only when a command
runs, so ``scorecard --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__
from .errors import ScorecardError
from .paths import SECTIONS
from .quarters import EXAMPLE, parse_quarter

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
    run.set_defaults(handler=_cmd_run)

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
    template.add_argument("-o", "--output", metavar="FILE.xlsx", type=Path, required=True,
                          help="where to write the workbook")
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
    imp.add_argument("--quarter", metavar="QUARTER",
                     help="the quarter the workbook must be for (default: the one it names)")
    folders(imp)
    imp.add_argument("--swing-percent", metavar="N", type=float, default=25.0,
                     help="flag changes bigger than N%% for you to confirm (default 25)")
    imp.add_argument("--confirm-swings", action="store_true",
                     help="accept the flagged changes: they are real")
    imp.add_argument("--force", action="store_true",
                     help="replace data of a published quarter (the old data is kept beside it)")
    imp.set_defaults(handler=_cmd_import)
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


def _cmd_run(args: argparse.Namespace) -> int:
    q = parse_quarter(args.quarter)  # a typo fails here, before anything heavy is imported
    print(f"Building the report for {q.prose} ({q.id})...", file=sys.stderr, flush=True)
    from . import runner

    result = runner.run_quarter(
        args.quarter,
        data_dir=args.data,
        out_dir=args.out,
        jobs=args.jobs,
        on_event=_Progress(len(SECTIONS), sys.stderr),
    )
    print(f"Report written to {runner.human_path(result.report)}")
    print(f"Manifest written to {runner.human_path(result.manifest)}")
    print(f"Took {result.seconds:.1f} s.", file=sys.stderr)
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
    print(f"Wrote the returns workbook for {q.prose} to {path}. Send it to the services; when it "
          f"comes back, run 'scorecard import {path}'.")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from . import workbook

    result = workbook.import_workbook(
        args.workbook, quarter=args.quarter, data_dir=args.data, out_dir=args.out,
        swing_percent=args.swing_percent, confirm_swings=args.confirm_swings, force=args.force,
    )
    print("\n".join(result.lines()))
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


if __name__ == "__main__":
    raise SystemExit(main())
