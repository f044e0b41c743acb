"""The executor's worker threads: daemon, ordered, and holding nothing after a batch."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.execution.worker_pool import WorkerPool
from aita_cli.simulate.scripted import ScriptedLLMClient
from tests.execution._executor_support import make_executor


def test_work_runs_on_daemon_threads_and_a_faulty_job_does_not_kill_a_worker() -> None:
    pool = WorkerPool(1)
    seen: list[bool] = []
    done = threading.Event()

    def faulty() -> None:
        raise RuntimeError("bug")

    pool.submit(faulty)
    pool.submit(lambda: seen.append(threading.current_thread().daemon))
    pool.submit(done.set)
    assert done.wait(5.0)
    pool.shutdown(wait=True)
    assert seen == [True]
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(done.set)


def test_shutdown_without_waiting_returns_while_work_is_still_running() -> None:
    pool = WorkerPool(2)
    release = threading.Event()
    pool.submit(lambda: release.wait(5.0))
    pool.shutdown(wait=False)  # returns at once: the held job is abandoned
    release.set()
    pool.shutdown(wait=True)  # idempotent


def test_a_finished_batch_is_not_kept_alive_by_idle_workers() -> None:
    client = ScriptedLLMClient(lambda m, p: "1", record_calls=False)
    tasks = [SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(20)]
    watched = weakref.ref(tasks[-1])
    with make_executor(client, max_workers=3) as executor:
        result = executor.execute_batch(tasks)
        assert result.success_rate == 100.0
        del tasks, result
        gc.collect()
        assert watched() is None
