"""Work kept between builds: charts already drawn and input tables already validated, so that
a rebuild after a commentary edit does not redo them.

A commentary edit re-executes one section (the build cache, ``cache.py``), and that section
would otherwise draw every one of its charts again (50-80 ms each, mostly matplotlib laying out
text) although none changed, while both the command and the kernels' zygote validate every
unchanged input table again with pandera (about 0.2 s each). ``scorecard run`` with its build
cache on turns this store on in its own process and in the kernels' prelude
(``build.kernel_prelude``); plain papermill, Jupyter, ``--no-cache`` and ``scorecard audit``
never do, so they always draw and validate everything.

**Keys.** Every key is a sha256 over what the result depends on, and over a *salt* naming the
library's code (``manifest.source_sha256``), the Python version and every installed
distribution with its version:

- a chart: the chart function's name and every argument, written out exactly
  (:func:`canonical`: a data frame by its columns, dtypes, index and every value with its type,
  so ``1``, ``1.0`` and ``"1"`` differ);
- a validation: which table it is (the ``schemas`` name) and the sha256 of the file's bytes.

:func:`use` is given the code fingerprint the command computed before anything was imported
that draws or validates; if the library's files differ by then, what was imported may not be
the code the key would name, and the store stays off.

**What is kept.** A chart is kept as JSON (title, alt text, SVG, data table) with the sha256 of
that record beside it, and only after it has been read back and found to display exactly as
the drawn one (same HTML, same data table and types): a value the JSON cannot carry exactly is
never kept, and a record that fails its sha256 is drawn again. A validation is kept only when
it found no problem at all (an empty marker file); a table with problems is always validated,
so every message is the same as without the store. A function that fails keeps nothing.

Entries live in ``OUT/.cache/kept/``; :func:`prune` keeps the most recently used of them.
Writing is atomic (a temporary file, then a rename), so two kernels keeping the same chart at
once cannot leave half a record. The store only ever saves time: any error reading or writing
it means the work is done as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scorecard_lib.core.store import use_store

#: Bump when the recipe of a key or of a record changes: old entries are then never found.
FORMAT = 1
FOLDER = "kept"
CHARTS = "charts"
CHECKS = "validated"
#: Entries kept after a build in each folder (most recently used first). A report of the
#: sample draws about 50 charts and validates about 20 tables; the ten-times catalogue ten
#: times as many.
KEEP = 4000


class Kept:
    """The store under ``root`` (``OUT/.cache/kept``) for one salt; see the module docstring."""

    def __init__(self, root: Path, salt: str) -> None:
        self.root = Path(root)
        self.salt = salt

    def key(self, kind: str, *parts: Any) -> str | None:
        """The key of ``kind`` with ``parts``, or None when a part cannot be written out
        exactly (such work is never kept)."""
        try:
            text = json.dumps(
                [FORMAT, self.salt, kind, canonical(list(parts))],
                ensure_ascii=False,
                separators=(",", ":"),
                allow_nan=False,
            )
        except (TypeError, ValueError):
            return None
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # --- charts ---------------------------------------------------------------------------

    def chart(self, key: str) -> dict[str, Any] | None:
        """The chart record kept under ``key``, or None (missing, damaged or unreadable)."""
        path = self.root / CHARTS / f"{key}.json"
        try:
            stored = json.loads(path.read_bytes())
            record = stored["chart"]
            if stored["sha256"] != record_sha256(record) or not isinstance(record, dict):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        _touch(path)
        return record

    def keep_chart(self, key: str, record: dict[str, Any]) -> None:
        try:
            data = json.dumps(
                {"format": FORMAT, "sha256": record_sha256(record), "chart": record},
                ensure_ascii=False,
                sort_keys=True,
            ).encode("utf-8")
        except (TypeError, ValueError):
            return
        _write(self.root / CHARTS / f"{key}.json", data)

    # --- validations ----------------------------------------------------------------------

    def passed(self, key: str) -> bool:
        """Whether the validation ``key`` names found no problem before."""
        path = self.root / CHECKS / key
        if not path.is_file():
            return False
        _touch(path)
        return True

    def keep_pass(self, key: str) -> None:
        _write(self.root / CHECKS / key, b"")


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used


def _write(path: Path, data: bytes) -> None:
    """Write atomically; failing to write only costs time later."""
    from scorecard_lib.core.files import write_atomically

    with contextlib.suppress(OSError):
        write_atomically(path, data)


def record_sha256(record: Any) -> str:
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value: Any) -> Any:
    """A JSON form of ``value`` in which two values are equal only if they are the same value
    of the same type. Raises TypeError for anything it cannot write out exactly."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return [type(value).__name__, value]
    if isinstance(value, int | float | np.integer | np.floating | np.bool_):
        return [type(value).__name__, repr(value)]  # repr of a float is exact; nan is "nan"
    if isinstance(value, pd.DataFrame):
        if not value.columns.is_unique:
            raise TypeError("cannot key a data frame with repeated column names")
        return [
            "DataFrame",
            canonical(value.columns),
            [str(t) for t in value.dtypes],
            canonical(value.index),
            [canonical(value[c].tolist()) for c in value.columns],
        ]
    if isinstance(value, pd.Series):
        return ["Series", str(value.dtype), canonical(value.name), canonical(value.index),
                canonical(value.tolist())]  # fmt: skip
    if isinstance(value, pd.Index):
        return ["Index", type(value).__name__, str(value.dtype), canonical(value.tolist())]
    if isinstance(value, np.ndarray):
        return ["ndarray", str(value.dtype), list(value.shape), canonical(value.tolist())]
    if isinstance(value, Mapping):
        return ["map", [[canonical(k), canonical(v)] for k, v in value.items()]]
    if isinstance(value, list | tuple):
        return [type(value).__name__, [canonical(v) for v in value]]
    raise TypeError(f"cannot key a {type(value).__name__}")


def environment_salt(code_sha256: str) -> str:
    """What besides its inputs can change a result: the code, Python and the packages."""
    from scorecard_lib.build.cache import installed_packages

    parts = [FORMAT, code_sha256, sys.version, sys.executable, installed_packages()]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def use(cache_folder: Path | str, code_sha256: str) -> bool:
    """Hand the loader and the charts the store in ``cache_folder/kept`` (``core.store``), for
    the code whose fingerprint the command computed before drawing or validating code was
    imported. If the library's files differ now, no store is used. Returns whether one is."""
    from scorecard_lib.report.manifest import source_sha256

    use_store(None)
    if not code_sha256 or source_sha256() != code_sha256:
        return False
    use_store(Kept(Path(cache_folder) / FOLDER, environment_salt(code_sha256)))
    return True


def stop_using() -> None:
    """Keep nothing from now on in this process."""
    use_store(None)


def prune(cache_folder: Path | str, keep: int = KEEP) -> None:
    """In each folder of the store, delete all but the ``keep`` most recently used entries.
    Never fails."""
    for name in (CHARTS, CHECKS):
        folder = Path(cache_folder) / FOLDER / name
        entries = []
        try:
            with os.scandir(folder) as it:
                for item in it:
                    with contextlib.suppress(OSError):
                        entries.append((item.stat().st_mtime, item.path))
        except OSError:
            continue
        entries.sort(reverse=True)
        for _mtime, path in entries[keep:]:
            with contextlib.suppress(OSError):
                os.unlink(path)
