"""`aita transcribe`: every page of every student as ONE batch on the shared executor,
then one transcript per student and an index, each written atomically.

Students are not run one after another: their pages share the worker pool, so a long
submission does not hold the others up. A student whose submission cannot be read fails
alone; everyone else still completes. Nothing here touches Rich: the CLI renders the
returned `TranscribeOutcome` (a `RunOutcome` with a `TranscribeDetail`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aita_cli.domain.submissions import StudentSubmission, SubmissionScan, scan_submissions
from aita_cli.execution.results import BatchExecutionResult
from aita_cli.llm import tokens
from aita_cli.pipelines.outcome import RunOutcome
from aita_cli.pipelines.runner import (
    CostEstimate,
    OutcomeBuilder,
    RunContext,
    RunOptions,
    checkpoint_name,
    estimate_cost,
    open_run,
)
from aita_cli.pipelines.transcribe_tasks import PageTranscriptionTask
from aita_cli.pipelines.transcript_store import (
    complete_students,
    page_tasks,
    render_settings,
    student_transcript,
    transcripts_dir,
    write_transcripts,
)
from aita_cli.pipelines.transcripts import (
    COMPLETE,
    summarise_transcript,
)

__all__ = [
    "COMPLETION_TOKENS_PER_PAGE",
    "OPERATION",
    "TranscribeDetail",
    "TranscribeOutcome",
    "TranscribePlan",
    "run_transcribe",
    "transcripts_dir",
]

OPERATION = "transcribe"
# A typical reply: the page's text plus its answers. (A page image is counted from its
# pixel size, by `aita_cli.llm.tokens`.)
COMPLETION_TOKENS_PER_PAGE = 500
_NAMES_SHOWN = 10  # students named in one notice line


@dataclass(frozen=True)
class TranscribePlan:
    """What a run would do: pages per student and an estimate of tokens and cost."""

    pages_per_student: dict[str, int]
    pages: int
    image_tokens: int
    estimate: CostEstimate


@dataclass
class TranscribeDetail:
    """transcribe's own part of its outcome."""

    students: list[dict[str, Any]] = field(default_factory=list)  # index rows, this run
    kept: list[str] = field(default_factory=list)  # complete transcripts left as they were
    plan: TranscribePlan | None = None  # set by --dry-run

    @property
    def failed_students(self) -> list[dict[str, Any]]:
        """This run's students whose transcript is not complete."""
        return [row for row in self.students if row["status"] != COMPLETE]


TranscribeOutcome: TypeAlias = RunOutcome[TranscribeDetail]


def run_transcribe(
    options: RunOptions,
    students: Sequence[str] = (),
    *,
    announce: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TranscribeOutcome:
    """Transcribe the assignment's submissions (only `students`, by name, when given).

    `announce` receives short lines worth showing before the long part starts (which
    provider was picked), as for generate-rubric.
    """
    # Resuming repeats the --student filter, so it does not widen the run.
    again = [arg for name in students for arg in ("--student", name)]
    outcome = OutcomeBuilder(OPERATION, resume_args=again, clock=clock)
    with open_run(options, need_vision=True) as context:
        if announce is not None:
            announce(f"using {context.client.describe()}")
        return _run(context, students, outcome)


def _run(context: RunContext, only: Sequence[str], outcome: OutcomeBuilder) -> TranscribeOutcome:
    assignment = context.assignment
    # The index covers everyone; --student narrows only what runs (and its warnings).
    everyone = scan_submissions(assignment)
    scan = scan_submissions(assignment, only) if only else everyone
    render = render_settings(context)
    kept = _kept(context, scan, render)
    todo = [student for student in scan.students if student.output_name not in kept]
    detail = TranscribeDetail(kept=[s.name for s in scan.students if s.output_name in kept])
    tasks = {student.output_name: page_tasks(context, student) for student in todo}
    if context.options.dry_run:
        detail.plan = _plan(context, todo, tasks)
        would_fail = [f"{s.name} would fail: {problem}" for s in todo for problem in s.problems]
        warnings = [*scan.warnings, *would_fail]
        return outcome.build(context, detail, warnings=warnings, notices=_kept_notices(detail))
    batch = _execute(context, [task for group in tasks.values() for task in group])
    transcripts = [
        student_transcript(context, student, tasks[student.output_name], batch, render)
        for student in todo
    ]
    outputs = write_transcripts(context, everyone.students, transcripts, scan.warnings)
    detail.students = [summarise_transcript(transcript) for transcript in transcripts]
    return outcome.build(
        context,
        detail,
        batch=batch,
        warnings=scan.warnings,
        notices=_kept_notices(detail),
        outputs=outputs,
        failed=bool(detail.failed_students),  # a submission that could not even be read
    )


def _kept(context: RunContext, scan: SubmissionScan, render: dict[str, Any]) -> set[str]:
    """Output names of the complete transcripts this run keeps (none with --force)."""
    if context.options.force:
        return set()
    return complete_students(
        context.assignment, scan.students, render, accept_offline=context.client.is_local
    )


def _kept_notices(detail: TranscribeDetail) -> list[str]:
    if not detail.kept:
        return []
    names = ", ".join(detail.kept[:_NAMES_SHOWN])
    if len(detail.kept) > _NAMES_SHOWN:
        names += f" and {len(detail.kept) - _NAMES_SHOWN} more"
    return [
        f"kept {len(detail.kept)} complete transcript(s) ({names}); "
        "use --force to transcribe them again"
    ]


def _plan(
    context: RunContext,
    students: Sequence[StudentSubmission],
    tasks: dict[str, list[PageTranscriptionTask]],
) -> TranscribePlan:
    all_tasks = [task for group in tasks.values() for task in group]
    messages = [message for task in all_tasks for message in task.build_messages()]
    text_tokens = sum(tokens.text_tokens(message.text) for message in messages)
    image_tokens = sum(
        tokens.attachment_tokens(image) for message in messages for image in message.images
    )
    estimate = estimate_cost(
        context,
        text_tokens + image_tokens,
        COMPLETION_TOKENS_PER_PAGE * len(all_tasks),
        vision=True,
    )
    # alice.pdf and alice/ are two students of one name: two rows, told apart by their
    # output names, never one row hiding the other's pages.
    names = Counter(student.name for student in students)
    return TranscribePlan(
        pages_per_student={
            (f"{s.name} ({s.output_name})" if names[s.name] > 1 else s.name): len(s.pages)
            for s in students
        },
        pages=len(all_tasks),
        image_tokens=image_tokens,
        estimate=estimate,
    )


def _execute(
    context: RunContext, tasks: list[PageTranscriptionTask]
) -> BatchExecutionResult | None:
    if not tasks:
        return None
    return context.executor.execute_batch(
        tasks,
        checkpoint_name=checkpoint_name(context.assignment.name, OPERATION),
        resume_from_checkpoint=context.options.resume,
        ledger_scope=(context.assignment.name, OPERATION),
        description=f"transcribe {context.assignment.name}",
    )
