"""The build cache: a section notebook is executed again only when something it reads changed.

A section's **key** is a sha256 over everything that can change its executed notebook:

- the notebook's bytes;
- the library's code (``manifest.source_sha256()``: every ``scorecard_lib`` file, the templates
  and the section notebooks), so any code change re-executes every section;
- the quarter's input files as ``loading.input_files`` lists them (catalogue, settings, the
  parameters file, and every file of this and every earlier quarter, which carry-forward and
  trends read), each by its sha256, with one refinement: of this quarter's
  ``commentary.yaml`` a section is keyed only on the entries it shows (its
  ``registry.CommentaryShown``; ``commentary.py``);
- the notebook parameters, the Python version and executable, every installed distribution
  and its version, every ``python3`` kernel spec Jupyter could pick, the kernels' environment
  and arguments, and which executor ran it.

Where entries live: ``OUT/.cache/sections/<section>/<key>.ipynb`` holds the normalised executed
notebook (the same bytes the runner publishes) and ``<key>.json`` its sha256, written last, so a
half-written entry is never used. A hit is copied into the staging folder and the run goes on
as if the section had been executed: report and manifest are byte-identical either way.

The **run record** ``OUT/.cache/runs/<quarter>.json`` short-circuits a build in which nothing
changed at all: it holds a key over every file in the data folder and in both folders a
parameters file can come from, the code (including the git commit the manifest records), the
environment, the notebooks and the command, and the sha256 of every published file. When the
key is the same and the published files are untouched, there is nothing to do: no kernel
starts, nothing is rewritten.

Keys are computed before anything runs and again afterwards; a result is stored only when they
agree, so a file edited during a build can never be cached under the key of what it was before.

The cache never serves a stale result; the price of that rule is that it is conservative: an
unrelated change (a new quarter's data) re-keys the run record, and any library change re-keys
every section.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard_lib.build.commentary import CommentarySlices
from scorecard_lib.core.files import write_atomically
from scorecard_lib.core.paths import DATA_DIR, NOTEBOOKS_DIR, OUTPUTS_DIR, PARAMS_DIR, resolve
from scorecard_lib.core.registry import (
    COMMENTARY_SHOWN,
    SECTIONS,
    CommentaryShown,
    notebook_path,
)
from scorecard_lib.report import manifest

#: Bump when the recipe of a key changes: every old entry is then simply never found.
FORMAT = 1
CACHE_DIR = ".cache"
#: Entries kept per section (most recently used first); older ones are deleted.
KEEP_PER_SECTION = 8
COMMENTARY_FILE = "commentary.yaml"
CATALOGUE_FILE = "catalogue.csv"

#: Which commentary each section shows (``registry.REGISTRY``). A section not listed is keyed
#: on the whole file. ``tests/test_cache.py`` checks these declarations against the real
#: notebooks: it rewrites every entry a section is not keyed on and checks the section's output
#: does not change, and the entries it is keyed on and checks it does.
COMMENTARY_READ: Mapping[str, CommentaryShown] = COMMENTARY_SHOWN


# --- hashing helpers ----------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return _sha(text.encode("utf-8"))


def _file_sha(path: Path) -> str:
    try:
        return manifest.sha256_file(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:  # unreadable: never equal to anything stored
        return f"unreadable {type(exc).__name__} {time.time_ns()}"


def installed_packages() -> list[str]:
    """Every distribution importable by this Python, as its ``*.dist-info`` / ``*.egg-info``
    folder name (which carries name and version). Listing folders is a thousand times faster
    than reading each distribution's metadata, and it covers what the kernels import
    indirectly (IPython, numpy, fonttools...), not only the direct dependencies."""
    found: set[str] = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                for item in it:
                    if item.name.endswith((".dist-info", ".egg-info")):
                        found.add(item.name)
        except OSError:
            continue
    return sorted(found)


def kernel_specs() -> list[tuple[str, str]]:
    """Every ``python3`` kernel spec Jupyter could pick (the executor asks for that name), by
    path and sha256: a spec installed elsewhere can point the kernels at another Python."""
    try:
        from jupyter_core.paths import jupyter_path

        folders = jupyter_path("kernels")
    except Exception:
        return [("unknown", str(time.time_ns()))]  # never equal: no caching without knowing
    found = []
    for folder in folders:
        spec = Path(folder) / "python3" / "kernel.json"
        if spec.is_file():
            found.append((spec.as_posix(), _file_sha(spec)))
    return found


def environment_fingerprint() -> dict[str, Any]:
    """What, besides the inputs and the notebook, a kernel's output can depend on."""
    from scorecard_lib.build.executors import KERNEL_ARGUMENTS, KERNEL_ENV

    return {
        "format": FORMAT,
        "python": sys.version,
        "executable": sys.executable,
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "packages": installed_packages(),
        "kernel_specs": kernel_specs(),
        "kernel_env": dict(KERNEL_ENV),
        "kernel_arguments": list(KERNEL_ARGUMENTS),
        "source_sha256": manifest.source_sha256(),
    }


def executor_id(executor: object | None) -> str:
    """Which executor made a notebook: outputs of a test's fake executor (or of the in-process
    floor of the benchmark) are never served to a real run."""
    if executor is None:
        return "scorecard_lib.build.executors.PapermillExecutor"
    kind = type(executor)
    token = getattr(executor, "cache_token", "")
    return f"{kind.__module__}.{kind.__qualname__}{':' + str(token) if token else ''}"


# --- keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """What every section of one run shares. Paths are absolute."""

    quarter: str
    data: Path
    inputs: tuple[Path, ...]
    parameters: Mapping[str, Any]
    executor: str
    #: the indicators red with an update this quarter (``commentary.explained_indicators``);
    #: None when not known, and then each section is keyed on all of its indicators' commentary
    explained: frozenset[str] | None = None


def section_keys(
    context: RunContext,
    notebooks: Mapping[str, Path],
    environment: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """section -> key (see the module docstring) for every notebook given."""
    env = dict(environment) if environment is not None else environment_fingerprint()
    current_commentary = context.data / context.quarter / COMMENTARY_FILE
    slices: CommentarySlices | None = None
    whole = ""
    plain: list[tuple[str, str]] = []
    for path in sorted(context.inputs, key=lambda p: p.as_posix()):
        if path == current_commentary:
            slices = CommentarySlices(path, context.data / CATALOGUE_FILE, context.explained)
            whole = f"whole:{_file_sha(path)}"
        else:
            plain.append((path.as_posix(), _file_sha(path)))
    keys = {}
    for section, notebook in notebooks.items():
        commentary = "not an input"
        if slices is not None:
            shown = slices.shown(COMMENTARY_READ.get(section))
            commentary = whole if shown is None else f"slice:{_digest(shown)}"
        keys[section] = _digest(
            {
                "kind": "section",
                "section": section,
                "notebook": _file_sha(notebook),
                "quarter": context.quarter,
                "parameters": dict(context.parameters),
                "inputs": plain,
                "commentary": [current_commentary.as_posix(), commentary],
                "environment": env,
                "executor": context.executor,
            }
        )
    return keys


def _data_files(data: Path) -> list[tuple[str, str]]:
    """Every file under the data folder (relative path, sha256): a superset of what any quarter
    reads, so a new input file can never go unnoticed."""
    found = []
    for folder, dirs, files in os.walk(data):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            found.append((path.relative_to(data).as_posix(), _file_sha(path)))
    return sorted(found)


def _params_folders(data: Path) -> list[Path]:
    """Where ``loading`` may look for a quarter's parameters file: ``params/`` beside the data
    folder, and the project's ``params/``."""
    return sorted({data.parent / "params", PARAMS_DIR}, key=lambda p: p.as_posix())


def run_key(
    quarter: str,
    *,
    data: Path,
    notebooks: Mapping[str, Path],
    command: str | None,
    executor: str,
    extra_inputs: Iterable[Path] = (),
    word: str = "",
) -> str:
    """The key of a whole build (see the module docstring). ``word``: whether and on which
    template the Word paper is written (``runner.word_key``); the template's bytes are among
    ``extra_inputs``."""
    others = sorted({Path(p) for p in extra_inputs}, key=lambda p: p.as_posix())
    return _digest(
        {
            "kind": "run",
            "quarter": quarter,
            "data": data.as_posix(),
            "data_files": _data_files(data),
            # every folder a parameters file may be taken from, whole: whether it exists
            # decides which one is read (locations.default_params_dir)
            "params_folders": [
                (folder.as_posix(), folder.is_dir(), _data_files(folder) if folder.is_dir() else [])
                for folder in _params_folders(data)
            ],
            "other_inputs": [(p.as_posix(), _file_sha(p)) for p in others],
            "notebooks": [
                (name, path.as_posix(), _file_sha(path)) for name, path in notebooks.items()
            ],
            "command": command,
            "word": word,
            "executor": executor,
            "environment": environment_fingerprint(),
            # what the manifest and the report's provenance record about code and environment
            "code": manifest.code_version(),
            "manifest_environment": manifest.environment(),
        }
    )


# --- the store ----------------------------------------------------------------------------------


class SectionStore:
    """Executed, normalised section notebooks by key, under ``OUT/.cache/sections/``."""

    def __init__(self, out: Path) -> None:
        self.root = Path(out) / CACHE_DIR / "sections"

    def _paths(self, section: str, key: str) -> tuple[Path, Path]:
        folder = self.root / section
        return folder / f"{key}.ipynb", folder / f"{key}.json"

    def get(self, section: str, key: str) -> bytes | None:
        notebook, index = self._paths(section, key)
        try:
            recorded = json.loads(index.read_text(encoding="utf-8"))
            data = notebook.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(recorded, dict) or recorded.get("sha256") != _sha(data):
            return None  # damaged or tampered with: execute instead
        with contextlib.suppress(OSError):
            os.utime(index)  # most recently used
        return data

    def put(self, section: str, key: str, data: bytes) -> None:
        notebook, index = self._paths(section, key)
        write_atomically(notebook, data)
        record = {"format": FORMAT, "section": section, "sha256": _sha(data)}
        write_atomically(index, (json.dumps(record, sort_keys=True) + "\n").encode())
        self._prune(notebook.parent)

    def remove(self, section: str, key: str) -> None:
        for path in reversed(self._paths(section, key)):  # the index first: it makes an entry
            with contextlib.suppress(OSError):
                path.unlink()

    def _prune(self, folder: Path) -> None:
        indexes = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in indexes[KEEP_PER_SECTION:]:
            for path in (old, old.with_suffix(".ipynb")):
                with contextlib.suppress(OSError):
                    path.unlink()


# --- the executor wrapper -----------------------------------------------------------------------

EventCallback = Callable[[str, str, float | None], None]


class CachingExecutor:
    """Serves sections from the store; hands the others to ``inner``; stores what it ran.

    A hit emits the event "from cache" (seconds None) and returns an ``ok`` outcome with
    ``attempts=0``.
    """

    def __init__(self, inner: Any, store: SectionStore, context: RunContext) -> None:
        self.inner = inner
        self.store = store
        self.context = context
        self.hits: list[str] = []
        self.executed: list[str] = []

    def _keys(self, jobs: Sequence[Any], environment: Mapping[str, Any]) -> dict[str, str]:
        return section_keys(self.context, {j.section: j.notebook for j in jobs}, environment)

    def run(
        self,
        jobs: Sequence[Any],
        *,
        max_workers: int,
        on_event: EventCallback | None,
    ) -> list[Any]:
        from scorecard_lib.build.executors import SectionOutcome

        jobs = list(jobs)
        emit: EventCallback = on_event or (lambda _s, _e, _t: None)
        environment = environment_fingerprint()
        keys = self._keys(jobs, environment)
        outcomes: dict[int, Any] = {}
        misses = []
        for index, job in enumerate(jobs):
            data = self.store.get(job.section, keys[job.section])
            if data is None:
                misses.append((index, job))
                continue
            job.output.parent.mkdir(parents=True, exist_ok=True)
            job.output.write_bytes(data)
            self.hits.append(job.section)
            emit(job.section, "from cache", None)
            outcomes[index] = SectionOutcome(
                section=job.section,
                ok=True,
                output=job.output,
                seconds=0.0,
                output_written=True,
                attempts=0,
            )
        if misses:
            by_section = {job.section: job for _i, job in misses}
            stored: set[str] = set()

            def store(section: str) -> None:
                if section in by_section and section not in stored:
                    stored.add(section)
                    self._store(by_section[section], keys[section])

            def relay(section: str, event: str, seconds: float | None) -> None:
                emit(section, event, seconds)
                if event == "finished":  # store now, while the other sections still run
                    store(section)

            ran = self.inner.run(
                [job for _i, job in misses], max_workers=max_workers, on_event=relay
            )
            self.executed.extend(by_section)
            for (index, job), outcome in zip(misses, ran, strict=True):
                outcomes[index] = outcome
                if outcome.ok:
                    store(job.section)
                elif job.section in stored:  # "finished", then failed after all: forget it
                    self.store.remove(job.section, keys[job.section])
        return [outcomes[i] for i in range(len(jobs))]

    def _store(self, job: Any, key: str) -> None:
        """Store a successful result, if its key is still what it was before the run (else
        something it reads changed while it ran). A cache that cannot be written only costs
        time, so nothing here may fail the build."""
        try:
            if not job.output.is_file():
                return
            after = section_keys(self.context, {job.section: job.notebook})
            if after[job.section] != key:
                return
            import nbformat

            from scorecard_lib.build.normalise import normalise_notebook, notebook_text

            nb = normalise_notebook(nbformat.read(str(job.output), as_version=4), job.section)
            self.store.put(job.section, key, notebook_text(nb).encode("utf-8"))
        except Exception:
            return


# --- the run record -----------------------------------------------------------------------------


def _published_files(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found[path.relative_to(folder).as_posix()] = _file_sha(path)
    return found


class BuildCache:
    """Everything the runner asks of the cache for one build of one quarter.

    ``up_to_date()`` before anything runs; ``wrap()`` the executor once the inputs are known
    (that is when the run's key is taken); ``record()`` after a successful publish.
    """

    def __init__(
        self,
        quarter: str,
        *,
        data: Path,
        out: Path,
        notebooks: Mapping[str, Path],
        command: str | None = None,
        executor: object | None = None,
        word: str = "",
    ) -> None:
        self.quarter = quarter
        self.word = word
        self.data = Path(data)
        self.out = Path(out)
        self.notebooks = dict(notebooks)
        self.command = command
        self.executor = executor_id(executor)
        self.record_path = self.out / CACHE_DIR / "runs" / f"{quarter}.json"
        self.inputs: list[Path] = []
        self.key_at_start: str | None = None
        self.wrapped: CachingExecutor | None = None

    def _run_key(self, inputs: Iterable[Path]) -> str:
        return run_key(
            self.quarter,
            data=self.data,
            notebooks=self.notebooks,
            command=self.command,
            executor=self.executor,
            extra_inputs=inputs,
            word=self.word,
        )

    def up_to_date(self) -> Path | None:
        """The published folder when nothing changed since it was built, else None."""
        try:
            record = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return None
        inputs = record.get("inputs")
        files = record.get("files")
        if not isinstance(inputs, list) or not isinstance(files, dict) or not files:
            return None
        if record.get("key") != self._run_key(Path(p) for p in inputs):
            return None
        folder = self.out / self.quarter
        if _published_files(folder) != files:
            return None  # a published file was edited or removed: build again
        return folder

    def unchanged(self) -> Path | None:
        """As :meth:`up_to_date`, but never raises: anything unusual means "build"."""
        try:
            return self.up_to_date()
        except Exception:
            return None

    def wrap(
        self,
        executor: Any,
        parameters: Mapping[str, Any],
        inputs: Iterable[Path],
        explained: frozenset[str] | None = None,
    ) -> Any:
        """``executor`` behind the section cache. Takes the run's key: call it after the inputs
        were validated and before anything runs. ``explained``: as ``RunContext.explained``."""
        self.inputs = [Path(p) for p in inputs]
        self.key_at_start = self._run_key(self.inputs)
        context = RunContext(
            quarter=self.quarter,
            data=self.data,
            inputs=tuple(self.inputs),
            parameters=dict(parameters),
            executor=self.executor,
            explained=explained,
        )
        self.wrapped = CachingExecutor(executor, SectionStore(self.out), context)
        return self.wrapped

    def record(self, folder: Path) -> None:
        """After a successful publish: remember the build, unless something changed while it
        ran (then the next build cannot be skipped, which is safe)."""
        if self.key_at_start is None or self._run_key(self.inputs) != self.key_at_start:
            return
        record = {
            "format": FORMAT,
            "quarter": self.quarter,
            "key": self.key_at_start,
            "inputs": [p.as_posix() for p in self.inputs],
            "files": _published_files(Path(folder)),
        }
        with contextlib.suppress(OSError):
            write_atomically(
                self.record_path, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()
            )


def folder(out: Path | None = None) -> Path:
    """The cache folder of an output folder (default ``outputs/``)."""
    return resolve(out, OUTPUTS_DIR).resolve() / CACHE_DIR


def clear(out: Path | None = None) -> None:
    """Delete the whole cache of an output folder."""
    shutil.rmtree(folder(out), ignore_errors=True)


def up_to_date(
    quarter: str,
    *,
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    word: str = "",
) -> Path | None:
    """For the command line, before anything heavy is imported: the published folder of
    ``quarter`` if a build with the default notebooks, sections and executor would change
    nothing, else None. ``word``: as ``run_key``. Never raises: anything unusual means
    "build"."""
    try:
        from scorecard_lib.core.quarters import parse_quarter

        q = parse_quarter(quarter)
        data = resolve(data_dir, DATA_DIR).resolve()
        out = resolve(out_dir, OUTPUTS_DIR).resolve()
        if not (out / CACHE_DIR / "runs" / f"{q.id}.json").is_file():
            return None
        notebooks = {s: notebook_path(s, NOTEBOOKS_DIR.resolve()) for s in SECTIONS}
        return BuildCache(q.id, data=data, out=out, notebooks=notebooks, word=word).up_to_date()
    except Exception:
        return None
