"""``make bench``: how long a report takes to build, measured on this machine in one run.

Cases (quarter 2016-17-Q4 unless said otherwise), each measured ``--runs`` times (default 3)
and reported as the median; the runs of all cases are interleaved (a, b, c, ... then again), so
a change in the machine's load touches every case alike:

a. plain papermill CLI then ``jupyter nbconvert --to html --no-input``, once per notebook, one
   after another, as a user would type them, on our own notebooks;
b. ``scorecard run`` cold: a new output folder, ``--no-cache``;
c. ``scorecard run`` again with nothing changed (the build cache answers: no kernel starts);
d. ``scorecard run`` (replacing the draft) after one section's commentary changed (one
   indicator of children's services; a different sentence each run);
e. the no-kernel floor: the same notebooks' code, library calls and charts run in one process
   (``bench/floor.py``), then the same assembly;
f. all nine sample quarters, cold, one ``scorecard run --no-cache`` after another;
g. a synthetic data folder ten times larger (``bench/synthetic.py``), cold: time, peak memory
   of the whole process tree, size of report.html.

Everything is written under a temporary folder (``--keep`` keeps it); the project's own
``outputs/`` is never touched. The code measured is a frozen copy of the working tree taken at
the start (library, notebooks, data, parameters; committed to a throw-away git repository so
the manifest's git fields cost what they cost in a checkout): edits made while the benchmark
runs cannot change what it measures. Wall-clock times are for people, not tests: nothing asserts
them.

    .venv/bin/python bench/run.py [--runs 3] [--only a,b,c] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
import synthetic  # noqa: E402

from scorecard_lib.core.paths import PROJECT_ROOT  # noqa: E402
from scorecard_lib.core.registry import SECTIONS  # noqa: E402
from scorecard_lib.inputs.locations import available_quarters  # noqa: E402

Q = "2016-17-Q4"
BIN = Path(sys.executable).parent
SCORECARD = (
    [str(BIN / "scorecard")]
    if (BIN / "scorecard").is_file()
    else [
        sys.executable,
        "-m",
        "scorecard_lib.cli",
    ]
)
EDITED_SECTION = "childrens_services"

#: (name, numerator, denominator, target): the ratios the issue sets.
RATIOS: tuple[tuple[str, str, str, float], ...] = (
    ("b/a", "b", "a", 0.4),
    ("c/b", "c", "b", 0.05),
    ("d/b", "d", "b", 0.45),
    ("b/e", "b", "e", 1.2),
    ("g/b", "g", "b", 6.0),
)
MEMORY_LIMIT = 1 << 30  # g: peak memory of the whole process tree
HTML_LIMIT = 10 * 10**6  # g: report.html


@dataclass
class Case:
    key: str
    label: str
    prepare: Callable[[int], None]
    command: Callable[[int], list[str]]
    expect: str = ""  # a phrase the command must print (checks the case did what it says)
    from_cache: int | None = None  # how many sections must come from the cache
    html: Callable[[int], Path] | None = None
    results: list[measure.Measured] = field(default_factory=list)
    html_sizes: list[int] = field(default_factory=list)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _mb(n: float) -> str:
    return f"{n / 10**6:,.1f} MB"


#: What the frozen copy holds (relative to the project root).
SNAPSHOT = ("scorecard_lib", "notebooks", "data", "params", "bench", "pyproject.toml")


def snapshot(dest: Path) -> Path:
    """A frozen copy of the code and data under ``dest`` (see the module docstring)."""
    import subprocess

    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in SNAPSHOT:
        src = PROJECT_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / name)
    # Byte-compile the copy's code, as Python does on a user's first run. (Where
    # PYTHONDONTWRITEBYTECODE is set, as on our build machine, it never would, and every
    # process of every measured run would compile the library again: about 0.08 s each.)
    import compileall

    compileall.compile_dir(dest / "scorecard_lib", quiet=1)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-C", str(dest)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "benchmark snapshot"]):
        subprocess.run([*git, *args], check=False, capture_output=True)
    return dest


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = snapshot(root / "project")
        self.env = {"PYTHONPATH": str(self.project)}  # the frozen copy, not the editable install
        self.notebooks = self.project / "notebooks"
        self.sample = self.project / "data"
        self.data = root / "data"  # a copy of the sample: case d edits its commentary
        shutil.copytree(self.sample, self.data)
        self.synthetic = root / "synthetic"
        self.indicators = 0

    # --- a: plain papermill + nbconvert ----------------------------------------------------
    def plain_command(self, run: int) -> list[str]:
        out = self.root / f"a-{run}"
        out.mkdir()
        papermill = BIN / "papermill"
        jupyter = BIN / "jupyter"
        lines = ["set -e", f"cd {_q(self.project)}"]
        for s in SECTIONS:
            lines.append(
                f"{_q(papermill)} {_q(self.notebooks / f'{s}.ipynb')} {_q(out / f'{s}.ipynb')} "
                f"-p quarter {Q} --no-progress-bar"
            )
        for s in SECTIONS:
            lines.append(f"{_q(jupyter)} nbconvert --to html --no-input {_q(out / f'{s}.ipynb')}")
        return ["bash", "-c", "\n".join(lines)]

    # --- b, e: cold builds -------------------------------------------------------------------
    def cold(self, run: int) -> list[str]:
        return [*SCORECARD, "run", Q, "--out", str(self.root / f"b-{run}"), "--no-cache"]

    def floor(self, run: int) -> list[str]:
        floor = self.project / "bench" / "floor.py"
        return [sys.executable, str(floor), Q, "--out", str(self.root / f"e-{run}")]

    # --- c, d: with the cache ----------------------------------------------------------------
    def warm_up(self) -> None:
        """One cached build of the sample (for c) and of the editable copy (for d)."""
        for command in (self.unchanged(0), self.edited(0)):
            measure.run(command, cwd=self.project, env=self.env)

    def unchanged(self, run: int) -> list[str]:
        return [*SCORECARD, "run", Q, "--out", str(self.root / "c")]

    def edit_commentary(self, run: int) -> None:
        import pandas as pd

        cat = pd.read_csv(self.data / "catalogue.csv", dtype=str)
        ids = set(cat.loc[cat["section"] == EDITED_SECTION, "indicator_id"])
        path = self.data / Q / "commentary.yaml"
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        ind = next(i for i in entries if i in ids)
        text = entries[ind]["commentary"].rstrip()
        entries[ind]["commentary"] = f"{text.split(' [draft')[0]} [draft {run + 2}]\n"
        path.write_text(yaml.safe_dump(entries, sort_keys=False, allow_unicode=True), "utf-8")

    def edited(self, run: int) -> list[str]:
        return [*SCORECARD, "run", Q, "--data", str(self.data), "--out", str(self.root / "d")]

    # --- f: all nine quarters ------------------------------------------------------------------
    def all_quarters(self, run: int) -> list[str]:
        out = self.root / f"f-{run}"
        lines = ["set -e"] + [
            " ".join(_q(x) for x in [*SCORECARD, "run", q.id, "--out", str(out), "--no-cache"])
            for q in available_quarters(self.sample)
        ]
        return ["bash", "-c", "\n".join(lines)]

    # --- g: ten times larger -------------------------------------------------------------------
    def make_synthetic(self) -> None:
        import pandas as pd

        from scorecard_lib.core.quarters import parse_quarter
        from scorecard_lib.inputs.cross_checks import in_force

        synthetic.make_synthetic(self.synthetic, 10, source=self.sample)
        cat = pd.read_csv(self.synthetic / "catalogue.csv", dtype=str, keep_default_na=False)
        self.indicators = int(in_force(cat, parse_quarter(Q)).sum())

    def large(self, run: int) -> list[str]:
        out = self.root / f"g-{run}"
        return [*SCORECARD, "run", Q, "--data", str(self.synthetic), "--out", str(out),
                "--no-cache"]  # fmt: skip


def _q(value: object) -> str:
    import shlex

    return shlex.quote(str(value))


def build_cases(bench: Bench) -> list[Case]:
    nothing = lambda _run: None  # noqa: E731
    return [
        Case("a", "plain papermill + nbconvert CLI per notebook", nothing, bench.plain_command),
        Case("b", "scorecard run, cold (--no-cache)", nothing, bench.cold, "report written",
             html=lambda r: bench.root / f"b-{r}" / Q / "report.html"),
        Case("c", "scorecard run, nothing changed", nothing, bench.unchanged, "Nothing changed"),
        Case("d", "scorecard run, one section's commentary changed", bench.edit_commentary,
             # the edited indicator (the first of children's services with commentary) is red
             # with an update: its commentary is shown in the cover report (the overview),
             # which alone runs again; its section only links there (from the cache)
             bench.edited, "report written", from_cache=len(SECTIONS) - 1),
        Case("e", "no-kernel floor: same calls and charts, one process", nothing, bench.floor,
             html=lambda r: bench.root / f"e-{r}" / Q / "report.html"),
        Case("f", "all nine sample quarters, cold, one after another", nothing,
             bench.all_quarters),
        Case("g", "synthetic catalogue x10, cold", nothing, bench.large, "report written",
             html=lambda r: bench.root / f"g-{r}" / Q / "report.html"),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument("--only", default="", help="comma-separated cases, e.g. b,c,d")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="scorecard-bench-"))
    started = time.time()
    load_before = os.getloadavg()
    bench = Bench(root)
    cases = build_cases(bench)
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    if only:
        cases = [c for c in cases if c.key in only]
    keys = {c.key for c in cases}
    try:
        if keys & {"c", "d"}:
            print("Preparing: cached builds for c and d...", file=sys.stderr, flush=True)
            bench.warm_up()
        if "g" in keys:
            bench.make_synthetic()
        for run in range(args.runs):
            for case in cases:
                case.prepare(run)
                print(f"run {run + 1}/{args.runs}: {case.key}. {case.label}...", end=" ",
                      file=sys.stderr, flush=True)  # fmt: skip
                m = measure.run(case.command(run), cwd=bench.project, env=bench.env)
                if case.expect and case.expect not in m.stdout + m.stderr:
                    raise RuntimeError(
                        f"case {case.key} did not print {case.expect!r}:\n{m.stdout}\n{m.stderr}"
                    )
                hits = m.stderr.count(" from cache")
                if case.from_cache is not None and hits != case.from_cache:
                    raise RuntimeError(
                        f"case {case.key}: {hits} sections came from the cache, not "
                        f"{case.from_cache}:\n{m.stderr}"
                    )
                case.results.append(m)
                if case.html is not None:
                    case.html_sizes.append(case.html(run).stat().st_size)
                print(f"{m.seconds:.2f} s", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"Kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    report = summarise(cases, args.runs, bench.indicators, load_before, started)
    print(report["text"])
    if args.json:
        args.json.write_text(json.dumps(report["data"], indent=2) + "\n", encoding="utf-8")
    return 0


def summarise(
    cases: Sequence[Case],
    runs: int,
    indicators: int,
    load_before: tuple[float, float, float],
    started: float,
) -> dict[str, object]:
    medians = {c.key: _median([m.seconds for m in c.results]) for c in cases}
    lines = [
        f"scorecard benchmark, {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, median of {runs} runs; "
        f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after.",
        "",
        "| case | what | median s | min-max s | CPU s | peak memory | report.html |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    data: dict[str, object] = {"runs": runs, "cpus": os.cpu_count(), "cases": {}}
    for c in cases:
        times = [m.seconds for m in c.results]
        cpu = _median([m.cpu_seconds for m in c.results])
        peak = max((m.peak_rss for m in c.results), default=0)
        size = _median(c.html_sizes) if c.html_sizes else None
        label = c.label + (f" ({indicators} indicators)" if c.key == "g" and indicators else "")
        if c.key == "d":
            label += f" (overview re-executed, {c.from_cache} from the cache)"
        lines.append(
            f"| {c.key} | {label} | {medians[c.key]:.2f} | {min(times):.2f}-{max(times):.2f} | "
            f"{cpu:.1f} | {_mib(peak)} | {_mb(size) if size else ''} |"
        )
        data["cases"][c.key] = {  # type: ignore[index]
            "label": label,
            "seconds": times,
            "median": medians[c.key],
            "cpu_seconds": [m.cpu_seconds for m in c.results],
            "peak_rss": peak,
            "html_bytes": c.html_sizes,
        }
    lines += ["", "| ratio | value | target | met |", "|---|---:|---:|---|"]
    ratios = {}
    for name, top, bottom, target in RATIOS:
        if top in medians and bottom in medians:
            value = medians[top] / medians[bottom]
            ratios[name] = value
            lines.append(
                f"| {name} | {value:.3f} | <= {target:g} | {'yes' if value <= target else 'NO'} |"
            )
    g = next((c for c in cases if c.key == "g"), None)
    if g is not None and g.results:
        peak = max(m.peak_rss for m in g.results)
        size = max(g.html_sizes)
        met = "yes" if peak <= MEMORY_LIMIT else "NO"
        lines.append(f"| g peak memory | {_mib(peak)} | <= 1 GiB | {met} |")
        lines.append(
            f"| g report.html | {_mb(size)} | <= 10 MB | {'yes' if size <= HTML_LIMIT else 'NO'} |"
        )
    data["ratios"] = ratios
    return {"text": "\n".join(lines), "data": data}


if __name__ == "__main__":
    raise SystemExit(main())
