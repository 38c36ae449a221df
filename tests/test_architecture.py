"""The house rules a newcomer relies on: the tree, the docs that describe it, and the layers.

docs/architecture.md is how the next engineer learns where things live, so it must name every
module and the same layers import-linter enforces (``.importlinter``; the contract itself runs
in ``make lint`` and ``make test``). These checks read files only.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "scorecard_lib"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: A module longer than this says why at its top, in a comment or its docstring.
LONGEST = 600
LONG_REASON = "Longer than 600 lines because"
#: Ways of reaching into another package's private parts that break on a minor upgrade.
PRIVATE_HOOKS = ("def _async_", "__class__ =", "_processes", "parse_starttag", "rawdata", "exec(")


def library_modules() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if "__pycache__" not in p.parts)


def stages() -> list[Path]:
    return sorted(p.parent for p in LIBRARY.glob("*/__init__.py"))


def test_every_module_is_named_in_the_architecture_doc() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [
        p.relative_to(LIBRARY).as_posix()
        for p in library_modules()
        if p.name != "__init__.py" and p.relative_to(LIBRARY).as_posix() not in text
    ]
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_every_library_path_the_docs_name_exists() -> None:
    named = re.compile(r"scorecard_lib/[A-Za-z0-9_/]+\.(?:py|j2|css)")
    stale = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for path in set(named.findall(doc.read_text(encoding="utf-8"))):
            if not (ROOT / path).exists():
                stale.append(f"{doc.relative_to(ROOT)}: {path}")
    assert not stale, "docs name files that do not exist:\n" + "\n".join(sorted(stale))


def test_the_doc_lists_the_layers_import_linter_enforces() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layers = [
        line.strip().removeprefix("scorecard_lib.")
        for line in config["importlinter:contract:stages"]["layers"].split()
    ]
    assert {p.name for p in stages()} | {"cli"} == set(layers), "a stage outside the contract"
    text = ARCHITECTURE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| *\d+ *\| *`([a-z_]+)(?:/|\.py)?`", text, flags=re.M)
    assert rows == list(reversed(layers)), (
        "docs/architecture.md's layers table must list the contract's layers, lowest first"
    )


@pytest.mark.parametrize("stage", [p.name for p in stages()])
def test_each_stage_says_its_job_and_what_it_may_import(stage: str) -> None:
    doc = (LIBRARY / stage / "__init__.py").read_text(encoding="utf-8")
    match = re.match(r'\s*"""(.+?)"""', doc, flags=re.S)
    assert match, f"scorecard_lib/{stage}/__init__.py has no docstring"
    assert "import" in match.group(1), f"{stage}'s docstring does not say what it may import"


def test_no_module_is_long_without_a_reason() -> None:
    long = [
        f"{p.relative_to(LIBRARY)} ({n} lines)"
        for p in library_modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > LONGEST
        and LONG_REASON not in p.read_text(encoding="utf-8")[:3000]
    ]
    assert not long, f"over {LONGEST} lines with no '{LONG_REASON} ...' note: {', '.join(long)}"


def test_no_private_hooks_into_other_packages() -> None:
    found = [
        f"{p.relative_to(LIBRARY)}:{n}: {hook}"
        for p in library_modules()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        for hook in PRIVATE_HOOKS
        if hook in line
    ]
    assert not found, "private hooks found:\n" + "\n".join(found)
