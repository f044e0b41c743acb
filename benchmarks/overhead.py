"""The executor's own cost per task: instant tasks, journaling on, no rate limit.

    python -m benchmarks.overhead [N]

What is measured is everything but the model: scheduling, the worker hand-off, parsing,
the cost ledger, progress snapshots and one journal record per task (fsynced every
`checkpoint_interval` records, as in a real run).
"""

from __future__ import annotations

import sys
import tempfile
import time

from aita_cli.execution.executor import ParallelLLMExecutor
from aita_cli.execution.tasks import LLMTask, SimpleLLMTask
from aita_cli.simulate.scripted import ScriptedLLMClient

__all__ = ["measure_overhead"]


def _tasks(count: int, prefix: str) -> list[LLMTask]:
    return [SimpleLLMTask(f"{prefix}{i}", f"question {prefix}{i}", int) for i in range(count)]


def measure_overhead(n: int = 10_000) -> float:
    """Milliseconds of executor overhead per task, for `n` instant tasks."""
    client = ScriptedLLMClient(lambda messages, params: "42", record_calls=False)
    with tempfile.TemporaryDirectory(prefix="aita-overhead-") as directory:
        executor = ParallelLLMExecutor(
            client, rate_limit=0.0, checkpoint_dir=directory, show_progress=False
        )
        with executor:
            executor.execute_batch(_tasks(200, "warmup"))  # start the worker threads
            tasks = _tasks(n, "t")
            started = time.perf_counter()
            result = executor.execute_batch(tasks, checkpoint_name="overhead_bench")
            elapsed = time.perf_counter() - started
    if result.metrics.completed_tasks != n:
        raise RuntimeError(f"only {result.metrics.completed_tasks} of {n} tasks completed")
    return elapsed * 1000.0 / n


def main(argv: list[str]) -> None:
    count = int(argv[1]) if len(argv) > 1 else 10_000
    print(f"executor overhead: {measure_overhead(count):.4f} ms per task ({count} tasks)")


if __name__ == "__main__":
    main(sys.argv)
