"""Synthetic organisations for ``scorecard batch``: a root folder of council folders, each a
copy of the sample data of a few quarters with its own council name and a few values changed.

Used by the batch tests and ``bench/scale.py``; written to a temporary folder, never committed.

    python bench/organisations.py ROOT [--orgs 3] [--quarters 2016-17-Q3,2016-17-Q4]
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

from scorecard_lib.core.paths import DATA_DIR, PARAMS_DIR

QUARTERS: tuple[str, ...] = ("2016-17-Q3", "2016-17-Q4")
#: Rows of values.csv whose value each organisation shifts (by 0.1 times its number).
SHIFTED_ROWS = 3


def organisation_name(k: int) -> str:
    return f"council-{k:03d}"


def _shift_values(path: Path, k: int) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    col = rows[0].index("value")
    changed = 0
    for row in rows[1:]:
        if changed == SHIFTED_ROWS:
            break
        try:
            value = float(row[col])
        except ValueError:
            continue
        row[col] = f"{value + 0.1 * k:g}"
        changed += 1
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def make_organisation(
    folder: Path, k: int, quarters: Sequence[str] = QUARTERS, bad_value: bool = False
) -> Path:
    """Write organisation ``k`` into ``folder`` (``data/`` and ``params/``). ``bad_value``
    puts text where the first figure of its last quarter belongs."""
    data, params = folder / "data", folder / "params"
    data.mkdir(parents=True, exist_ok=True)
    params.mkdir(parents=True, exist_ok=True)
    shutil.copy2(DATA_DIR / "catalogue.csv", data / "catalogue.csv")
    shutil.copy2(DATA_DIR / "settings.yaml", data / "settings.yaml")
    for q in quarters:
        shutil.copytree(DATA_DIR / q, data / q, dirs_exist_ok=True)
        _shift_values(data / q / "values.csv", k)
        p = yaml.safe_load((PARAMS_DIR / f"{q}.yaml").read_text(encoding="utf-8"))
        p["council"] = f"Synthetic Council {k}"
        (params / f"{q}.yaml").write_text(
            yaml.safe_dump(p, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        paper = PARAMS_DIR / f"{q}.paper.yaml"  # the Cabinet paper's officer text, if any
        if paper.is_file():
            shutil.copy2(paper, params / paper.name)
    if bad_value:
        values = data / quarters[-1] / "values.csv"
        lines = values.read_text(encoding="utf-8").splitlines()
        head, first = lines[0].split(","), lines[1].split(",")
        first[head.index("value")] = "sixty"
        lines[1] = ",".join(first)
        values.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def make_organisations(
    root: Path, count: int, quarters: Sequence[str] = QUARTERS, bad: Sequence[int] = ()
) -> list[str]:
    """Write ``count`` organisations under ``root`` (replaced); their folder names. The
    organisations numbered in ``bad`` get a bad value (:func:`make_organisation`)."""
    root = Path(root)
    shutil.rmtree(root, ignore_errors=True)
    names = []
    for k in range(1, count + 1):
        name = organisation_name(k)
        make_organisation(root / name, k, quarters, bad_value=k in bad)
        names.append(name)
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--orgs", type=int, default=3)
    parser.add_argument("--quarters", default=",".join(QUARTERS))
    args = parser.parse_args(argv)
    names = make_organisations(args.root, args.orgs, args.quarters.split(","))
    print(f"{len(names)} organisations written to {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
