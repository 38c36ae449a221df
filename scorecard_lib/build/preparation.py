"""What a kernel's process does before any notebook runs, as data: quarter, folders, kept work.

A build starts its kernels while it is still checking the inputs (``executors.py``). The
process its kernels are forked from (the zygote, ``kernels.py``), or a kernel started ahead the
ordinary way, prepares for the notebooks meanwhile: it imports what every section imports,
turns on the store of work kept between builds (``kept.py``) for the code as it was when the
build started, and reads and validates the quarter's inputs once (:func:`remember_inputs`).
The build describes this preparation as a :class:`KernelPreparation` (plain data, sent as
JSON); :func:`prepare` is the one function that carries it out. Nothing a notebook shows can
depend on it: the facade uses inputs read ahead only while every input file is unchanged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: The section of a kernel's configuration holding its preparation (``--KernelPreparation.json
#: =...`` on the command line of a kernel started ahead the ordinary way; see
#: :func:`load_ipython_extension`).
CONFIG_SECTION = "KernelPreparation"


@dataclass(frozen=True)
class KernelPreparation:
    """What to prepare: the ``quarter`` (id) and ``data_dir`` notebook parameters whose inputs
    are read ahead; with ``kept_in`` (the cache folder; "" for none) the store of kept work
    is used there for the code whose fingerprint is ``code``."""

    quarter: str
    data_dir: str = ""
    kept_in: str = ""
    code: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KernelPreparation | None:
        """The preparation ``text`` describes, or None if it describes none (empty or not an
        object of strings with a quarter)."""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("quarter"), str):
            return None
        fields = ("quarter", "data_dir", "kept_in", "code")
        if any(not isinstance(data.get(name, ""), str) for name in fields):
            return None
        return cls(**{name: data[name] for name in fields if name in data})


def prepare(preparation: KernelPreparation | None) -> None:
    """Carry out ``preparation`` in this process. Anything that fails is left for the notebook
    to do itself, which then says what is wrong."""
    import contextlib

    with contextlib.suppress(Exception):
        import scorecard_lib.present.charts  # noqa: F401  (what every section draws with)
    if preparation is None:
        return
    if preparation.kept_in:
        from scorecard_lib.build import kept

        with contextlib.suppress(Exception):
            kept.use(Path(preparation.kept_in), preparation.code)
    remember_inputs(preparation.quarter, preparation.data_dir)


def remember_inputs(
    quarter: str, data_dir: str | Path | None = "", params_dir: str | Path | None = ""
) -> bool:
    """Read and validate the quarter's inputs now and hand them down to the next
    ``load_scorecard`` in this process (or in a process forked from it) with the same
    arguments (``core/read_ahead.py``). False (and nothing handed down) if they do not
    validate or changed while being read."""
    from scorecard_lib.core import read_ahead
    from scorecard_lib.present import notebook_parameters, sections

    read_ahead.hand_down(None)
    try:
        key = notebook_parameters.inputs_key(quarter, data_dir, params_dir)
        before = notebook_parameters.inputs_fingerprint(quarter, data_dir, params_dir)
        inputs = sections.load_scorecard(quarter, data_dir, params_dir).inputs
        if notebook_parameters.inputs_fingerprint(quarter, data_dir, params_dir) != before:
            return False
    except Exception:
        return False
    read_ahead.hand_down(read_ahead.ReadAhead(key, before, inputs))
    return True


def kernel_arguments(preparation: KernelPreparation | None) -> list[str]:
    """Command-line arguments that make an ipykernel kernel carry out ``preparation`` while it
    starts (as an IPython extension: :func:`load_ipython_extension`)."""
    if preparation is None:
        return []
    return [
        f"--IPKernelApp.extra_extensions={__name__}",
        f"--{CONFIG_SECTION}.json={preparation.to_json()}",
    ]


def load_ipython_extension(ipython: Any) -> None:
    """IPython's extension hook, run by a kernel started with :func:`kernel_arguments`: carry
    out the preparation in its configuration. It defines nothing in the notebook's namespace."""
    section = getattr(ipython, "config", {}).get(CONFIG_SECTION, {})
    prepare(KernelPreparation.from_json(str(section.get("json", ""))))
