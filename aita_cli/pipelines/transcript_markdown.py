"""A student's transcript as readable Markdown (results/transcripts/<student>.md).

The transcribed text goes in as it is: `~~crossed out~~` renders as strikethrough and
LaTeX stays LaTeX, which is what a grader wants to see.
"""

from __future__ import annotations

from typing import Any

from aita_cli.domain.provenance import OCR_SOURCE

__all__ = ["transcript_markdown"]

_OCR_NOTE = (
    "> Transcribed offline by OCR, not by a model: check it against the scans, "
    "especially handwriting and mathematics."
)


def transcript_markdown(transcript: dict[str, Any]) -> str:
    """The Markdown of one transcript dict (see `aita_cli.pipelines.transcripts`)."""
    lines = [f"# Transcript — {transcript['student']}", "", *_header(transcript), ""]
    if any(page.get("source") == OCR_SOURCE for page in transcript["pages"]):
        lines += [_OCR_NOTE, ""]
    if transcript["failures"]:
        lines += ["## Failures", ""]
        lines += [f"- {failure}" for failure in transcript["failures"]]
        lines.append("")
    lines += _answers_section(transcript)
    lines += _pages_section(transcript["pages"])
    return "\n".join(lines).rstrip() + "\n"


def _header(transcript: dict[str, Any]) -> list[str]:
    confidence = transcript.get("mean_confidence")
    shown = f"{confidence:.2f}" if isinstance(confidence, float | int) else "—"
    return [
        f"- Exam: {transcript['exam_name']} (assignment `{transcript['assignment']}`)",
        f"- Status: {transcript['status']}",
        f"- Pages: {len(transcript['pages'])}",
        f"- Mean confidence: {shown}",
    ]


def _answers_section(transcript: dict[str, Any]) -> list[str]:
    answers: dict[str, str] = transcript["answers"]
    if not answers:
        return []
    lines = ["## Answers", ""]
    for question_id, text in answers.items():
        pages = transcript.get("answer_pages", {}).get(question_id, [])
        where = f" (page {', '.join(str(p) for p in pages)})" if pages else ""
        lines += [f"### Question {question_id}{where}", "", text or "_(empty)_", ""]
    return lines


def _pages_section(pages: list[dict[str, Any]]) -> list[str]:
    if not pages:
        return []
    lines = ["## Pages", ""]
    for page in pages:
        lines += [_page_heading(page), ""]
        if page["status"] == "ok":
            lines += [page["text"] or "_(no text)_", ""]
            if page.get("notes"):
                lines += [f"_Notes: {page['notes']}_", ""]
        elif page["status"] == "failed":
            lines += [f"**Failed:** {page.get('error', '')}", ""]
        else:
            lines += ["_Not transcribed yet: run again with --resume._", ""]
    return lines


def _page_heading(page: dict[str, Any]) -> str:
    source = page["file"]
    if "pdf_page" in page:
        source += f", page {page['pdf_page']}"
    heading = f"### Page {page['page_number']} ({source})"
    if page["status"] == "ok":
        heading += f" — confidence {float(page['confidence']):.2f}"
    return heading
