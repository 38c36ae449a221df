"""``python -m scorecard_lib.cli``: the ``scorecard`` command (the audit re-runs a build so)."""

from scorecard_lib.cli import console

console()
