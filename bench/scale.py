"""``make bench-scale``: N synthetic organisations x 4 quarters built three ways in one run.

a. one ``scorecard run QUARTER --data ROOT/ORG/data --out OUT/ORG`` after another (each uses
   every core for its sections, as a user's run does);
b. ``scorecard batch`` on a LocalCluster of 2 worker processes (one section at a time inside
   each build: 2 builds on 2 cores);
c. the same batch on 1 worker process (2 sections at a time inside each build);
d. batch b again with nothing changed: every task answers "up to date" from the build cache, so
   its time is the batch's own cost (cluster start and stop, and the per-task dispatch).

Each starts from empty output folders (a cold build cache). Prints the wall times, the speed-up
over a, the per-task cost of the scheduler (the 1-worker batch's time less the sum of the time
its tasks spent building, per task; and d per task), and checks that a, b and c wrote the same
bytes. The organisations are written by ``bench/organisations.py`` under a temporary folder
(``--keep`` keeps it). Wall-clock times are for people; nothing asserts them.

    .venv/bin/python bench/scale.py [--orgs 12] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from organisations import make_organisations  # noqa: E402

from scorecard_lib.scale.batch import run_batch  # noqa: E402

QUARTERS = ("2016-17-Q1", "2016-17-Q2", "2016-17-Q3", "2016-17-Q4")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def one_by_one(root: Path, out: Path, orgs: Sequence[str]) -> float:
    scorecard = Path(sys.executable).parent / "scorecard"
    start = time.perf_counter()
    for org in orgs:
        for q in QUARTERS:
            subprocess.run(
                [
                    *(str(scorecard), "run", q, "--data", str(root / org / "data")),
                    *("--out", str(out / org)),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    return time.perf_counter() - start


def batch(root: Path, out: Path, workers: int) -> tuple[float, float, list[str]]:
    """Wall seconds, seconds the tasks spent building (summed), statuses."""
    start = time.perf_counter()
    result = run_batch(root, out, workers=workers, progress=False)
    wall = time.perf_counter() - start
    failed = result.by_status("failed")
    if failed:
        raise SystemExit("\n".join(result.lines()))
    return wall, sum(r.seconds for r in result.results), [r.status for r in result.results]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=12, help="organisations (default 12)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="scorecard-scale-"))
    try:
        root = work / "root"
        orgs = make_organisations(root, args.orgs, QUARTERS)
        pairs = len(orgs) * len(QUARTERS)
        print(f"{len(orgs)} organisations x {len(QUARTERS)} quarters = {pairs} builds")
        print(f"before: {_load()}", flush=True)
        figures: dict[str, object] = {"orgs": len(orgs), "pairs": pairs, "load_before": _load()}

        a = one_by_one(root, work / "a", orgs)
        print(f"a. one scorecard run after another:   {a:7.1f} s", flush=True)
        b, b_tasks, _ = batch(root, work / "b", workers=2)
        print(f"b. batch, LocalCluster of 2 workers:  {b:7.1f} s  ({a / b:.2f}x a)", flush=True)
        c, c_tasks, _ = batch(root, work / "c", workers=1)
        print(f"c. batch, LocalCluster of 1 worker:   {c:7.1f} s  ({c / a:.2f} of a)", flush=True)
        d, _d_tasks, d_status = batch(root, work / "b", workers=2)
        assert set(d_status) == {"unchanged"}
        print(f"d. batch b again, nothing changed:    {d:7.1f} s", flush=True)
        per_task_c = (c - c_tasks) / pairs
        per_task_d = d / pairs
        print(
            f"scheduler cost per task: {per_task_c * 1000:.0f} ms in c (wall less the tasks' "
            f"own time, cluster start and stop included), {per_task_d * 1000:.0f} ms in d"
        )
        same = _files(work / "a") == _files(work / "b") == _files(work / "c")
        print(f"a, b and c wrote the same bytes: {'yes' if same else 'NO'}")
        print(f"after: {_load()}")
        figures.update(
            one_by_one_s=round(a, 2),
            batch_2_workers_s=round(b, 2),
            batch_2_workers_task_s=round(b_tasks, 2),
            batch_1_worker_s=round(c, 2),
            batch_1_worker_task_s=round(c_tasks, 2),
            batch_nothing_changed_s=round(d, 2),
            speed_up_2_workers=round(a / b, 3),
            cost_1_worker=round(c / a, 3),
            scheduler_ms_per_task_c=round(per_task_c * 1000, 1),
            scheduler_ms_per_task_d=round(per_task_d * 1000, 1),
            same_bytes=same,
            load_after=_load(),
        )
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
