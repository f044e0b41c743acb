"""A fixed set of daemon worker threads that run the executor's attempts.

Why not `concurrent.futures.ThreadPoolExecutor`: its threads are joined when the
interpreter exits, so after a double Ctrl-C a model call that the executor abandoned
(a slow HTTP request) would still hold the process open for as long as the call takes.
Daemon threads let aita exit at once: an abandoned call simply dies with the process,
and its task was never journaled, so a resumed run runs it again.

The scheduler keeps at most twice `workers` jobs submitted at a time, so the queue stays
short and a worker that finishes finds its next job waiting.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

__all__ = ["WorkerPool"]

_Work = Callable[[], object]


class WorkerPool:
    """`workers` daemon threads, started by `start` or the first `submit`, taking work in
    submission order."""

    def __init__(self, workers: int, name: str = "aita-worker") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._workers = workers
        self._name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut_down = False

    def start(self) -> None:
        """Start the threads now rather than on the first `submit`. Idempotent.

        Starting ten threads takes a few milliseconds, during which the first jobs
        would start one after another instead of together.
        """
        with self._lock:
            if self._shut_down:
                raise RuntimeError("this worker pool is shut down")
            if not self._threads:
                self._start_threads()

    def submit(self, work: _Work) -> None:
        """Run `work()` on a worker thread. `work` must not raise (its errors are lost)."""
        self.start()
        self._queue.put(work)

    def shutdown(self, wait: bool = True) -> None:
        """Let every thread finish its current work and end; join them if `wait`.

        Work queued but not yet started still runs first. Idempotent.
        """
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()

    def _start_threads(self) -> None:
        for number in range(self._workers):
            thread = threading.Thread(target=self._run, name=f"{self._name}_{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            with contextlib.suppress(Exception):  # a worker must outlive a faulty job
                work()
            # An idle worker must not keep its last job (and through it a whole
            # finished batch) alive while it waits for the next one.
            del work
