"""What a pipeline run hands back, in one shape for every command.

A `RunOutcome` holds what all runs share (the batch, messages, outputs, exit code, how to
resume, time) and a pipeline's own part in `detail`: the rubric's failures, the
transcription's students, a dry run's plan. `runner.OutcomeBuilder` builds it, so every
pipeline gets its exit code, resume hint and time the same way; the CLI renders it.

The figures that come from the batch (stopped, not started, tasks done, metrics) are read
from it here rather than copied out, so there is one place that says what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from aita_cli.errors import EXIT_OK
from aita_cli.execution.results import BatchExecutionResult, ExecutionMetrics

__all__ = ["DetailT", "RunOutcome"]

DetailT = TypeVar("DetailT")


@dataclass
class RunOutcome(Generic[DetailT]):
    """What one run (or dry run) did, for the CLI to render."""

    assignment: str
    exam_name: str
    provider: str  # the client's own description, as announced
    detail: DetailT  # the pipeline's own part
    batch: BatchExecutionResult | None = None  # None when nothing needed a model
    dry_run: bool = False  # then `detail` holds the plan and nothing ran
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    exit_code: int = EXIT_OK
    resume_hint: str | None = None
    elapsed_s: float = 0.0

    @property
    def metrics(self) -> ExecutionMetrics | None:
        """The batch's totals (None when no batch ran)."""
        return self.batch.metrics if self.batch is not None else None

    @property
    def stopped(self) -> str | None:
        """Why the batch stopped early ("interrupted", "budget", "fatal"), if it did."""
        return self.batch.stopped if self.batch is not None else None

    @property
    def not_started(self) -> list[str]:
        """Ids of the tasks an early stop left for --resume."""
        return list(self.batch.not_started) if self.batch is not None else []

    @property
    def checkpoint_path(self) -> Path | None:
        """The journal this run wrote, if any."""
        return self.batch.checkpoint_path if self.batch is not None else None

    @property
    def tasks_total(self) -> int:
        """Tasks in the batch: done, failed and not started alike."""
        return len(self.batch.task_results) if self.batch is not None else 0

    @property
    def tasks_done(self) -> int:
        """Tasks that succeeded, those restored from the checkpoint included."""
        return len(self.batch.successful_results) if self.batch is not None else 0

    @property
    def tasks_resumed(self) -> int:
        """Tasks restored from the checkpoint rather than run again."""
        return self.batch.metrics.resumed_tasks if self.batch is not None else 0
