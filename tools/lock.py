"""Write requirements.lock (pip freeze of .venv) and environment.yml carrying the same pins.

Run through `make lock` after changing the dependencies in pyproject.toml and installing them.
tests/test_environment.py checks that the two files agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# Pinned lock file: every package in the environment, exact versions (pip freeze).\n"
    "# Regenerate with 'make lock' after changing pyproject.toml; environment.yml carries "
    "the same pins.\n"
)


def main() -> None:
    frozen = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    pins = sorted(
        (p for p in frozen if "==" in p and not p.lower().startswith("scorecard")), key=str.lower
    )
    (ROOT / "requirements.lock").write_text(HEADER + "\n".join(pins) + "\n", encoding="utf-8")
    env = [
        "# Conda environment with the same pins as requirements.lock (written by tools/lock.py).",
        "name: scorecard",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        *(f"      - {p}" for p in pins),
        "      - -e .",
        "",
    ]
    (ROOT / "environment.yml").write_text("\n".join(env), encoding="utf-8")
    print(f"wrote {len(pins)} pins", file=sys.stderr)


if __name__ == "__main__":
    main()
