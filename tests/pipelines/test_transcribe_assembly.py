"""Assembling page results into transcripts, the index and the Markdown."""

from __future__ import annotations

from pathlib import Path

from aita_cli.domain.models import PageAnswer, PageImage, PageTranscription
from aita_cli.domain.submissions import StudentSubmission
from aita_cli.pipelines.transcribe_tasks import parse_page_transcription
from aita_cli.pipelines.transcript_markdown import transcript_markdown
from aita_cli.pipelines.transcripts import (
    build_index,
    build_transcript,
    page_entry,
    submission_fingerprint,
    summarise_transcript,
)

SUBMISSIONS = Path("/data/quiz/submissions")


def _student(pages: int, problems: tuple[str, ...] = ()) -> StudentSubmission:
    images = [
        PageImage(
            student="Al",
            page_number=number,
            source_path=SUBMISSIONS / "Al.pdf",
            source_kind="pdf",
            pdf_page_index=number - 1,
        )
        for number in range(1, pages + 1)
    ]
    return StudentSubmission("Al", "Al", images, list(problems))


def _page(text: str, confidence: float, answers: dict[str, str]) -> PageTranscription:
    return PageTranscription(
        text=text,
        confidence=confidence,
        answers=[PageAnswer(question_id=qid, text=body) for qid, body in answers.items()],
        source="offline-ocr",
    )


def _transcript(
    student: StudentSubmission, outcomes: list[PageTranscription | str | None]
) -> dict[str, object]:
    pages = [
        page_entry(page, SUBMISSIONS, outcome)
        for page, outcome in zip(student.pages, outcomes, strict=True)
    ]
    return build_transcript(student, pages, assignment="quiz", exam_name="Quiz", fingerprint="f")


def test_answers_are_grouped_in_natural_order_and_joined_across_pages() -> None:
    student = _student(2)
    transcript = _transcript(
        student,
        [
            _page("10. first part\n2. two", 0.8, {"10": "first part", "2": "two"}),
            _page("rest of ten", 0.6, {"10": "rest of ten"}),
        ],
    )
    assert transcript["status"] == "complete"
    assert transcript["answers"] == {"2": "two", "10": "first part\n\nrest of ten"}
    assert list(transcript["answers"]) == ["2", "10"]
    assert transcript["answer_pages"] == {"2": [1], "10": [1, 2]}
    assert transcript["mean_confidence"] == 0.7
    pages = transcript["pages"]
    assert isinstance(pages, list)
    assert pages[1]["file"] == "Al.pdf"
    assert pages[1]["pdf_page"] == 2


def test_failed_and_unstarted_pages_set_the_status() -> None:
    failed = _transcript(_student(2), [_page("a", 0.9, {}), "server error 500"])
    assert failed["status"] == "failed"
    assert failed["failures"] == ["page 2: server error 500"]
    stopped = _transcript(_student(2), [_page("a", 0.9, {}), None])
    assert stopped["status"] == "incomplete"
    row = summarise_transcript(stopped)
    assert (row["pages"], row["pages_done"], row["pages_failed"]) == (2, 1, 0)


def test_an_unreadable_submission_fails_with_its_problem() -> None:
    transcript = _transcript(_student(0, ("Al.pdf: the PDF is corrupt or not a PDF",)), [])
    assert transcript["status"] == "failed"
    assert transcript["failures"] == ["Al.pdf: the PDF is corrupt or not a PDF"]


def test_index_totals_and_failures() -> None:
    good = _transcript(_student(2), [_page("a", 1.0, {}), _page("b", 0.5, {})])
    bad = _transcript(_student(0, ("Al.pdf: broken",)), [])
    index = build_index([good, bad], assignment="quiz", exam_name="Quiz", warnings=["w"])
    assert index["pages"] == 2
    assert index["mean_confidence"] == 0.75
    assert index["failures"] == [{"student": "Al", "error": "Al.pdf: broken"}]
    assert index["warnings"] == ["w"]


def test_markdown_shows_answers_pages_failures_and_the_ocr_mark() -> None:
    reply = (
        '{"text": "1. ~~wrong~~ right $x^2$", "confidence": 0.9, "notes": "smudge", '
        '"answers": [{"question_id": "1", "text": "right $x^2$"}]}'
    )
    page = parse_page_transcription(reply).model_copy(update={"source": "offline-ocr"})
    markdown = transcript_markdown(_transcript(_student(2), [page, "timed out"]))
    assert markdown.startswith("# Transcript — Al")
    assert "### Question 1 (page 1)" in markdown
    assert "~~wrong~~ right $x^2$" in markdown
    assert "_Notes: smudge_" in markdown
    assert "offline by OCR" in markdown
    assert "**Failed:** timed out" in markdown
    assert "## Failures" in markdown


def test_a_scan_gone_during_the_run_does_not_stop_the_transcripts_being_written(
    tmp_path: Path,
) -> None:
    # Its page has failed already; every other page was paid for and must be written,
    # so the fingerprint is None (never kept as complete) instead of an error.
    scan = tmp_path / "submissions" / "Al.png"
    scan.parent.mkdir()
    scan.write_bytes(b"not read here")
    page = PageImage(student="Al", page_number=1, source_path=scan, source_kind="image")
    student = StudentSubmission("Al", "Al", [page], [])
    render = {"dpi": 150, "max_side": 2000}
    assert isinstance(submission_fingerprint(student, render), str)
    scan.unlink()
    assert submission_fingerprint(student, render) is None
    transcript = build_transcript(
        student,
        [page_entry(page, scan.parent, "cannot read the file")],
        assignment="quiz",
        exam_name="Quiz",
        fingerprint=None,
    )
    assert transcript["status"] == "failed"
