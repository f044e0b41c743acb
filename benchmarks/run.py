"""`make bench`: speed-up of the real pipelines over HTTP against `aita simulate`.

Two workloads, as in the original performance table: rubric generation for 20 questions
(20 answer-key tasks + 20 rubric tasks that each depend on their key) and transcription of
100 pages (10 students x 10 page images). Each runs sequentially and at 5 and 10 workers.
Latencies are real model latencies scaled down 100x (6 s per text call -> 60 ms, 8 s per
vision call -> 80 ms, jitter +-10%) and the rate limit scaled up 100x (10/s -> 1000/s).
The simulator runs as a separate process, as a provider would, and on a machine with
several CPUs it gets one of its own: a real provider does not compete with aita for the
client's CPU.

`seconds` is the wall time of the executor's batch (what parallelism can speed up): the
median of five sequential runs and of seven parallel ones, each drawing fresh latencies,
so the figure estimates the typical run rather than one draw of the jitter. Setup and
output writing are reported separately as `total_seconds`.

Two more parts add keys beside those: "admission" (`benchmarks.admission`) and "grade"
(`benchmarks.grade`: `aita grade` from nothing, one streaming batch against the three
commands one after the other). `python -m benchmarks.run grade` (or `make bench
PARTS=grade`) runs only the parts named (`speedup` is the table above) and keeps the
other parts' keys of `latest.json` as they were.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.admission import run_admission
from benchmarks.grade import run_grade_bench
from benchmarks.overhead import measure_overhead
from benchmarks.workloads import (
    make_rubric_assignment,
    make_transcription_assignment,
    point_at_simulator,
)

RESULTS = Path(__file__).parent / "results" / "latest.json"
PARTS = ("speedup", "admission", "grade")
WORKER_COUNTS = (1, 5, 10)
SCALE = 100.0
RUBRIC_LATENCY_S = 6.0 / SCALE
VISION_LATENCY_S = 8.0 / SCALE
RATE_LIMIT_RPS = 10.0 * SCALE
# Runs per configuration; the median is reported. With +-10% jitter a 10-worker rubric
# batch (4 calls per worker) can lose or gain 0.2x by the luck of one draw alone.
SEQUENTIAL_REPEATS = 5
PARALLEL_REPEATS = 7


@dataclass(frozen=True)
class Row:
    workload: str
    workers: int
    tasks: int
    seconds: float
    total_seconds: float
    speedup: float
    ideal_speedup: float
    efficiency: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def simulator(latency: float, *limits: str) -> Iterator[str]:
    """`aita simulate` in its own process, on a CPU of its own when there are several,
    with `limits` as extra flags (`--rps 20`); yields its base URL."""
    command = [sys.executable, "-m", "aita_cli", "simulate", "--port", "0"]
    command += ["--latency", str(latency), "--jitter", "0.1", "--seed", "7", *limits]
    with _cores_split() as (simulator_cores, bench_cores):
        # A child inherits the CPUs of the thread that starts it: this one takes the
        # simulator's for a moment. The threads a run starts later inherit the others.
        _set_cores(simulator_cores)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        _set_cores(bench_cores)
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline().strip()
            if not first_line.startswith("listening on "):
                raise RuntimeError(f"aita simulate did not start: {first_line!r}")
            yield first_line.removeprefix("listening on ")
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def _cores_split() -> Iterator[tuple[set[int], set[int]]]:
    """(the simulator's CPU, the others) for the block, then every CPU again. Both are
    empty, and nothing is pinned, on one CPU or where affinity is not available.

    Affinity is set for this thread (the benchmark's only one at that point) and passed
    on to the threads it starts."""
    cores: set[int] = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
    if len(cores) < 2:
        yield set(), set()
        return
    last = max(cores)
    try:
        yield {last}, cores - {last}
    finally:
        _set_cores(cores)


def _set_cores(cores: set[int]) -> None:
    """Run this thread, and the threads and processes it starts from now, on `cores`."""
    if cores:
        os.sched_setaffinity(0, cores)


def ideal_speedup(tasks: int, chain_length: int, workers: int) -> float:
    """Best possible speed-up for equal-latency tasks in chains of `chain_length`."""
    return tasks / max(chain_length, math.ceil(tasks / workers))


def _run_workload(workload: str, data_dir: Path, workers: int) -> tuple[int, float, float]:
    """Run one workload once; returns (tasks, batch seconds, total seconds)."""
    from aita_cli.pipelines.rubric import run_generate_rubric
    from aita_cli.pipelines.runner import RunOptions
    from aita_cli.pipelines.transcribe import run_transcribe

    options = RunOptions(
        assignment=workload,
        data_dir=data_dir,
        force=True,
        workers=workers,
        rate_limit=RATE_LIMIT_RPS,
    )
    outcome = run_generate_rubric(options) if workload == "rubric" else run_transcribe(options)
    metrics = outcome.metrics
    if metrics is None or metrics.failed_tasks:
        raise RuntimeError(f"{workload} at {workers} workers did not complete cleanly")
    return metrics.total_tasks, metrics.elapsed, outcome.elapsed_s


def _median_run(workload: str, data_dir: Path, workers: int) -> tuple[int, float, float]:
    """The median of several runs: a 10-worker rubric batch lasts about 0.27 s, so one
    scheduler hiccup on a shared machine would otherwise move its speed-up by 0.3x."""
    repeats = SEQUENTIAL_REPEATS if workers == 1 else PARALLEL_REPEATS
    runs = sorted(
        (_run_workload(workload, data_dir, workers) for _ in range(repeats)),
        key=lambda run: run[1],
    )
    return runs[len(runs) // 2]


def _bench_workload(workload: str, data_dir: Path, latency: float, chain: int) -> list[Row]:
    rows: list[Row] = []
    with simulator(latency) as url:
        point_at_simulator(url, data_dir.parent)
        _run_workload(workload, data_dir, 2)  # warm-up: imports, connections, OCR-free
        baseline = 0.0
        for workers in WORKER_COUNTS:
            tasks, seconds, total = _median_run(workload, data_dir, workers)
            baseline = baseline or seconds
            speedup = baseline / seconds
            ideal = ideal_speedup(tasks, chain, workers)
            rows.append(
                Row(workload, workers, tasks, seconds, total, speedup, ideal, speedup / ideal)
            )
    return rows


def _print_table(rows: list[Row], overhead_ms: float) -> None:
    print(
        f"{'workload':<14}{'workers':>8}{'tasks':>7}{'seconds':>9}{'speedup':>9}"
        f"{'ideal':>7}{'efficiency':>12}"
    )
    for row in rows:
        print(
            f"{row.workload:<14}{row.workers:>8}{row.tasks:>7}{row.seconds:>9.3f}"
            f"{row.speedup:>8.2f}x{row.ideal_speedup:>6.1f}x{row.efficiency:>12.3f}"
        )
    print(f"executor overhead: {overhead_ms:.4f} ms per task (10,000 instant tasks, journaled)")


def _speedup() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aita-bench-") as directory:
        data_dir = Path(directory) / "data"
        make_rubric_assignment(data_dir / "rubric", questions=20)
        make_transcription_assignment(data_dir / "transcription", students=10, pages=10)
        rows = _bench_workload("rubric", data_dir, RUBRIC_LATENCY_S, chain=2)
        rows += _bench_workload("transcription", data_dir, VISION_LATENCY_S, chain=1)
    overhead_ms = measure_overhead(10_000)
    _print_table(rows, overhead_ms)
    return {"rows": [row.as_json() for row in rows], "overhead_ms_per_task": overhead_ms}


def _parts(argv: Sequence[str] | None) -> list[str]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Run the benchmark parts named (all without) and write latest.json; "
        "the keys of parts not run are kept as they were.",
    )
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"one of {', '.join(PARTS)}")
    named: list[str] = parser.parse_args(argv).parts
    for part in named:
        if part not in PARTS:
            parser.error(f"unknown part {part!r} (parts: {', '.join(PARTS)})")
    return [part for part in PARTS if part in named or not named]


def _previous_report() -> dict[str, Any]:
    try:
        data = orjson.loads(RESULTS.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def main(argv: Sequence[str] | None = None) -> None:
    parts = _parts(argv)
    report = {} if len(parts) == len(PARTS) else _previous_report()
    if "speedup" in parts:
        report.update(_speedup())
    if "admission" in parts:
        report["admission"] = run_admission(RUBRIC_LATENCY_S, simulator)
    if "grade" in parts:
        report["grade"] = run_grade_bench(RUBRIC_LATENCY_S, simulator)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
