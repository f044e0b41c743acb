"""An assignment with results on disk, made without a model or OCR, for report tests.

Two students with real PDF scans, transcripts as `aita transcribe` writes them, and
(optionally) grades as `aita grade` writes them. Bob's answer to question 10 holds
markup a student could write: it must show as text, never run or break a page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aita_cli.domain.assignment import load_assignment
from aita_cli.domain.grades import CriterionScore, QuestionGrade, StudentGrades
from aita_cli.domain.models import PageTranscription
from aita_cli.domain.submissions import scan_submissions
from aita_cli.pipelines.files import write_json_atomic
from aita_cli.pipelines.grade_output import GradesDocument, write_grade_outputs
from aita_cli.pipelines.transcripts import build_transcript, page_entry
from tests.pipelines.transcribe_support import add_students, make_assignment

INJECTED = (
    '<script>document.title = "PWNED"</script></td></tr></table>'
    "<img src=x onerror=\"document.body.setAttribute('data-pwned', 1)\"> & so on"
)
_ANSWERS = {
    "alice": {1: {"1": "A tangent line."}, 2: {"2a": "6 x 7 = 42", "10": "Rayleigh scattering."}},
    "bob": {1: {"1": "A line."}, 2: {"2a": "43", "10": INJECTED}},
}


def make_reportable(data_dir: Path, *, graded: bool = True) -> Path:
    """The quiz with two students, transcribed (and graded); returns its folder."""
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob"])
    assignment = load_assignment(data_dir, "quiz")
    folder = assignment.results_dir / "transcripts"
    for student in scan_submissions(assignment).students:
        pages = [
            page_entry(page, assignment.submissions_dir, _page(page.page_number, student.name))
            for page in student.pages
        ]
        transcript = build_transcript(
            student, pages, assignment="quiz", exam_name="Quiz", fingerprint="f"
        )
        write_json_atomic(folder / f"{student.output_name}.json", transcript)
    if graded:
        _grade(assignment.exam.questions, root)
    return root


def _page(number: int, student: str) -> PageTranscription:
    answers = _ANSWERS[student][number]
    text = "\n".join(f"{qid}. {answer}" for qid, answer in answers.items())
    listed = [{"question_id": qid, "text": answer} for qid, answer in answers.items()]
    return PageTranscription.model_validate(
        {"text": text, "confidence": 0.93, "notes": "", "answers": listed, "source": "model"}
    )


def _grade(questions: Any, root: Path) -> None:
    def graded(qid: str, points: float, possible: float, **extra: Any) -> QuestionGrade:
        criteria = [CriterionScore(description="Correct", points_possible=possible,
                                   points_awarded=points, reason="matches the key")]  # fmt: skip
        return QuestionGrade(question_id=qid, status="graded", points=points,
                             possible=possible, criteria=criteria, feedback="Well done.",
                             confidence=0.9, source="model", **extra)  # fmt: skip

    alice = StudentGrades.from_questions(
        "alice", [graded("1", 2, 2), graded("2a", 3, 3), graded("10", 4, 5)]
    )
    flagged = {"needs_review": True, "review_reasons": ["low model confidence (0.42)"]}
    bob = StudentGrades.from_questions(
        "bob",
        [
            graded("1", 1, 2, **flagged),
            QuestionGrade(question_id="2a", status="failed", possible=3, error="server error 500"),
            QuestionGrade(question_id="10", status="overridden", points=2, possible=5,
                          feedback="Seen in class.", source="instructor"),
        ],
    )  # fmt: skip
    exam = load_assignment(root.parent, "quiz").exam
    document = GradesDocument(
        assignment="quiz", exam=exam, students=[alice, bob], roster=None,
        answers={s: {q: a for p in pages.values() for q, a in p.items()}
                 for s, pages in _ANSWERS.items()},
        rubrics={},
    )  # fmt: skip
    write_grade_outputs(root / "results" / "grades", document)
