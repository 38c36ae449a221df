"""A synthetic data folder N times larger than the sample, with the same structure.

Every indicator of ``data/catalogue.csv`` is repeated ``factor`` times (copy 0 keeps its id and
name; copy k gets ``<id>-k`` and ``<name> (copy k)``) in the same section and theme, and every
file that names indicators (values, breakdowns, overrides, commentary) is repeated the same
way, quarter by quarter. The risk register and settings are copied as they are. With the
sample's 46 indicators and ``factor=10`` that is 460 indicators, so 10 times the trend charts,
tables and commentary. Written to a temporary folder by the benchmark; never committed.

    python bench/synthetic.py DEST [--factor 10]
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

from scorecard_lib.core.paths import DATA_DIR

INDICATOR_FILES = ("values.csv", "breakdowns.csv", "overrides.csv")


def copy_id(indicator: str, k: int) -> str:
    return indicator if k == 0 else f"{indicator}-{k}"


def _rewrite_csv(src: Path, dest: Path, factor: int, rename: dict[str, int] | None = None) -> int:
    text = src.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    col = header.index("indicator_id")
    name_col = header.index("name") if rename is not None and "name" in header else None
    out = [header]
    for k in range(factor):
        for row in body:
            row = list(row)
            if name_col is not None and k:
                row[name_col] = f"{row[name_col]} (copy {k})"
            row[col] = copy_id(row[col], k)
            out.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(out)
    dest.write_text(buffer.getvalue(), encoding="utf-8")
    return len(out) - 1


def make_synthetic(dest: Path, factor: int = 10, source: Path = DATA_DIR) -> int:
    """Write the synthetic folder to ``dest`` (replaced); return the number of indicators."""
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    n = _rewrite_csv(source / "catalogue.csv", dest / "catalogue.csv", factor, rename={})
    shutil.copy2(source / "settings.yaml", dest / "settings.yaml")
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        target = dest / folder.name
        target.mkdir()
        for path in sorted(folder.iterdir()):
            if path.name in INDICATOR_FILES:
                _rewrite_csv(path, target / path.name, factor)
            elif path.name == "commentary.yaml":
                entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                repeated = {
                    copy_id(str(ind), k): entry
                    for k in range(factor)
                    for ind, entry in entries.items()
                }
                (target / path.name).write_text(
                    yaml.safe_dump(repeated, sort_keys=False, allow_unicode=True, width=100),
                    encoding="utf-8",
                )
            else:
                shutil.copy2(path, target / path.name)
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--factor", type=int, default=10)
    args = parser.parse_args(argv)
    n = make_synthetic(args.dest, args.factor)
    print(f"{n} indicators written to {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
