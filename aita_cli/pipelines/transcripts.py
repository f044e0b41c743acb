"""Assembling transcripts: page results into one student's transcript, transcripts into
the index. Plain JSON data in, plain JSON data out; nothing here runs a model or writes.

A student's transcript (results/transcripts/<output_name>.json):

    {"student", "output_name", "assignment", "exam_name", "status", "pages": [...],
     "answers": {question_id: text}, "answer_pages": {question_id: [page numbers]},
     "mean_confidence", "failures": [str], "submission_fingerprint"}

status is "complete" (every page transcribed), "failed" (the submission could not be
read, or some page failed for good) or "incomplete" (the run stopped before some pages
started; --resume finishes them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aita_cli.domain.models import PageImage, PageTranscription
from aita_cli.domain.naming import natural_key
from aita_cli.domain.pages import page_identity
from aita_cli.domain.submissions import StudentSubmission
from aita_cli.errors import InputError
from aita_cli.execution.tasks import request_fingerprint

__all__ = [
    "COMPLETE",
    "PageOutcome",
    "build_index",
    "build_transcript",
    "page_entry",
    "submission_fingerprint",
    "summarise_transcript",
]

COMPLETE = "complete"
FAILED = "failed"
INCOMPLETE = "incomplete"

# What became of one page in this run: its transcription, or the error, or None when
# the run stopped before the page started.
PageOutcome = PageTranscription | str | None


def submission_fingerprint(student: StudentSubmission, render: dict[str, Any]) -> str | None:
    """Identifies the scans (paths, sizes, mtimes) and how they are rendered, without
    rendering: a complete transcript is kept only while this is unchanged.

    None when a scan can no longer be read (moved or deleted during the run): its page
    has failed already, and the paid-for pages of everyone must still be written.
    """
    try:
        identities = [page_identity(page) for page in student.pages]
    except InputError:
        return None
    return request_fingerprint({"pages": identities, "render": render})


def page_entry(page: PageImage, submissions_dir: Path, outcome: PageOutcome) -> dict[str, Any]:
    """One page of a transcript: where it came from and what became of it."""
    entry: dict[str, Any] = {
        "page_number": page.page_number,
        "file": _relative(page, submissions_dir),
    }
    if page.pdf_page_index is not None:
        entry["pdf_page"] = page.pdf_page_index + 1
    if isinstance(outcome, PageTranscription):
        entry.update(status="ok", **outcome.model_dump(mode="json"))
        entry["source"] = outcome.source or "model"  # as in rubrics.json
    elif isinstance(outcome, str):
        entry.update(status="failed", text="", error=outcome)
    else:
        entry.update(status="not_started", text="")
    return entry


def build_transcript(
    student: StudentSubmission,
    pages: Sequence[dict[str, Any]],
    *,
    assignment: str,
    exam_name: str,
    fingerprint: str | None,
) -> dict[str, Any]:
    """A student's transcript from their page entries (in page order)."""
    done = [page for page in pages if page["status"] == "ok"]
    failures = list(student.problems) + [
        f"page {page['page_number']}: {page['error']}"
        for page in pages
        if page["status"] == "failed"
    ]
    answers, answer_pages = _group_answers(done)
    confidences = [float(page["confidence"]) for page in done]
    return {
        "student": student.name,
        "output_name": student.output_name,
        "assignment": assignment,
        "exam_name": exam_name,
        "status": _status(student, pages, failures),
        "pages": list(pages),
        "answers": answers,
        "answer_pages": answer_pages,
        "mean_confidence": _mean(confidences),
        "failures": failures,
        "submission_fingerprint": fingerprint,
    }


def summarise_transcript(transcript: dict[str, Any]) -> dict[str, Any]:
    """The index row of one transcript."""
    pages = transcript.get("pages", [])
    output_name = transcript["output_name"]
    return {
        "student": transcript["student"],
        "output_name": output_name,
        "status": transcript["status"],
        "pages": len(pages),
        "pages_done": sum(1 for page in pages if page.get("status") == "ok"),
        "pages_failed": sum(1 for page in pages if page.get("status") == "failed"),
        "mean_confidence": transcript.get("mean_confidence"),
        "failures": list(transcript.get("failures", [])),
        "transcript": f"{output_name}.json",
        "markdown": f"{output_name}.md",
    }


def build_index(
    transcripts: Sequence[dict[str, Any]],
    *,
    assignment: str,
    exam_name: str,
    warnings: Sequence[str],
) -> dict[str, Any]:
    """results/transcripts/index.json: one row per student, totals, failures, warnings."""
    rows = [summarise_transcript(transcript) for transcript in transcripts]
    confidences = [
        float(page["confidence"])
        for transcript in transcripts
        for page in transcript.get("pages", [])
        if page.get("status") == "ok"
    ]
    return {
        "assignment": assignment,
        "exam_name": exam_name,
        "students": rows,
        "pages": sum(row["pages"] for row in rows),
        "pages_done": sum(row["pages_done"] for row in rows),
        "mean_confidence": _mean(confidences),
        "failures": [
            {"student": row["student"], "error": failure}
            for row in rows
            for failure in row["failures"]
        ],
        "warnings": list(warnings),
    }


def _group_answers(
    pages: Sequence[dict[str, Any]],
) -> tuple[dict[str, str], dict[str, list[int]]]:
    # An answer may run over several pages: its parts are joined in page order.
    parts: dict[str, list[str]] = {}
    where: dict[str, list[int]] = {}
    for page in pages:
        for answer in page.get("answers", []):
            question_id = str(answer["question_id"])
            parts.setdefault(question_id, []).append(str(answer["text"]).strip())
            numbers = where.setdefault(question_id, [])
            if page["page_number"] not in numbers:
                numbers.append(page["page_number"])
    order = sorted(parts, key=natural_key)
    answers = {qid: "\n\n".join(text for text in parts[qid] if text) for qid in order}
    return answers, {qid: where[qid] for qid in order}


def _status(
    student: StudentSubmission, pages: Sequence[dict[str, Any]], failures: Sequence[str]
) -> str:
    if failures or not student.pages:
        return FAILED
    if any(page["status"] != "ok" for page in pages):
        return INCOMPLETE
    return COMPLETE


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _relative(page: PageImage, submissions_dir: Path) -> str:
    try:
        return page.source_path.relative_to(submissions_dir).as_posix()
    except ValueError:
        return page.source_path.name
