"""Every student's grades after a run: this run's results, the instructor's decisions,
and what earlier runs graded, question by question in exam order.

Whatever has no grade says why, and is never a 0: a question the run did not reach is
"ungraded" with "not graded yet", a task that failed for good is "failed" with its
error, and a submission that could not be read fails every question it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aita_cli.domain.grades import QuestionGrade, StudentGrades
from aita_cli.domain.instructor_inputs import GradeOverride
from aita_cli.domain.models import Question
from aita_cli.domain.submissions import StudentSubmission
from aita_cli.execution.results import BatchExecutionResult, TaskResult
from aita_cli.pipelines.grade_inputs import grade_task_id
from aita_cli.pipelines.grade_plan import GradePlan

__all__ = [
    "FailedItem",
    "answers_by_student",
    "assemble_grades",
    "failed_items",
    "overridden_grade",
]

_NOT_YET = "not graded yet"
_STOPPED = "not graded yet: the run stopped before it (continue with --resume)"


@dataclass(frozen=True, slots=True)
class FailedItem:
    student: str
    question_id: str
    error: str


def overridden_grade(question: Question, decision: GradeOverride) -> QuestionGrade:
    """The instructor's points, as given: marked as theirs, never regraded."""
    return QuestionGrade(
        question_id=question.question_id,
        status="overridden",
        points=decision.points,
        possible=question.points,
        feedback=decision.comment,
        source="instructor",
    )


def assemble_grades(plan: GradePlan, batch: BatchExecutionResult | None) -> list[StudentGrades]:
    """One `StudentGrades` per student found (natural order), every exam question each."""
    results = {item.task_id: item for item in batch.task_results} if batch else {}
    not_started = set(batch.not_started) if batch else set()
    selected_students = {student.output_name for student in plan.students}
    selected_questions = {question.question_id for question in plan.questions}
    exam = plan.exam_questions
    graded = []
    for student in plan.everyone:
        questions = []
        for question in exam:
            chosen = (
                student.output_name in selected_students
                and question.question_id in selected_questions
            )
            item = results.get(grade_task_id(student.output_name, question.question_id))
            questions.append(
                _grade_of(plan, student, question, chosen=chosen, item=item, stopped=not_started)
            )
        graded.append(StudentGrades.from_questions(student.output_name, questions))
    return graded


def _grade_of(
    plan: GradePlan,
    student: StudentSubmission,
    question: Question,
    *,
    chosen: bool,
    item: TaskResult | None,
    stopped: set[str],
) -> QuestionGrade:
    decision = plan.overridden(student.output_name, question.question_id)
    if decision is not None:
        return overridden_grade(question, decision)
    previous = plan.previous.get(student.output_name, {}).get(question.question_id)
    if not chosen:
        return _kept(previous, question) if previous is not None else _ungraded(question, _NOT_YET)
    if not student.pages:
        problems = "; ".join(student.problems) or "it has no pages"
        return _failed(question, f"the submission could not be read: {problems}")
    if item is None or item.task_id in stopped:
        # The run stopped before this grade: what the last run found stays, so nothing
        # is lost and --resume can still keep it if its inputs are unchanged.
        return _kept(previous, question) if previous is not None else _ungraded(question, _STOPPED)
    if item.success:
        result = item.result
        return result if isinstance(result, QuestionGrade) else QuestionGrade.model_validate(result)
    return _failed(question, item.error or "failed")


def _kept(previous: QuestionGrade, question: Question) -> QuestionGrade:
    # An earlier run's grade of a question whose points have changed since is no grade,
    # and nor is an instructor's grade the instructor has since taken back.
    if previous.possible != question.points:
        return _ungraded(question, f"{_NOT_YET}: the question's points changed")
    if previous.source == "instructor":
        return _ungraded(question, f"{_NOT_YET}: the instructor's grade was removed")
    return previous


def _ungraded(question: Question, why: str) -> QuestionGrade:
    return QuestionGrade(
        question_id=question.question_id, status="ungraded", possible=question.points, error=why
    )


def _failed(question: Question, error: str) -> QuestionGrade:
    return QuestionGrade(
        question_id=question.question_id, status="failed", possible=question.points, error=error
    )


def failed_items(grades: list[StudentGrades], plan: GradePlan) -> list[FailedItem]:
    """This run's failures, student by student, in exam order."""
    students = {student.output_name for student in plan.students}
    questions = {question.question_id for question in plan.questions}
    return [
        FailedItem(student.student, grade.question_id, grade.error or "failed")
        for student in grades
        if student.student in students
        for grade in student.questions
        if grade.status == "failed" and grade.question_id in questions
    ]


def answers_by_student(
    transcripts: Mapping[str, Mapping[str, object]],
) -> dict[str, dict[str, str]]:
    """Each student's answers by question id, from their transcripts."""
    found: dict[str, dict[str, str]] = {}
    for student, transcript in transcripts.items():
        answers = transcript.get("answers")
        if isinstance(answers, Mapping):
            found[student] = {str(qid): str(text) for qid, text in answers.items()}
    return found
