"""Run a command and measure its wall time, the CPU time and the peak memory of its whole
process tree (the command, its worker processes and the kernels they start).

The tree is sampled every ``interval`` seconds with psutil: CPU time is the sum over every
process seen of its last sampled ``user + system`` time (a process that lives less than one
interval may be missed; that errs low), peak memory is the largest sum of resident set sizes
seen at one sample (it errs low by what happens between samples).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu_seconds: float
    peak_rss: int  # bytes
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    interval: float = 0.05,
    check: bool = True,
) -> Measured:
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = psutil.Process(proc.pid)
    cpu: dict[tuple[int, float], float] = {}
    peak = 0
    out_chunks: list[str] = []
    err_chunks: list[str] = []

    # Read the pipes in threads so a chatty command never blocks on a full pipe.
    import threading

    def drain(stream, chunks):  # type: ignore[no-untyped-def]
        for line in stream:
            chunks.append(line)

    readers = [
        threading.Thread(target=drain, args=(proc.stdout, out_chunks), daemon=True),
        threading.Thread(target=drain, args=(proc.stderr, err_chunks), daemon=True),
    ]
    for r in readers:
        r.start()
    while True:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        rss = 0
        for p in procs:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    rss += p.memory_info().rss
                    cpu[(p.pid, p.create_time())] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        peak = max(peak, rss)
        if proc.poll() is not None:
            break
        time.sleep(interval)
    seconds = time.perf_counter() - start
    for r in readers:
        r.join(timeout=5)
    result = Measured(
        seconds=seconds,
        cpu_seconds=sum(cpu.values()),
        peak_rss=peak,
        returncode=proc.returncode,
        stdout="".join(out_chunks),
        stderr="".join(err_chunks),
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {proc.returncode}:\n{result.stderr[-3000:]}"
        )
    return result
