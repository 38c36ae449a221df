"""Every exception the project raises on purpose, under one base class.

A :class:`ScorecardError` is a *user* error or an expected failure: the CLI prints its
``message()`` (one short paragraph: what, where, how to fix) and exits with
``exit_code``, never a traceback. Anything else escaping is a bug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ScorecardError(Exception):
    """Base class. ``exit_code`` is what the CLI returns for it."""

    exit_code: int = 2

    def __init__(self, what: str, *, where: str = "", fix: str = "") -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message())

    def message(self) -> str:
        parts = [self.what.rstrip(".") + "."]
        if self.where:
            parts.append(f"Where: {self.where}.")
        if self.fix:
            parts.append(f"How to fix: {self.fix.rstrip('.')}.")
        return " ".join(parts)


class QuarterError(ScorecardError):
    """A quarter string that cannot be read, or a quarter with no data."""


class InputError(ScorecardError):
    """An input file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as we can."""

    file: str
    rule: str
    fix: str
    row: int | None = None  # 1-based data row as a spreadsheet shows it (header is row 1)
    column: str | None = None
    value: str | None = None

    def location(self) -> str:
        bits = [self.file]
        if self.row is not None:
            bits.append(f"row {self.row}")
        if self.column:
            bits.append(f"column '{self.column}'")
        return ", ".join(bits)

    def describe(self) -> str:
        val = f" (value {self.value!r})" if self.value is not None else ""
        return f"{self.location()}{val}: {self.rule}. Fix: {self.fix.rstrip('.')}."


class ValidationError(ScorecardError):
    """Several problems found at once in the inputs of a quarter."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} input problems")

    def message(self) -> str:
        """One line per problem, but at most :data:`SHOWN_PER_KIND` of each kind (the same
        rule in the same file); the rest of a kind are counted in one line, so a file with a
        million bad rows gives a short message, not a million lines."""
        n = len(self.problems)
        head = f"The input data has {n:,} problem{'s' if n != 1 else ''}:"
        lines = [head]
        kinds: dict[tuple[str, str], list[Problem]] = {}
        for p in self.problems:
            kinds.setdefault((p.file, _kind(p.rule)), []).append(p)
        shown_now = {id(p) for group in kinds.values() for p in group[:SHOWN_PER_KIND]}
        lines += [f"- {p.describe()}" for p in self.problems if id(p) in shown_now]
        for (file, _), group in kinds.items():
            more = len(group) - SHOWN_PER_KIND
            if more > 0:
                like = group[0].rule.split(" (")[0]  # without the row numbers it may name
                lines.append(
                    f"- {file}: {more:,} more problem{'s' if more != 1 else ''} like "
                    f"'{like}' ({len(group):,} in all). Fix: correct the ones above, then "
                    "validate again to see the rest"
                )
        return "\n".join(lines)


#: Problems of one kind (one rule in one file) listed before the rest are only counted.
SHOWN_PER_KIND = 10


def _kind(rule: str) -> str:
    """A rule with its numbers taken out (row numbers, ids such as OB03), so that the same
    rule met on many rows is one kind."""
    return re.sub(r"\d+", "#", rule)


class ExecutionError(ScorecardError):
    """A section notebook failed while running (cell error, dead kernel, timeout)."""

    exit_code = 1


class PublishedError(ScorecardError):
    """Refused to overwrite a published report or its data."""


class LockedError(ScorecardError):
    """Another run of the same quarter is in progress."""


class DiskFullError(ScorecardError):
    """A write failed because the disk (or the user's quota) is full; nothing was published."""
