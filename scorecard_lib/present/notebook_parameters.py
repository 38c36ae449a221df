"""What a section notebook is given: its parameters (checked against what papermill injected,
since papermill only warns about a misspelt one) and the inputs the build read ahead for it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from scorecard_lib.core.errors import InputError
from scorecard_lib.core.paths import PROJECT_ROOT
from scorecard_lib.core.quarters import Quarter, parse_quarter
from scorecard_lib.core.read_ahead import take as take_read_ahead
from scorecard_lib.inputs.loading import Inputs, input_files
from scorecard_lib.inputs.parameters import PARAM_KEYS


def from_root(folder: str | Path | None) -> Path | None:
    """A notebook parameter naming a folder: relative paths are taken from the project root
    (the runner's kernels start there, and a notebook opened in notebooks/ must agree)."""
    if folder is None or str(folder) == "":
        return None
    path = Path(folder).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


#: Every name a section notebook's ``parameters`` cell defines.
NOTEBOOK_PARAMETERS: tuple[str, ...] = (
    "quarter",
    "data_dir",
    *(k for k in PARAM_KEYS if k != "quarter"),
)


def injected_parameters() -> list[str]:
    """The names papermill injected into this kernel, in the cell it adds after the
    ``parameters`` cell (its source starts with the line ``# Parameters``); empty outside a
    notebook kernel. papermill only warns about a name the notebook does not declare and runs
    on with the default, which would build a report for the wrong quarter without a word."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    history = getattr(shell, "user_ns", {}).get("_ih", []) if shell is not None else []
    names: list[str] = []
    for source in history:
        if not (isinstance(source, str) and source.startswith("# Parameters\n")):
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign):
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def check_injected_parameters() -> None:
    unknown = sorted(set(injected_parameters()) - set(NOTEBOOK_PARAMETERS))
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        raise InputError(
            f"The notebook was given the parameter{s} {', '.join(unknown)}, which it does not "
            "take (papermill only warns and would run on the default values)",
            fix=f"check the spelling after -p; the parameters are {', '.join(NOTEBOOK_PARAMETERS)}",
        )


# --- inputs read before the kernel started ---------------------------------------------------
# Kernels forked from a zygote (build/kernels.py) inherit its memory. The build reads the
# quarter's inputs once there (build/preparation.py) and hands them down (core/read_ahead.py);
# every kernel then starts with them in memory instead of reading and validating them again.
# They are used only for the same quarter and folders, and only if every input file still has
# the bytes it had when they were read (sha256 of each file ``loading.input_files`` lists, and
# the same list of files); anything else is read again as usual.


def inputs_key(
    quarter: str | Quarter, data_dir: str | Path | None, params_dir: str | Path | None
) -> tuple[str, str, str]:
    """The quarter and folders :func:`load_scorecard` reads, as compared for inputs read
    ahead (the folders as the notebook parameters resolve them)."""
    q = parse_quarter(quarter)
    data, params = from_root(data_dir), from_root(params_dir)
    return (q.id, "" if data is None else str(data), "" if params is None else str(params))


def inputs_fingerprint(
    quarter: str | Quarter, data_dir: str | Path | None, params_dir: str | Path | None
) -> tuple[tuple[str, str], ...]:
    """Each input file :func:`load_scorecard` reads, with the sha256 of its bytes now."""
    import hashlib

    files = input_files(quarter, from_root(data_dir), from_root(params_dir))
    return tuple((f.as_posix(), hashlib.sha256(f.read_bytes()).hexdigest()) for f in files)


def read_ahead_inputs(
    quarter: str | Quarter, data_dir: str | Path | None, params_dir: str | Path | None
) -> Inputs | None:
    """The inputs the build read ahead for these arguments (once), if every input file is
    unchanged since."""
    read = take_read_ahead()
    if read is None:
        return None
    try:
        if inputs_key(quarter, data_dir, params_dir) != read.key:
            return None
        same = inputs_fingerprint(quarter, data_dir, params_dir) == read.fingerprint
    except Exception:  # a bad quarter or an unreadable file: load_inputs says what is wrong
        return None
    return read.inputs if same and isinstance(read.inputs, Inputs) else None
