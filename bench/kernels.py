"""Ordinary kernels against kernels forked from a zygote (``scorecard_lib/build/kernels.py``).

    .venv/bin/python bench/kernels.py [--runs 3]

Runs the six section notebooks of 2016-17 Q4 on two workers with ``PapermillExecutor``, with
ordinary kernels (a new interpreter each) and with forked ones, interleaved, and prints the
median wall time of each, then checks the normalised notebooks are byte-identical. The
executor alone is timed: no validation, assembly or manifest. Wall-clock times are for people;
no test asserts them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from scorecard_lib.build.executors import PapermillExecutor, SectionJob
from scorecard_lib.build.normalise import normalise_notebook, notebook_text
from scorecard_lib.core.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from scorecard_lib.core.registry import SECTIONS

Q = "2016-17-Q4"


def _jobs(out: Path) -> list[SectionJob]:
    return [
        SectionJob(
            section=s,
            notebook=NOTEBOOKS_DIR / f"{s}.ipynb",
            output=out / f"{s}.ipynb",
            parameters={"quarter": Q, "data_dir": ""},
            cwd=PROJECT_ROOT,
        )
        for s in SECTIONS
    ]


def _text(path: Path) -> str:
    return notebook_text(normalise_notebook(nbformat.read(str(path), as_version=4), path.stem))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    times: dict[str, list[float]] = {"ordinary": [], "forked": []}
    for run in range(args.runs):
        for mode in times:
            started = time.perf_counter()
            outcomes = PapermillExecutor(fork_kernels=mode == "forked").run(
                _jobs(tmp / f"{mode}-{run}"), max_workers=2, on_event=None
            )
            times[mode].append(time.perf_counter() - started)
            if not all(o.ok for o in outcomes):
                print(f"{mode}: a section failed", file=sys.stderr)
                return 1
            print(f"run {run + 1} {mode}: {times[mode][-1]:.2f} s", file=sys.stderr)
    for mode, rows in times.items():
        print(f"{mode:8s} kernels, six notebooks, two workers: {statistics.median(rows):.2f} s")
    ratio = statistics.median(times["forked"]) / statistics.median(times["ordinary"])
    print(f"forked / ordinary: {ratio:.2f}")
    same = all(
        _text(tmp / f"ordinary-0/{s}.ipynb") == _text(tmp / f"forked-0/{s}.ipynb") for s in SECTIONS
    )
    print(f"normalised notebooks byte-identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
