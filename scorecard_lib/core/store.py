"""Work kept between builds, as the lower layers see it: an interface and the store in use.

The build owns the store on disk (``build/kept.py``) and hands it down with
:func:`use_store`; the loader and the charts ask :func:`current_store` for it, so reading data
and drawing charts never import the build. With no store in use (tests, plain papermill, a
published build) every table is validated and every chart drawn.
"""

from __future__ import annotations

from typing import Any, Protocol


class WorkStore(Protocol):
    """What the loader and the charts may ask of the store of kept work."""

    def key(self, kind: str, *parts: Any) -> str | None:
        """The key of ``kind`` with ``parts``, or None when they cannot be written out exactly."""

    def chart(self, key: str) -> dict[str, Any] | None:
        """The chart record kept under ``key``, or None."""

    def keep_chart(self, key: str, record: dict[str, Any]) -> None:
        """Keep a chart record under ``key``."""

    def passed(self, key: str) -> bool:
        """Whether the validation ``key`` names passed before."""

    def keep_pass(self, key: str) -> None:
        """Remember that the validation ``key`` names passed."""


_current: WorkStore | None = None


def use_store(store: WorkStore | None) -> None:
    """Hand the loader and the charts ``store`` (None: keep nothing)."""
    global _current
    _current = store


def current_store() -> WorkStore | None:
    """The store of kept work in use in this process, or None."""
    return _current
