"""Transcripts on disk and from a batch: shared by `aita transcribe` and `aita grade`.

Which complete transcripts can be kept (same scans, rendered the same way), the page
tasks of a student, one student's transcript from a batch's page results, and writing
transcripts and the index, each file atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from aita_cli.config import Settings
from aita_cli.domain.assignment import Assignment
from aita_cli.domain.provenance import OCR_SOURCE
from aita_cli.domain.submissions import StudentSubmission
from aita_cli.execution.results import BatchExecutionResult
from aita_cli.pipelines.files import write_json_atomic, write_text_atomic
from aita_cli.pipelines.runner import RunContext
from aita_cli.pipelines.transcribe_tasks import PageTranscriptionTask, questions_by_page
from aita_cli.pipelines.transcript_markdown import transcript_markdown
from aita_cli.pipelines.transcripts import (
    COMPLETE,
    PageOutcome,
    build_index,
    build_transcript,
    page_entry,
    submission_fingerprint,
)

__all__ = [
    "complete_students",
    "page_tasks",
    "read_transcript",
    "render_settings",
    "render_settings_of",
    "student_transcript",
    "transcripts_dir",
    "write_transcripts",
]


def transcripts_dir(assignment: Assignment) -> Path:
    """results/transcripts of an assignment."""
    return assignment.results_dir / "transcripts"


def render_settings(context: RunContext) -> dict[str, Any]:
    """How pages are rendered in this run (part of a transcript's fingerprint)."""
    return render_settings_of(context.settings)


def render_settings_of(settings: Settings) -> dict[str, Any]:
    """How pages are rendered with these settings."""
    return {"dpi": settings.render_dpi, "max_side": settings.image_max_side}


def page_tasks(context: RunContext, student: StudentSubmission) -> list[PageTranscriptionTask]:
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


def complete_students(
    assignment: Assignment,
    students: Sequence[StudentSubmission],
    render: dict[str, Any],
    *,
    accept_offline: bool,
) -> set[str]:
    """Output names of students whose transcript on disk is complete and was made from
    the same scans, rendered the same way. With `accept_offline=False` (a model is
    configured now) a transcript the offline OCR made is redone by the model."""
    folder = transcripts_dir(assignment)
    complete = set()
    for student in students:
        existing = read_transcript(folder / f"{student.output_name}.json")
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


def read_transcript(path: Path) -> dict[str, Any] | None:
    """A transcript on disk, or None when it is absent or damaged in any part that is
    read back (then it is made again, never half-trusted)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not _TRANSCRIPT_KEYS.issubset(data):
        return None
    pages = data.get("pages", [])
    if not isinstance(pages, list) or not all(_page_shape_ok(page) for page in pages):
        return None
    answers, where = data.get("answers", {}), data.get("answer_pages", {})
    if not (isinstance(answers, dict) and all(isinstance(v, str) for v in answers.values())):
        return None
    if not (isinstance(where, dict) and all(_page_numbers(v) for v in where.values())):
        return None
    return data


def _page_shape_ok(page: Any) -> bool:
    if not isinstance(page, dict) or not _is_int(page.get("page_number")):
        return False
    confidence = page.get("confidence")
    text_ok = isinstance(page.get("text", ""), str)
    number_ok = confidence is None or (_is_number(confidence) and 0 <= confidence <= 1)
    return text_ok and number_ok


def _page_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_int(item) for item in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def student_transcript(
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


def write_transcripts(
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
        transcript = by_name.get(student.output_name) or read_transcript(
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
