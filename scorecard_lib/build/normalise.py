"""Make an executed notebook byte-deterministic before it is published.

Two runs of the same quarter with the same data, code and environment must give the same
bytes. What papermill and nbclient add that differs from run to run (measured; see
NOTES-reproducibility) is removed here:

- ``metadata.papermill``: start/end time, duration, input and output paths (absolute, machine
  specific). Kept: ``parameters``, ``default_parameters``, ``environment_variables``,
  ``version`` and ``exception``.
- every ``cell.metadata.execution`` (nbclient timestamps) and ``cell.metadata.papermill``;
- the random id of papermill's injected-parameters cell: it becomes
  ``<section>-injected-parameters``; any other cell without an id gets ``<section>-cell-<n>``;
- memory addresses (`` at 0x7f...``) in ``text/plain`` outputs and stream text;
- ``metadata.widgets`` (widget state).

Execution counts are kept: they are deterministic and readers use them.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

INJECTED_TAG = "injected-parameters"
_PAPERMILL_KEEP = (
    "parameters",
    "default_parameters",
    "environment_variables",
    "version",
    "exception",
)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _strip_addresses(text: Any) -> Any:
    if isinstance(text, str):
        return _ADDRESS.sub("", text)
    if isinstance(text, list):
        return [_ADDRESS.sub("", t) if isinstance(t, str) else t for t in text]
    return text


def injected_cell_id(section: str) -> str:
    return f"{section}-injected-parameters"


def normalise_notebook(nb: NotebookNode, section: str) -> NotebookNode:
    """A copy of ``nb`` with every run-to-run difference removed (see the module docstring)."""
    nb = copy.deepcopy(nb)
    meta = nb.setdefault("metadata", NotebookNode())
    meta.pop("widgets", None)
    pm = meta.get("papermill")
    if isinstance(pm, dict):
        meta["papermill"] = NotebookNode({k: pm[k] for k in _PAPERMILL_KEEP if k in pm})

    has_ids = (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5)
    for index, cell in enumerate(nb.get("cells", [])):
        cmeta = cell.setdefault("metadata", NotebookNode())
        cmeta.pop("execution", None)
        cmeta.pop("papermill", None)
        if INJECTED_TAG in (cmeta.get("tags") or []):
            cell["id"] = injected_cell_id(section)
        elif has_ids and not cell.get("id"):
            cell["id"] = f"{section}-cell-{index}"
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            kind = output.get("output_type")
            if kind in ("execute_result", "display_data"):
                data = output.get("data") or {}
                if "text/plain" in data:
                    data["text/plain"] = _strip_addresses(data["text/plain"])
            elif kind == "stream" and "text" in output:
                output["text"] = _strip_addresses(output["text"])
    return nb


def notebook_text(nb: NotebookNode) -> str:
    """The notebook as nbformat writes it (sorted keys, indent 1), ending with a newline."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: NotebookNode, path: Path) -> None:
    """Write ``nb`` to ``path`` as UTF-8 with ``\\n`` line ends: the same bytes everywhere."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(notebook_text(nb))
