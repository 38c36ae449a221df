"""The part of a quarter's ``commentary.yaml`` each section shows, for the build cache's keys.

Why it exists: one file holds every section's commentary. Keying each section on the whole
file would re-execute every section when one explanation changes; keying it on the entries it
shows (``registry.CommentaryShown``) re-executes only the notebooks that display the edit. The
cover report shows the commentary of the red indicators with an update this quarter, so which
entries it shows depends on the ratings: :func:`explained_indicators` works them out with the
same call the notebooks make.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.core.registry import CommentaryShown

#: One entry: (its key as written, its value in canonical form, the catalogue sections of its
#: indicator or None if unknown, whether that indicator is explained or None if not known).
Entry = tuple[str, Any, "frozenset[str] | None", "bool | None"]


def explained_indicators(inputs: Any) -> frozenset[str]:
    """The indicators the cover report explains: red with an update this quarter, from the
    validated ``inputs`` (``loading.Inputs``), exactly as the notebooks' facade decides."""
    from scorecard_lib.present.sections import Scorecard

    return frozenset(str(i) for i in Scorecard(inputs).updated_red()["indicator_id"])


def canonical(value: Any) -> Any:
    """A JSON-able form of parsed YAML in which every distinct value stays distinct."""
    if isinstance(value, Mapping):
        return ["map", sorted([repr(k), canonical(v)] for k, v in value.items())]
    if isinstance(value, list | tuple):
        return ["list", [canonical(v) for v in value]]
    return [type(value).__name__, repr(value)]


def catalogue_sections(catalogue: Path) -> dict[str, frozenset[str]] | None:
    """indicator id -> the catalogue sections it is listed in; None if unreadable. Read with
    the same pandas call as ``loading`` (only the runner gets here; pandas is loaded)."""
    try:
        import pandas as pd

        from scorecard_lib.inputs import readers

        text = readers.read_capped(catalogue, readers.MAX_CSV_BYTES, encoding="utf-8-sig")
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        ids = [str(x).strip() for x in df["indicator_id"].tolist()]
        sections = [str(x).strip() for x in df["section"].tolist()]
    except Exception:
        return None
    found: dict[str, set[str]] = {}
    for ind, section in zip(ids, sections, strict=True):
        found.setdefault(ind, set()).add(section)
    return {ind: frozenset(where) for ind, where in found.items()}


class CommentarySlices:
    """The entries of one ``commentary.yaml``, each with where its indicator is shown.

    ``explained``: the indicators red with an update this quarter (None when not known: then
    a section is keyed on both kinds of its indicators' entries)."""

    def __init__(self, path: Path, catalogue: Path, explained: frozenset[str] | None) -> None:
        self.entries: list[Entry] | None = None
        try:
            from scorecard_lib.inputs import readers

            # exactly as loading reads it, so the slice sees what the notebooks see
            data = readers.load_yaml(readers.read_capped(path, readers.MAX_YAML_BYTES))
        except Exception:
            return  # unreadable: every section is keyed on the whole file
        sections = catalogue_sections(catalogue)
        if not isinstance(data, Mapping) or sections is None:
            return
        self.entries = []
        for key, value in data.items():
            indicator = str(key).strip()
            is_explained = None if explained is None else indicator in explained
            where = sections.get(indicator)
            self.entries.append((repr(key), canonical(value), where, is_explained))

    def shown(self, shown: CommentaryShown | None) -> list[list[Any]] | None:
        """The entries a section showing ``shown`` is keyed on, or None when it must be keyed
        on the whole file (the file could not be read, or the section is not registered)."""
        if shown is None or self.entries is None:
            return None
        return [[k, v] for k, v, where, ex in self.entries if shown.includes(where, ex)]
