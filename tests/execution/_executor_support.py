"""Shared fakes for the executor tests: real implementations, no mocks."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aita_cli.execution.executor import ParallelLLMExecutor
from aita_cli.execution.progress import ProgressSnapshot
from aita_cli.execution.tasks import BatchableLLMTask, LLMTask, SimpleLLMTask
from aita_cli.llm.base import LLMClient
from aita_cli.llm.messages import LLMMessage, MessageLike


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(seconds, 0.0)


class RecordingReporter:
    """A ProgressReporter that keeps what it was told."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int, int]] = []
        self.snapshots: list[ProgressSnapshot] = []
        self.finished: list[ProgressSnapshot] = []

    def start(self, description: str, total: int, completed: int = 0) -> None:
        self.started.append((description, total, completed))

    def update(self, snapshot: ProgressSnapshot) -> None:
        self.snapshots.append(snapshot)

    def finish(self, snapshot: ProgressSnapshot) -> None:
        self.finished.append(snapshot)


def make_executor(
    client: LLMClient, checkpoint_dir: Path | None = None, **options: Any
) -> ParallelLLMExecutor:
    """An executor with fast test defaults (no rate limit, no progress output)."""
    options.setdefault("rate_limit", 0.0)
    options.setdefault("show_progress", False)
    options.setdefault("enable_checkpointing", checkpoint_dir is not None)
    return ParallelLLMExecutor(client, checkpoint_dir=checkpoint_dir, **options)


def number_tasks(count: int, prefix: str = "t") -> list[LLMTask]:
    """Tasks "t0".."tN" whose prompt is their id and whose reply parses as an int."""
    return [SimpleLLMTask(f"{prefix}{i}", f"{prefix}{i}", int) for i in range(count)]


class DependentTask(SimpleLLMTask):
    """Puts its dependencies' results into its prompt."""

    def build_messages(self) -> list[LLMMessage]:
        known = ", ".join(f"{k}={v}" for k, v in sorted(self.dependency_results.items()))
        return [LLMMessage.user(f"{self.prompt} given {known}")]


class CountingTask(SimpleLLMTask):
    """Counts on_success calls (resume must call it too)."""

    def __init__(self, task_id: str, prompt: str) -> None:
        super().__init__(task_id, prompt, int)
        self.successes: list[Any] = []

    def on_success(self, result: Any) -> None:
        self.successes.append(result)


class SolveTask(BatchableLLMTask):
    """A batchable task: "solve <id>" answers one; combined, "batch: a,b" answers many."""

    def __init__(self, task_id: str, group: str = "g") -> None:
        super().__init__(task_id)
        self.group = group

    def build_messages(self) -> list[MessageLike]:
        return [{"role": "user", "content": f"solve {self.task_id}"}]

    def parse_response(self, text: str) -> Any:
        return json.loads(text)

    def can_batch_with(self, other: LLMTask) -> bool:
        return isinstance(other, SolveTask) and other.group == self.group

    def combine_with(self, others: Sequence[LLMTask]) -> LLMTask:
        return CombinedSolve(f"batch-{self.task_id}", [self, *others])

    def split_batch_result(self, result: Any) -> dict[str, Any]:
        return dict(result)


class CombinedSolve(LLMTask):
    """What SolveTask.combine_with builds."""

    def __init__(self, task_id: str, members: Sequence[LLMTask]) -> None:
        super().__init__(task_id)
        self.member_ids = [member.task_id for member in members]

    def build_messages(self) -> list[MessageLike]:
        return [{"role": "user", "content": "batch: " + ",".join(self.member_ids)}]

    def parse_response(self, text: str) -> Any:
        return json.loads(text)


def solve_reply(drop: frozenset[str] = frozenset()) -> Any:
    """A reply_fn answering SolveTask and CombinedSolve prompts (minus `drop` ids)."""

    def reply(messages: list[LLMMessage], params: dict[str, Any]) -> str:
        text = messages[0].text
        if text.startswith("batch: "):
            ids = text.removeprefix("batch: ").split(",")
            return json.dumps({i: f"answer {i}" for i in ids if i not in drop})
        return json.dumps(f"answer {text.removeprefix('solve ')}")

    return reply


def journal_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a journal, parsed."""
    lines = path.read_bytes().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def run_script(script: str) -> str:
    """Run `script` in a fresh Python from the repository root (for limits such as a
    file size cap that must not touch the test process); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parents[2],
        check=True,
    )
    return done.stdout
