"""The quarterly returns workbook: ``scorecard template`` writes it (:mod:`.template`), and
``scorecard import`` reads a filled one back into the quarter's data files (:mod:`.importing`).

Council services send their figures on a spreadsheet made for one quarter: an Instructions
sheet, an Indicators sheet, a Breakdowns sheet when there are breakdowns, a Risks sheet and a
hidden sheet recording the quarter, so a workbook cannot be imported as another quarter.

Inside: :mod:`.layout` (sheets and columns, shared by both directions), :mod:`.template_rows`
and :mod:`.template` (what the template holds, and writing it), :mod:`.cells` (opening an
untrusted workbook within size limits and reading its cells), :mod:`.sheets` (its sheets
turned into data rows) and :mod:`.importing` (checking, comparing and writing the quarter).
Imports only ``core`` and the rest of ``inputs``.
"""

from scorecard_lib.inputs.workbook.importing import ImportResult, import_workbook
from scorecard_lib.inputs.workbook.template import write_template

__all__ = ["ImportResult", "import_workbook", "write_template"]
