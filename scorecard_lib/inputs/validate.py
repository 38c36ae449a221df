"""``scorecard validate QUARTER``: check every input of a quarter without running anything.

The checks are the loader's (:func:`scorecard_lib.inputs.loading.load_inputs`): the catalogue, the
settings, the parameters file and every quarter folder up to the quarter (values, risks,
commentary, breakdowns, overrides), all validated with pandera. Every problem is reported at
once, as file, row, column, value, the rule broken and how to fix it
(:class:`~scorecard_lib.core.errors.ValidationError`, exit status 2). ``scorecard run`` makes the
same checks before it starts any kernel.

Only the standard library is imported at module level: the command line reads its quarter
argument here before pandas is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scorecard_lib.core.errors import QuarterError
from scorecard_lib.core.paths import display_path
from scorecard_lib.core.quarters import EXAMPLE, Quarter, parse_quarter


@dataclass(frozen=True)
class Summary:
    """What a valid quarter holds, for the analyst to check at a glance."""

    quarter: Quarter
    indicators: int  # in force this quarter
    updated: int  # with a value reported this quarter
    carried: list[str]  # in force, no value this quarter, an earlier value carried forward
    no_data: list[str]  # in force, no value at all: shown as "No data" (not an error)
    risks: int  # in this quarter's register
    commentary: int  # indicators with commentary this quarter
    params_file: str

    def lines(self) -> list[str]:
        q = self.quarter
        out = [
            f"The inputs for {q.prose} ({q.id}) are valid.",
            f"- {self.indicators} indicators on the scorecard: {self.updated} with a value this "
            f"quarter, {len(self.carried)} carried forward from an earlier quarter, "
            f"{len(self.no_data)} with no value yet.",
            f"- {self.risks} risks in the register; commentary for {self.commentary} indicators.",
            f"- Parameters read from {self.params_file}.",
        ]
        if self.no_data:
            out.append(
                f"- Shown as 'No data' (not an error): {', '.join(self.no_data)}: no value has "
                "been reported for them in this or any earlier quarter."
            )
        return out


def quarter_argument(text: str) -> Quarter:
    """A quarter typed on the command line, as :func:`~.quarters.parse_quarter` reads it; text
    that is not a quarter but looks like a file path (``../../etc``) gets its own message.
    (Nothing that reads as a quarter is a path, so pandas is imported only on that error.)"""
    try:
        return parse_quarter(text)
    except QuarterError:
        from scorecard_lib.inputs.locations import looks_like_path

        if looks_like_path(text):
            raise QuarterError(
                f"{text!r} looks like a file path, not a quarter",
                fix=f"give the quarter only, as {EXAMPLE}; choose the data folder with --data",
            ) from None
        raise


def validate_quarter(
    quarter: str | Quarter,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> Summary:
    """Check every input of ``quarter``; raise the loader's error (QuarterError, InputError or
    ValidationError listing every problem) or return what the quarter holds."""
    from scorecard_lib.inputs import cross_checks, loading, locations

    if not isinstance(quarter, Quarter):
        quarter = quarter_argument(quarter)
    inputs = loading.load_inputs(quarter, data_dir, params_dir)
    q = inputs.quarter
    cat = inputs.catalogue
    force = cross_checks.in_force(cat, q)
    ids = list(cat.loc[force, "indicator_id"])
    values = inputs.values
    this = set(values.loc[values["quarter"] == q.id, "indicator_id"])
    ever = set(values["indicator_id"])
    risks = inputs.risks
    params_file = locations.params_path(q, locations.chosen_params_dir(data_dir, params_dir))
    return Summary(
        quarter=q,
        indicators=len(ids),
        updated=sum(1 for i in ids if i in this),
        carried=[i for i in ids if i not in this and i in ever],
        no_data=[i for i in ids if i not in ever],
        risks=int((risks["quarter"] == q.id).sum()),
        commentary=len(inputs.commentary),
        params_file=display_path(params_file, inputs.data_dir),
    )
