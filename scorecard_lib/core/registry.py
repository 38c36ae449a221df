"""The report's sections in one place: name, title, the commentary each shows, its notebook.

Why it exists: the list of sections, their titles and which commentary each one shows used
to be written out in three modules (the paths, the notebooks' facade and the build cache),
which had to be kept in step by hand. Every module now reads them here; adding or renaming a
section is one line below and a notebook.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from scorecard_lib.core.paths import NOTEBOOKS_DIR

#: The values of the catalogue's ``section`` column: the sections that have indicators of
#: their own. The overview's own indicators (economy, environment, health) have no service
#: section; their other commentary is shown in the appendix.
INDICATOR_SECTIONS: tuple[str, ...] = ("overview", "childrens_services", "adult_care", "workforce")


@dataclass(frozen=True)
class CommentaryShown:
    """Which entries of the quarter's ``commentary.yaml`` a section's notebook shows: those of
    indicators whose catalogue section is in ``sections``, and of them only the red ones with
    an update this quarter (``explained=True``: the exceptions the cover report explains) or
    only the others (``explained=False``: a section's "other commentary").

    The build cache keys each section on exactly these entries, so that editing one
    explanation re-executes only the notebooks that display it."""

    sections: frozenset[str] = frozenset()
    explained: bool = False

    def includes(
        self, indicator_sections: Collection[str] | None, is_explained: bool | None
    ) -> bool:
        """Whether an entry may be shown. ``indicator_sections``: the catalogue sections of
        its indicator, None when the catalogue does not know it (then it counts everywhere,
        to be safe); ``is_explained``: whether the indicator is red with an update this
        quarter, None when that is not known (then both kinds count)."""
        if indicator_sections is None:
            return True
        if not self.sections.intersection(indicator_sections):
            return False
        return is_explained is None or is_explained == self.explained


@dataclass(frozen=True)
class Section:
    """One section of the report, executed from ``notebooks/<name>.ipynb``."""

    name: str
    title: str
    commentary: CommentaryShown = CommentaryShown()

    @property
    def notebook(self) -> Path:
        return notebook_path(self.name)


def notebook_path(name: str, folder: Path = NOTEBOOKS_DIR) -> Path:
    """The notebook of section ``name`` in ``folder`` (the project's own by default)."""
    return Path(folder) / f"{name}.ipynb"


def _others(*sections: str) -> CommentaryShown:
    return CommentaryShown(frozenset(sections), explained=False)


#: The report's sections in the order they appear.
REGISTRY: tuple[Section, ...] = (
    # the cover report explains every red indicator with an update, of every section
    Section("overview", "Report to Cabinet", CommentaryShown(frozenset(INDICATOR_SECTIONS), True)),
    # each service section shows the commentary of its other indicators
    Section("childrens_services", "Children's services", _others("childrens_services")),
    Section("adult_care", "Adult care", _others("adult_care")),
    Section("workforce", "Workforce", _others("workforce")),
    Section("corporate_risk", "Corporate risk"),
    # Appendix 1 shows the other commentary of the indicators without a service section
    Section("appendix", "Appendix", _others("overview")),
)

#: Section names in report order; each is ``notebooks/<name>.ipynb``.
SECTIONS: tuple[str, ...] = tuple(s.name for s in REGISTRY)
#: Section name -> its heading in the report.
SECTION_TITLES: Mapping[str, str] = MappingProxyType({s.name: s.title for s in REGISTRY})
#: Section name -> the commentary its notebook shows.
COMMENTARY_SHOWN: Mapping[str, CommentaryShown] = MappingProxyType(
    {s.name: s.commentary for s in REGISTRY}
)
