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
from pathlib import Path
from typing import Any, TypeAlias

import orjson

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.provenance import OCR_SOURCE
from aita_cli.domain.submissions import StudentSubmission, SubmissionScan, scan_submissions
from aita_cli.execution.results import BatchExecutionResult
from aita_cli.llm import tokens
from aita_cli.pipelines.files import write_json_atomic, write_text_atomic
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
from aita_cli.pipelines.transcribe_tasks import PageTranscriptionTask, questions_by_page
from aita_cli.pipelines.transcript_markdown import transcript_markdown
from aita_cli.pipelines.transcripts import (
    COMPLETE,
    PageOutcome,
    build_index,
    build_transcript,
    page_entry,
    submission_fingerprint,
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


def transcripts_dir(assignment: Assignment) -> Path:
    """results/transcripts of an assignment."""
    return assignment.results_dir / "transcripts"


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
    render = _render_settings(context)
    kept = _kept(context, scan, render)
    todo = [student for student in scan.students if student.output_name not in kept]
    detail = TranscribeDetail(kept=[s.name for s in scan.students if s.output_name in kept])
    tasks = {student.output_name: _page_tasks(context, student) for student in todo}
    if context.options.dry_run:
        detail.plan = _plan(context, todo, tasks)
        would_fail = [f"{s.name} would fail: {problem}" for s in todo for problem in s.problems]
        warnings = [*scan.warnings, *would_fail]
        return outcome.build(context, detail, warnings=warnings, notices=_kept_notices(detail))
    batch = _execute(context, [task for group in tasks.values() for task in group])
    transcripts = [
        _transcript(context, student, tasks[student.output_name], batch, render) for student in todo
    ]
    outputs = _write(context, everyone.students, transcripts, scan.warnings)
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
    return _complete_students(
        context.assignment, scan, render, accept_offline=context.client.is_local
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


def _render_settings(context: RunContext) -> dict[str, Any]:
    return {"dpi": context.settings.render_dpi, "max_side": context.settings.image_max_side}


def _page_tasks(context: RunContext, student: StudentSubmission) -> list[PageTranscriptionTask]:
    on_page = questions_by_page(context.assignment.exam)
    return [
        PageTranscriptionTask(
            student.output_name,
            page,
            exam_name=context.assignment.exam.exam_name,
            question_ids=on_page.get(page.page_number, ()),
            dpi=context.settings.render_dpi,
            max_side=context.settings.image_max_side,
        )
        for page in student.pages
    ]


def _complete_students(
    assignment: Assignment, scan: SubmissionScan, render: dict[str, Any], *, accept_offline: bool
) -> set[str]:
    """Output names of students whose transcript on disk is complete and was made from
    the same scans, rendered the same way. With `accept_offline=False` (a model is
    configured now) a transcript the offline OCR made is redone by the model."""
    folder = transcripts_dir(assignment)
    complete = set()
    for student in scan.students:
        existing = _read_transcript(folder / f"{student.output_name}.json")
        fingerprint = submission_fingerprint(student, render)
        if (
            existing is not None
            and existing.get("status") == COMPLETE
            and student.pages
            and fingerprint is not None
            and existing.get("submission_fingerprint") == fingerprint
            and (accept_offline or not _made_offline(existing))
        ):
            complete.add(student.output_name)
    return complete


def _made_offline(transcript: dict[str, Any]) -> bool:
    pages = transcript.get("pages")
    return isinstance(pages, list) and any(
        isinstance(page, dict) and page.get("source") == OCR_SOURCE for page in pages
    )


# What a transcript on disk must hold to be kept or indexed; anything less (a file edited
# by hand, another tool's JSON) counts as absent rather than crashing the index.
_TRANSCRIPT_KEYS = frozenset({"output_name", "student", "status"})


def _read_transcript(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not _TRANSCRIPT_KEYS.issubset(data):
        return None
    pages = data.get("pages", [])
    if not isinstance(pages, list) or not all(isinstance(page, dict) for page in pages):
        return None
    return data


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
        description=f"transcribe {context.assignment.name}",
    )


def _transcript(
    context: RunContext,
    student: StudentSubmission,
    tasks: Sequence[PageTranscriptionTask],
    batch: BatchExecutionResult | None,
    render: dict[str, Any],
) -> dict[str, Any]:
    submissions = context.assignment.submissions_dir
    pages = [
        page_entry(task.page, submissions, _page_outcome(batch, task.task_id)) for task in tasks
    ]
    return build_transcript(
        student,
        pages,
        assignment=context.assignment.name,
        exam_name=context.assignment.exam.exam_name,
        fingerprint=submission_fingerprint(student, render),
    )


def _page_outcome(batch: BatchExecutionResult | None, task_id: str) -> PageOutcome:
    result = batch.get_result_by_id(task_id) if batch is not None else None
    if result is None or batch is None:
        return None
    if result.success:
        return result.result  # type: ignore[no-any-return]
    if task_id in batch.not_started:
        return None  # the run stopped before this page started: --resume runs it
    return result.error or "failed"


def _write(
    context: RunContext,
    everyone: Sequence[StudentSubmission],
    transcripts: Sequence[dict[str, Any]],
    warnings: Sequence[str],
) -> list[Path]:
    """Each transcript (JSON and Markdown), then the index: the paths written."""
    folder = transcripts_dir(context.assignment)
    written: list[Path] = []
    for transcript in transcripts:
        json_path = folder / f"{transcript['output_name']}.json"
        markdown_path = folder / f"{transcript['output_name']}.md"
        write_json_atomic(json_path, transcript)
        write_text_atomic(markdown_path, transcript_markdown(transcript))
        written += [json_path, markdown_path]
    index_path = folder / "index.json"
    index = build_index(
        _index_transcripts(folder, everyone, transcripts),
        assignment=context.assignment.name,
        exam_name=context.assignment.exam.exam_name,
        warnings=warnings,
    )
    write_json_atomic(index_path, index)
    return [*written, index_path]


def _index_transcripts(
    folder: Path, everyone: Sequence[StudentSubmission], fresh: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every student found: this run's transcript, else the one on disk, else a stub
    saying the student has not been transcribed yet (e.g. left out by --student)."""
    by_name = {transcript["output_name"]: transcript for transcript in fresh}
    rows = []
    for student in everyone:
        transcript = by_name.get(student.output_name) or _read_transcript(
            folder / f"{student.output_name}.json"
        )
        rows.append(transcript or _not_transcribed(student))
    return rows


def _not_transcribed(student: StudentSubmission) -> dict[str, Any]:
    return {
        "student": student.name,
        "output_name": student.output_name,
        "status": "not_transcribed",
        "pages": [],
        "mean_confidence": None,
        "failures": [],
    }
