"""The Quarter type: UK local-government financial-year quarters.

A financial year runs April to March: ``2016-17-Q4`` is January to March 2017 and ends on
31 March 2017. People type quarters many ways; :func:`parse_quarter` accepts the common
spellings and everything else uses the canonical id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import total_ordering

from scorecard_lib.core.errors import QuarterError

_WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four"}
# Months in which each quarter starts and ends (calendar months).
_START_MONTH = {1: 4, 2: 7, 3: 10, 4: 1}
_END = {1: (6, 30), 2: (9, 30), 3: (12, 31), 4: (3, 31)}

_YEAR = r"(?P<y1>\d{4})\s*[-/]\s*(?P<y2>\d{2}|\d{4})"
_Q = r"Q\s*(?P<q>[1-4])"
_PATTERNS = (
    re.compile(rf"^{_YEAR}\s*[-_ ]?\s*{_Q}$", re.IGNORECASE),  # 2016-17-Q4, 2016/17 Q4
    re.compile(rf"^{_Q}\s*[-_ ]?\s*{_YEAR}$", re.IGNORECASE),  # Q4 2016/17
)

EXAMPLE = "2016-17-Q4 (also accepted: '2016/17 Q4', 'Q4 2016/17', '2016-17 Q4')"


@total_ordering
@dataclass(frozen=True)
class Quarter:
    """Quarter ``q`` (1-4) of the financial year starting in April of ``start_year``."""

    start_year: int
    q: int

    def __post_init__(self) -> None:
        if self.q not in _WORDS:
            raise QuarterError(f"A quarter number must be 1 to 4, not {self.q}")
        if not 1900 <= self.start_year <= 2999:
            raise QuarterError(f"The year {self.start_year} is out of range")

    # --- names -------------------------------------------------------------------------
    @property
    def fy(self) -> str:
        """The financial year as people write it: ``2016/17``."""
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def id(self) -> str:
        """Canonical id, safe in file names: ``2016-17-Q4``."""
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}-Q{self.q}"

    @property
    def short(self) -> str:
        """``2016/17 Q4``."""
        return f"{self.fy} Q{self.q}"

    @property
    def prose(self) -> str:
        """``Quarter Four 2016/17``."""
        return f"Quarter {_WORDS[self.q]} {self.fy}"

    def __str__(self) -> str:
        return self.id

    # --- dates -------------------------------------------------------------------------
    @property
    def calendar_year_end(self) -> int:
        return self.start_year + 1 if self.q == 4 else self.start_year

    @property
    def period_start(self) -> date:
        return date(self.calendar_year_end, _START_MONTH[self.q], 1)

    @property
    def period_end(self) -> date:
        month, day = _END[self.q]
        return date(self.calendar_year_end, month, day)

    # --- arithmetic --------------------------------------------------------------------
    @property
    def index(self) -> int:
        """A running number: consecutive quarters differ by one."""
        return self.start_year * 4 + (self.q - 1)

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    def shift(self, n: int) -> Quarter:
        return Quarter.from_index(self.index + n)

    def previous(self) -> Quarter:
        return self.shift(-1)

    def next(self) -> Quarter:
        return self.shift(1)

    def same_quarter_last_year(self) -> Quarter:
        return self.shift(-4)

    def last_n(self, n: int) -> list[Quarter]:
        """The ``n`` quarters ending with this one, oldest first."""
        return [self.shift(k) for k in range(-(n - 1), 1)]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quarter):
            return NotImplemented
        return self.index < other.index


def parse_quarter(text: str | Quarter) -> Quarter:
    """Read a quarter as people type it; raise :class:`QuarterError` with an example if not."""
    if isinstance(text, Quarter):
        return text
    raw = str(text).strip()
    for pattern in _PATTERNS:
        m = pattern.match(raw)
        if not m:
            continue
        y1 = int(m["y1"])
        y2_text = m["y2"]
        y2 = int(y2_text) if len(y2_text) == 4 else (y1 // 100) * 100 + int(y2_text)
        if len(y2_text) == 2 and y2 < y1:  # 1999/00
            y2 += 100
        if y2 != y1 + 1:
            raise QuarterError(
                f"'{raw}' names the years {y1} and {y2}, which are not one financial year",
                fix=f"write the quarter as {EXAMPLE}",
            )
        return Quarter(y1, int(m["q"]))
    raise QuarterError(f"'{raw}' is not a quarter we can read", fix=f"write it as {EXAMPLE}")


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive, oldest first."""
    return [Quarter.from_index(i) for i in range(first.index, last.index + 1)]
