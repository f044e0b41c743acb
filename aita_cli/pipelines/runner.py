"""What every pipeline run shares: settings, the assignment, one client and one executor.

`open_run` is the single place that turns command-line options into a ready run, and
closes the executor and the client afterwards, whatever happens. `OutcomeBuilder` is the
single place that turns a finished run into a `RunOutcome` (exit code, resume hint, time).
The small helpers below keep the pipelines' checkpoint names and dry-run estimates alike.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aita_cli.config import Settings, load_settings
from aita_cli.domain.assignment import Assignment, load_assignment
from aita_cli.errors import (
    EXIT_BUDGET,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TASKS_FAILED,
    EXIT_USAGE,
    ConfigError,
)
from aita_cli.execution.executor import ParallelLLMExecutor, create_executor
from aita_cli.execution.results import BatchExecutionResult
from aita_cli.llm.base import LLMClient
from aita_cli.llm.factory import create_client
from aita_cli.llm.pricing import price_table_from_settings
from aita_cli.pipelines.outcome import DetailT, RunOutcome
from aita_cli.store import Store

__all__ = [
    "CostEstimate",
    "OutcomeBuilder",
    "RunContext",
    "RunOptions",
    "checkpoint_name",
    "estimate_cost",
    "exit_code_for",
    "open_run",
    "resume_command",
    "retry_count",
]


@dataclass(frozen=True)
class RunOptions:
    """The shared options of one run, as given on the command line (None = not given).

    The CLI builds it from flags; benchmarks and embedding programs build it directly.
    """

    assignment: str
    data_dir: Path | None = None
    resume: bool = False
    force: bool = False
    dry_run: bool = False
    workers: int | None = None
    rate_limit: float | None = None
    max_cost: float | None = None
    tpm: int | None = None
    provider: str | None = None
    model: str | None = None
    no_cache: bool = False

    def settings_overrides(self) -> dict[str, Any]:
        """Flags that override the environment (None = not given)."""
        return {
            "data_dir": self.data_dir,
            "max_workers": self.workers,
            "rate_limit_rps": self.rate_limit,
            # 0 is not "no budget": it reaches Settings and is refused there, one line.
            "max_cost": self.max_cost,
            "tokens_per_minute": self.tpm,
            "provider": self.provider,
            "model": self.model,
            "no_cache": True if self.no_cache else None,  # absent: the environment decides
        }


@dataclass
class RunContext:
    """Everything a pipeline needs for one command run."""

    options: RunOptions
    settings: Settings
    assignment: Assignment
    client: LLMClient
    executor: ParallelLLMExecutor


@contextmanager
def open_run(
    options: RunOptions,
    *,
    need_vision: bool = False,
    client: LLMClient | None = None,
    executor_overrides: Mapping[str, Any] | None = None,
) -> Iterator[RunContext]:
    """Load settings (flags over environment), the assignment, a client and an executor.

    Raises ConfigError / InputError before anything is created when the input is bad.
    The executor, and the client when this function created it, are closed when the
    block ends. `client` and `executor_overrides` (e.g. an injected `sleep`) are the
    seams tests and embedding programs use; the CLI passes neither.
    """
    settings = load_settings(**options.settings_overrides())
    assignment = load_assignment(settings.data_dir, options.assignment)
    # The ledger and cache (a dry run writes nothing, so it opens none); a broken or
    # unwritable database stops the run here, with one line saying what to do.
    store = None if options.dry_run else Store.open(settings.cache_dir)
    owned_client = client is None
    try:
        active_client = create_client(settings) if client is None else client
    except BaseException:
        if store is not None:
            store.close()
        raise
    try:
        if need_vision and not active_client.supports_vision:
            raise ConfigError(
                f"{active_client.describe()} cannot read images: set AITA_VISION_MODEL to "
                "a vision-capable model, or use --provider offline"
            )
        overrides = {
            "store": store,
            "use_cache": not settings.no_cache,
            **_local_pacing(settings, active_client),
            **(executor_overrides or {}),
        }
        executor = create_executor(active_client, settings=settings, **overrides)
        try:
            yield RunContext(options, settings, assignment, active_client, executor)
        finally:
            executor.close()
    finally:
        if owned_client:
            active_client.close()
        if store is not None:
            store.close()


# A local backend (offline OCR) reads one page at a time on every core; two workers keep
# it busy (one renders the next page while the other is read). More only hold pages in
# memory: measured on the sample, 5 workers took 10.3 s and 1.2 GB, 2 took 8.5 s and
# 0.75 GB.
_LOCAL_WORKERS = 2


def _local_pacing(settings: Settings, client: LLMClient) -> dict[str, Any]:
    """A local backend's own defaults, where the user did not choose.

    The 10/s rate default protects a remote provider; a local backend has none, so
    pacing it only slows a local run down. Its work runs on this machine's cores, so
    workers beyond two only cost memory. An explicit flag or AITA_* value (including
    one from .env) is still honoured: `model_fields_set` holds what was given.
    """
    if not client.is_local:
        return {}
    given = settings.model_fields_set
    overrides: dict[str, Any] = {}
    if "rate_limit_rps" not in given:
        overrides["rate_limit"] = 0.0
    if "max_workers" not in given:
        overrides["max_workers"] = min(settings.max_workers, _LOCAL_WORKERS)
    return overrides


def checkpoint_name(assignment: str, operation: str) -> str:
    """The journal name for one operation on one assignment, e.g. "midterm_rubric"."""
    return f"{assignment}_{operation}"


def exit_code_for(result: BatchExecutionResult) -> int:
    """The exit code for a finished batch (docs/architecture.md): a stop beats failures,
    which beat success."""
    if result.stopped == "interrupted":
        return EXIT_INTERRUPTED
    if result.stopped == "budget":
        return EXIT_BUDGET
    if result.stopped == "fatal":
        return EXIT_USAGE  # a rejected key, no credits, no OCR: configuration to fix
    if result.failed_results:
        return EXIT_TASKS_FAILED
    return EXIT_OK


class OutcomeBuilder:
    """Builds every pipeline's `RunOutcome` alike: exit code, resume hint and time.

    Made when the run starts, so the time covers all the user waited for (settings, the
    batch, writing the outputs). `resume_args` are the command's own options a resume
    must repeat, e.g. ("--student", "alice"); the shared ones come from the options.
    """

    def __init__(
        self,
        command: str,
        *,
        resume_args: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._command = command
        self._resume_args = tuple(resume_args)
        self._clock = clock
        self._started = clock()

    def build(
        self,
        context: RunContext,
        detail: DetailT,
        *,
        batch: BatchExecutionResult | None = None,
        warnings: Sequence[str] = (),
        notices: Sequence[str] = (),
        outputs: Sequence[Path] = (),
        failed: bool = False,
    ) -> RunOutcome[DetailT]:
        """The outcome of the run in `context`, now. `notices` come before the batch's
        own; `failed` says something failed outside the batch (a submission that could
        not be read), which makes an otherwise clean run exit 1."""
        code = exit_code_for(batch) if batch is not None else EXIT_OK
        if code == EXIT_OK and failed:
            code = EXIT_TASKS_FAILED
        return RunOutcome(
            assignment=context.assignment.name,
            exam_name=context.assignment.exam.exam_name,
            provider=context.client.describe(),
            detail=detail,
            batch=batch,
            dry_run=context.options.dry_run,
            warnings=list(warnings),
            notices=[*notices, *(batch.notices if batch is not None else ())],
            outputs=list(outputs),
            exit_code=code,
            resume_hint=self._resume_hint(context.options, batch),
            elapsed_s=self._clock() - self._started,
        )

    def _resume_hint(self, options: RunOptions, batch: BatchExecutionResult | None) -> str | None:
        # Failed tasks run again on resume, so a run with failures is resumable too.
        if batch is None or (batch.stopped is None and not batch.failed_results):
            return None
        return resume_command(self._command, options, self._resume_args)


def retry_count(result: BatchExecutionResult) -> int:
    """Attempts this run made beyond each task's first: what the progress line calls
    retries (tasks restored from the checkpoint made none in this run)."""
    return sum(max(0, item.attempts - 1) for item in result.task_results if not item.resumed)


def resume_command(command: str, options: RunOptions, extra: Sequence[str] = ()) -> str:
    """The command line that continues an interrupted or budget-stopped run: the same
    assignment, data dir, provider and model as given, so it works from where it ran,
    then `extra`: the command's own options that narrowed the run (`--student alice`),
    so resuming does not widen it."""
    words = ["aita", command, "--assignment", options.assignment]
    if options.data_dir is not None:
        words += ["--data-dir", str(options.data_dir)]
    if options.provider:
        words += ["--provider", options.provider]
    if options.model:
        words += ["--model", options.model]
    return shlex.join([*words, "--resume", *extra])


@dataclass(frozen=True)
class CostEstimate:
    """A dry run's guess at what a run would cost. `local`: the backend runs here and
    costs nothing (offline)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    price_known: bool
    local: bool = False


def estimate_cost(
    context: RunContext, prompt_tokens: int, completion_tokens: int, *, vision: bool = False
) -> CostEstimate:
    """Price planned tokens for the run's model with the configured price table (0.0 for
    unknown models and for a local backend)."""
    client = context.client
    model = client.model_for(vision=vision)
    if client.is_local:
        return CostEstimate(model, prompt_tokens, completion_tokens, 0.0, True, local=True)
    prices = price_table_from_settings(context.settings)
    return CostEstimate(
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=prices.cost(model, prompt_tokens, completion_tokens),
        price_known=prices.is_known(model),
    )
