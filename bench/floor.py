"""The no-kernel floor: section notebooks executed in this process, without Jupyter.

:class:`InProcessExecutor` implements the runner's ``Executor`` interface. For each notebook it
injects the parameters after the ``parameters`` cell (as papermill does), then runs every code
cell with ``exec`` in a fresh namespace and records the value of a cell's last expression as its
``execute_result`` (``text/html`` from ``_repr_html_``, ``text/plain`` from ``repr``), which is
what IPython shows for the objects our notebooks return. So ``run_quarter(...,
executor=InProcessExecutor())`` makes the *same library calls* (every notebook calls
``load_scorecard`` and then one facade method per cell), draws the same charts, and assembles
and publishes the report the same way; only kernels, ZeroMQ and papermill are gone.

It is a benchmark and a test tool (``tests/test_cache.py`` uses it to check the commentary
declarations in ``cache.COMMENTARY_READ`` without kernels); it is not the product.
"""

from __future__ import annotations

import ast
import contextlib
import os
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import nbformat

from scorecard_lib.build.executors import KERNEL_ENV, SectionJob, SectionOutcome

EventCallback = Callable[[str, str, float | None], None]


def _outputs(value: Any, count: int) -> list[Any]:
    if value is None:
        return []
    data = {"text/plain": repr(value)}
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        text = html()
        if text is not None:
            data["text/html"] = text
    return [nbformat.v4.new_output("execute_result", data=data, execution_count=count)]


def run_cell(source: str, namespace: dict[str, Any]) -> Any:
    """Run ``source``; return the value of its last line when that is an expression."""
    tree = ast.parse(source)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(last, "<cell>", "eval"), namespace)


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, object]) -> None:
    nb = nbformat.read(str(notebook), as_version=4)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if "parameters" in (cell.get("metadata", {}).get("tags") or []):
            source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
            injected = nbformat.v4.new_code_cell(source)
            injected.metadata["tags"] = ["injected-parameters"]
            cells.append(injected)
    nb.cells = cells
    namespace: dict[str, Any] = {"__name__": "__main__"}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        value = run_cell(cell.source, namespace)
        cell.outputs = _outputs(value, count)
    nb.metadata["papermill"] = {"parameters": dict(parameters)}
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(output))


class InProcessExecutor:
    """Runs every job one after another in this process (see the module docstring)."""

    cache_token = "in-process"

    def run(
        self,
        jobs: Sequence[SectionJob],
        *,
        max_workers: int | None = None,
        on_event: EventCallback | None = None,
    ) -> list[SectionOutcome]:
        emit: EventCallback = on_event or (lambda _s, _e, _t: None)
        os.environ.update(KERNEL_ENV)
        if hasattr(time, "tzset"):
            time.tzset()
        outcomes = []
        for job in jobs:
            emit(job.section, "started", None)
            start = time.perf_counter()
            here = Path.cwd()
            try:
                if job.cwd is not None:
                    os.chdir(job.cwd)
                execute_notebook(job.notebook, job.output, dict(job.parameters))
                outcome = SectionOutcome(
                    section=job.section,
                    ok=True,
                    output=job.output,
                    seconds=time.perf_counter() - start,
                    output_written=True,
                )
            except Exception as exc:
                outcome = SectionOutcome(
                    section=job.section,
                    ok=False,
                    output=job.output,
                    seconds=time.perf_counter() - start,
                    error="".join(traceback.format_exception_only(exc)).strip(),
                    ename=type(exc).__name__,
                )
            finally:
                with contextlib.suppress(OSError):
                    os.chdir(here)
            emit(job.section, "finished" if outcome.ok else "failed", outcome.seconds)
            outcomes.append(outcome)
        return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    """``python bench/floor.py QUARTER [--data DIR] --out DIR``: one build without kernels."""
    import argparse

    from scorecard_lib.build.runner import run_quarter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("quarter")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run_quarter(
        args.quarter, data_dir=args.data, out_dir=args.out, executor=InProcessExecutor()
    )
    print(f"{result.report} in {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
