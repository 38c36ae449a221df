"""Inputs the build read ahead of the notebooks, handed down to the notebooks' facade.

The build reads and validates the quarter's inputs once in the process its kernels are forked
from (``build/preparation.py``), so every kernel starts with them in memory. It hands them down
here, and the facade (``present/sections.py``) takes them for its next ``load_scorecard``: the
facade never imports the build. With nothing handed down (a notebook opened in Jupyter, plain
papermill, tests) nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReadAhead:
    """Inputs read for ``key`` (the facade's ``inputs_key``: quarter and folders) while every
    input file had the bytes ``fingerprint`` records (the facade's ``inputs_fingerprint``)."""

    key: tuple[str, str, str]
    fingerprint: tuple[tuple[str, str], ...]
    inputs: Any


_held: ReadAhead | None = None


def hand_down(read: ReadAhead | None) -> None:
    """Hold ``read`` for the next :func:`take` in this process or one forked from it."""
    global _held
    _held = read


def take() -> ReadAhead | None:
    """What was handed down, once: later calls get None until something is handed down again."""
    global _held
    read, _held = _held, None
    return read
