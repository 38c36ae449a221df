"""The ``scorecard`` command line: every command, its arguments and their help.

Only parsing: each command's handler (``commands.py``) is set as its ``handler`` default, and
the argument types refuse a bad number with argparse's own usage message (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scorecard_lib.cli import commands
from scorecard_lib.core.quarters import EXAMPLE
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.core.version import __version__

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
    run.set_defaults(handler=commands.cmd_run)

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
    publish.set_defaults(handler=commands.cmd_publish)

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
    audit.set_defaults(handler=commands.cmd_audit)

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
    validate.set_defaults(handler=commands.cmd_validate)

    quarters = sub.add_parser(
        "quarters",
        help="list the quarters that have data, their drafts and their published records",
        description="List the quarters that have data, whether each has a draft (OUT/QUARTER) "
        "and which record of it is published (ARCHIVE/QUARTER, or QUARTER.vN when superseded).",
    )
    folders(quarters)
    archive_option(quarters)
    quarters.set_defaults(handler=commands.cmd_quarters)

    new_q = sub.add_parser(
        "new-quarter",
        help="start a quarter's data folder and parameters from the previous quarter",
        description="Scaffold params/QUARTER.yaml and the quarter's data folder from the previous "
        "quarter (indicators in force, targets carried, risks copied for review). Refuses a "
        "quarter that already has data.",
    )
    new_q.add_argument("quarter", metavar="QUARTER", help=f"the quarter, e.g. {EXAMPLE}")
    new_q.add_argument("--data", metavar="DIR", type=Path, help="data folder (default: data/)")
    new_q.set_defaults(handler=commands.cmd_new_quarter)

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
    template.set_defaults(handler=commands.cmd_template)

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
    imp.set_defaults(handler=commands.cmd_import)

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
    batch.set_defaults(handler=commands.cmd_batch)
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
    index.set_defaults(handler=commands.cmd_index)
    return parser
