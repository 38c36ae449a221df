"""One function per ``scorecard`` command: call the library function that does it, print what
it did.

Each takes the parsed arguments and returns the exit status. The library is imported inside
each, only when its command runs, so ``scorecard --help`` imports no pandas.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from scorecard_lib.core.paths import CURRENT_DIR, display_path
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.registry import SECTIONS
from scorecard_lib.inputs.validate import quarter_argument

#: Exit status after Ctrl-C or SIGTERM (nothing was published).
EXIT_INTERRUPTED = 130
#: Exit status when a file cannot be read or written (the disk, a folder's permissions).
EXIT_OS_ERROR = 2


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


def cmd_run(args: argparse.Namespace) -> int:
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
        shown = display_path(built.report, root=CURRENT_DIR, outside="given")
        print(f"Nothing changed: {shown} is up to date.")
    else:
        for what, path in (("Draft report", result.report), ("Manifest", result.manifest)):
            print(f"{what} written to {display_path(path, root=CURRENT_DIR, outside='given')}")
        print(f"Took {result.seconds:.1f} s.", file=sys.stderr)
    for what, extra in (("PDF", built.pdf), ("Word paper", built.docx)):
        if extra is not None:
            print(f"{what} written to {display_path(extra, root=CURRENT_DIR, outside='given')}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
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
    shown = display_path(done.folder, root=CURRENT_DIR, outside="given")
    print(f"Published {q.prose} as {shown} (version {done.record.version}).")
    if done.superseded is not None:
        old = display_path(done.superseded.folder, root=CURRENT_DIR, outside="given")
        print(f"It supersedes {old}, which is kept as it was.")
    print(f"Commit it: git add {shown} && git commit -m 'Publish {done.folder.name}'")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
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


def cmd_validate(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs.validate import validate_quarter

    print("\n".join(validate_quarter(quarter_argument(args.quarter), args.data).lines()))
    return 0


def cmd_quarters(args: argparse.Namespace) -> int:
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


def cmd_new_quarter(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs import scaffold

    q = parse_quarter(args.quarter)
    written = scaffold.new_quarter(args.quarter, data_dir=args.data)
    print(f"Started {q.prose} ({q.id}). Files written:")
    for path in written:
        print(f"  {display_path(path, outside='given')}")
    if any(p.suffix == ".yaml" and p.parent.name == "params" for p in written):
        print(f"cabinet_date in params/{q.id}.yaml is a placeholder: change it.")
    print(f"Next: scorecard template {q.id} -o returns-{q.id}.xlsx")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from scorecard_lib.inputs import workbook

    q = parse_quarter(args.quarter)
    path = workbook.write_template(args.quarter, args.output, data_dir=args.data)
    print(
        f"Wrote the returns workbook for {q.prose} to {path}. Send it to the services; when it "
        f"comes back, run 'scorecard import {path}'."
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
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


def cmd_batch(args: argparse.Namespace) -> int:
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


def cmd_index(args: argparse.Namespace) -> int:
    from scorecard_lib.publish.archive_index import write_archive_index

    drafts = args.out is not None
    path = write_archive_index(args.out if drafts else args.archive, drafts=drafts)
    print(f"Archive page written to {display_path(path, root=CURRENT_DIR, outside='given')}")
    return 0
