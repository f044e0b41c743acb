"""Grades to write in tests of the grade files: every status, a hostile answer, a
roster, and the documents that hold them."""

from __future__ import annotations

import csv
import io

from aita_cli.domain.grades import CriterionScore, QuestionGrade, StudentGrades
from aita_cli.domain.instructor_inputs import RosterEntry
from aita_cli.domain.models import ExamSpec, Question, QuestionType, Rubric, RubricCriterion
from aita_cli.pipelines.grade_output import GradesDocument

HOSTILE = "```\n# heading\n<script>alert(1)</script>\n````\n"
EXAM = ExamSpec(
    exam_name="Midterm 1",
    questions=[
        Question(
            question_id="q1",
            question_text="What is 2 + 2?",
            points=4,
            question_type=QuestionType.SHORT_ANSWER,
        ),
        Question(
            question_id="q2",
            question_text="Explain entropy.",
            points=6,
            question_type=QuestionType.LONG_ANSWER,
        ),
        Question(
            question_id="q3",
            question_text="Pick one.",
            points=2,
            question_type=QuestionType.MULTIPLE_CHOICE,
        ),
    ],
)
RUBRICS = {
    "q2": Rubric(
        question_id="q2",
        total_points=6,
        criteria=[
            RubricCriterion(name="Definition", description="States the definition", points=4),
            RubricCriterion(name="Example", description="Gives an example", points=2),
        ],
    )
}


def graded_q(qid: str, points: float, possible: float, **extra: object) -> QuestionGrade:
    criteria = [
        CriterionScore(description="Correct", points_possible=possible, points_awarded=points)
    ]
    return QuestionGrade.model_validate(
        {
            "question_id": qid,
            "status": "graded",
            "points": points,
            "possible": possible,
            "criteria": criteria,
            "source": "model",
            **extra,
        }
    )


def overridden_q(qid: str, points: float, possible: float) -> QuestionGrade:
    return QuestionGrade(
        question_id=qid,
        status="overridden",
        points=points,
        possible=possible,
        feedback="Regraded by hand.",
        source="instructor",
    )


def ungraded_q(qid: str, possible: float) -> QuestionGrade:
    return QuestionGrade(
        question_id=qid,
        status="ungraded",
        possible=possible,
        needs_review=True,
        review_reasons=["offline: <script>alert(1)</script> no model to grade a long answer"],
        source="offline-auto",
    )


def failed_q(qid: str, possible: float) -> QuestionGrade:
    return QuestionGrade(
        question_id=qid, status="failed", possible=possible, error="timed out after 3 retries"
    )


def sample_students() -> list[StudentGrades]:
    s1 = StudentGrades.from_questions(
        "s1",
        [
            graded_q("q1", 3, 4, needs_review=True, review_reasons=["low confidence"]),
            ungraded_q("q2", 6),
            graded_q("q3", 0, 2, needs_review=True, review_reasons=["no answer found"]),
        ],
    )
    s2 = StudentGrades.from_questions(
        "s2", [graded_q("q1", 2.5, 4), failed_q("q2", 6), graded_q("q3", 2, 2)]
    )
    s10 = StudentGrades.from_questions(
        "s10",
        [
            graded_q("q1", 4, 4, feedback="# heading\n\nGood <b>work</b>."),
            overridden_q("q2", 5, 6),
            graded_q("q3", 2, 2),
        ],
    )
    return [s10, s2, s1]  # deliberately not in natural order


ROSTER = [
    RosterEntry(student="s10", name='=HYPERLINK("http://evil")', id="110", section="A"),
    RosterEntry(student="s1", name="Ada Lovelace", id="101", sis_user_id="U1", section="B"),
    RosterEntry(student="s99", name="Nobody Graded", id="199"),
]


def sample_doc(roster: list[RosterEntry] | None = ROSTER) -> GradesDocument:
    return GradesDocument(
        assignment="midterm",
        exam=EXAM,
        students=sample_students(),
        roster=roster,
        answers={"s1": {"q1": "4", "q2": HOSTILE}, "s2": {"q1": "five", "q2": ""}},
        rubrics=RUBRICS,
    )


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def doc_with(*students: StudentGrades) -> GradesDocument:
    doc = sample_doc()
    return GradesDocument(doc.assignment, doc.exam, list(students), doc.roster, doc.answers,
                          doc.rubrics)  # fmt: skip
