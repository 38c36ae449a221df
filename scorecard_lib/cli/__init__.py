"""The ``scorecard`` command: parse arguments, call one library function, map errors to exit codes.

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

The parser is ``parser.py``, one function per command (which calls the library and prints
what it did) is ``commands.py``; this module runs a command and turns what goes wrong into a
message and an exit status. ``python -m scorecard_lib.cli`` runs :func:`console`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scorecard_lib.cli.commands import EXIT_INTERRUPTED, EXIT_OS_ERROR
from scorecard_lib.cli.parser import build_parser
from scorecard_lib.core.errors import ScorecardError
from scorecard_lib.core.files import disk_full_error, is_disk_full

__all__ = ["EXIT_INTERRUPTED", "EXIT_OS_ERROR", "build_parser", "console", "main"]


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
    if threading.active_count() == 1 and not _has_child_process():
        os._exit(code)
    raise SystemExit(code)


def _has_child_process() -> bool:
    mp = sys.modules.get("multiprocessing")
    return bool(mp is not None and mp.active_children())
