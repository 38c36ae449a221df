"""The audit: re-run a published record (with its recorded code, or today's) and say in plain
words what differs. May import every stage below it (publish and lower), never scale or cli.

The CLI and the batch use the entry points re-exported here; the modules hold the pieces
(``records``, ``provenance``, ``reruns``, ``results``, ``outputs_diff``, ``notebook_diff``,
``html_diff``, ``findings``) and ``verdicts`` runs them in order.
"""

from scorecard_lib.audit.findings import (
    EXIT_BAD_INPUT,
    EXIT_DIFFERENT,
    EXIT_IDENTICAL,
    Finding,
)
from scorecard_lib.audit.html_diff import compare_html
from scorecard_lib.audit.notebook_diff import compare_notebooks
from scorecard_lib.audit.outputs_diff import compare_outputs
from scorecard_lib.audit.records import check_published_files, published_quarters
from scorecard_lib.audit.results import ResultChange, compare_results, result_changes
from scorecard_lib.audit.verdicts import (
    CURRENT,
    RECORDED,
    AuditResult,
    audit_all,
    audit_quarter,
    exit_code,
    impact_message,
    unexpected_result_changes,
)

__all__ = [
    "CURRENT",
    "EXIT_BAD_INPUT",
    "EXIT_DIFFERENT",
    "EXIT_IDENTICAL",
    "RECORDED",
    "AuditResult",
    "Finding",
    "ResultChange",
    "audit_all",
    "audit_quarter",
    "check_published_files",
    "compare_html",
    "compare_notebooks",
    "compare_outputs",
    "compare_results",
    "exit_code",
    "impact_message",
    "published_quarters",
    "result_changes",
    "unexpected_result_changes",
]
