"""Planning `aita grade`: what each grade needs, what is already on disk, and the one
batch that makes the rest.

For every selected (student, question) that the instructor has not decided, one grade
task. What it needs and is missing or stale (an answer key, a rubric, a student's page
transcriptions) joins the same batch as tasks it depends on, so the grade starts the
moment they are done. What is complete and unchanged on disk is used as it is: the
instructor's key and rubrics, answer keys and rubrics made for this exam, complete
transcripts of the same scans, and grades a model made from exactly the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from aita_cli.domain.grades import QuestionGrade
from aita_cli.domain.instructor_inputs import (
    GradeOverride,
    InstructorKey,
    RosterEntry,
    load_grade_overrides,
    load_roster,
    load_user_answer_keys,
)
from aita_cli.domain.models import AnswerKey, Question, Rubric
from aita_cli.domain.submissions import StudentSubmission, scan_submissions
from aita_cli.errors import InputError
from aita_cli.execution.tasks import LLMTask
from aita_cli.pipelines.exact_grading import ExactGradeTask
from aita_cli.pipelines.grade_inputs import GradeInputs, RenderSettings, StudentAnswer
from aita_cli.pipelines.grade_output import GRADES_FILE
from aita_cli.pipelines.grade_tasks import GradeTask
from aita_cli.pipelines.rubric import question_contexts
from aita_cli.pipelines.rubric_output import read_rubric_results
from aita_cli.pipelines.rubric_tasks import (
    AnswerKeyTask,
    RubricTask,
    answer_key_task_id,
    rubric_task_id,
)
from aita_cli.pipelines.runner import RunContext
from aita_cli.pipelines.transcribe_tasks import PageTranscriptionTask
from aita_cli.pipelines.transcript_store import (
    complete_students,
    page_tasks,
    read_transcript,
    render_settings,
    transcripts_dir,
)

__all__ = [
    "GradePlan",
    "InstructorInputs",
    "grades_dir",
    "load_instructor_inputs",
    "plan_grading",
    "read_previous_grades",
    "select_questions",
]


def grades_dir(context: RunContext) -> Path:
    """results/grades of the run's assignment."""
    return context.assignment.results_dir / "grades"


@dataclass(frozen=True)
class InstructorInputs:
    """The instructor's own files, checked: keys, decisions (by output name), roster."""

    keys: dict[str, InstructorKey]
    overrides: dict[str, dict[str, GradeOverride]]
    roster: list[RosterEntry] | None


def load_instructor_inputs(
    context: RunContext, everyone: Sequence[StudentSubmission]
) -> InstructorInputs:
    """Load and check the instructor's files; InputError (one line) for a bad one."""
    assignment = context.assignment
    root, name, exam = assignment.root, assignment.name, assignment.exam
    overrides = load_grade_overrides(root, name, exam)
    by_name = {student.name: student.output_name for student in everyone}
    by_name.update({student.output_name: student.output_name for student in everyone})
    resolved: dict[str, dict[str, GradeOverride]] = {}
    for student, decisions in overrides.items():
        if student not in by_name:
            known = ", ".join(s.name for s in everyone) or "none"
            raise InputError(
                f"{name}/grade_overrides.json: no student {student!r} in submissions "
                f"(students: {known})"
            )
        resolved.setdefault(by_name[student], {}).update(decisions)
    return InstructorInputs(
        load_user_answer_keys(root, name, exam), resolved, load_roster(root, name)
    )


def select_questions(exam_questions: Sequence[Question], wanted: Sequence[str]) -> list[Question]:
    """The questions asked for with --question (all without), in exam order."""
    ids = [question.question_id for question in exam_questions]
    for given in wanted:
        if given not in ids:
            raise InputError(
                f"--question {given}: no such question (the exam has {', '.join(ids)})"
            )
    return [q for q in exam_questions if not wanted or q.question_id in wanted]


def read_previous_grades(folder: Path) -> dict[str, dict[str, QuestionGrade]]:
    """The grades on disk by student and question id; a damaged file or entry counts as
    absent (it is simply graded again)."""
    try:
        data = orjson.loads((folder / GRADES_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    found: dict[str, dict[str, QuestionGrade]] = {}
    students = data.get("students") if isinstance(data, dict) else None
    for student in students if isinstance(students, list) else []:
        if not isinstance(student, dict) or not isinstance(student.get("questions"), list):
            continue
        grades = found.setdefault(str(student.get("student")), {})
        for raw in student["questions"]:
            try:
                grade = QuestionGrade.model_validate(raw)
            except ValidationError:
                continue
            grades[grade.question_id] = grade
    return found


@dataclass
class GradePlan:
    """The batch, by stage, and what the grades are made from outside it."""

    students: list[StudentSubmission]  # selected, natural order
    everyone: list[StudentSubmission]
    questions: list[Question]  # selected, exam order
    exam_questions: list[Question]  # every question, exam order
    inputs: InstructorInputs
    warnings: list[str]
    previous: dict[str, dict[str, QuestionGrade]]  # grades.json as it was
    force: bool = False  # regrade even what a model graded from unchanged inputs
    known_keys: dict[str, AnswerKey] = field(default_factory=dict)
    known_rubrics: dict[str, Rubric] = field(default_factory=dict)
    key_tasks: list[AnswerKeyTask] = field(default_factory=list)
    rubric_tasks: list[RubricTask] = field(default_factory=list)
    page_tasks: dict[str, list[PageTranscriptionTask]] = field(default_factory=dict)
    kept_transcripts: dict[str, dict[str, Any]] = field(default_factory=dict)
    grade_tasks: list[GradeTask] = field(default_factory=list)

    def all_tasks(self) -> list[LLMTask]:
        """Keys and pages first (they start at once), then rubrics, then grades."""
        pages = [task for group in self.page_tasks.values() for task in group]
        return [*self.key_tasks, *pages, *self.rubric_tasks, *self.grade_tasks]

    def overridden(self, student: str, question_id: str) -> GradeOverride | None:
        return self.inputs.overrides.get(student, {}).get(question_id)


def plan_grading(
    context: RunContext, students: Sequence[str], questions: Sequence[str]
) -> GradePlan:
    """Check the inputs and plan the batch; InputError before anything runs."""
    assignment = context.assignment
    everyone_scan = scan_submissions(assignment)
    scan = scan_submissions(assignment, students) if students else everyone_scan
    chosen = select_questions(assignment.exam.questions, questions)
    plan = GradePlan(
        students=scan.students,
        everyone=everyone_scan.students,
        questions=chosen,
        exam_questions=list(assignment.exam.questions),
        inputs=load_instructor_inputs(context, everyone_scan.students),
        warnings=list(scan.warnings),
        previous=read_previous_grades(grades_dir(context)),
        force=context.options.force,
    )
    _plan_keys_and_rubrics(context, plan)
    _plan_transcripts(context, plan)
    _plan_grades(context, plan)
    return plan


def _plan_keys_and_rubrics(context: RunContext, plan: GradePlan) -> None:
    assignment = context.assignment
    disk_keys, disk_rubrics = read_rubric_results(
        assignment, accept_offline=context.client.is_local
    )
    contexts = {c.question_id: c for c in question_contexts(assignment)}
    for question in plan.questions:
        qid = question.question_id
        given = plan.inputs.keys.get(qid)
        key = given.as_answer_key(qid) if given else disk_keys.get(qid)
        rubric = assignment.user_rubrics.get(qid) or disk_rubrics.get(qid)
        if key is not None:
            plan.known_keys[qid] = key
        elif rubric is None or not context.client.is_local:
            # Offline, a missing key would only be a template: worth writing for the
            # rubric it feeds, never worth scoring with.
            plan.key_tasks.append(AnswerKeyTask(contexts[qid]))
        if rubric is not None:
            plan.known_rubrics[qid] = rubric
        else:
            plan.rubric_tasks.append(RubricTask(contexts[qid], given_key=key))


def _plan_transcripts(context: RunContext, plan: GradePlan) -> None:
    readable = [student for student in plan.students if student.pages]
    kept = complete_students(
        context.assignment, readable, render_settings(context),
        accept_offline=context.client.is_local,
    )  # fmt: skip
    folder = transcripts_dir(context.assignment)
    for student in readable:
        transcript = None
        if student.output_name in kept:
            transcript = read_transcript(folder / f"{student.output_name}.json")
        if transcript is not None:
            plan.kept_transcripts[student.output_name] = transcript
        else:
            plan.page_tasks[student.output_name] = page_tasks(context, student)


def _plan_grades(context: RunContext, plan: GradePlan) -> None:
    task_type = ExactGradeTask if context.client.is_local else GradeTask
    contexts = {c.question_id: c for c in question_contexts(context.assignment)}
    key_tasks = {task.context.question_id for task in plan.key_tasks}
    rubric_tasks = {task.context.question_id for task in plan.rubric_tasks}
    render = RenderSettings(context.settings.render_dpi, context.settings.image_max_side)
    for student in plan.students:
        if not student.pages:
            continue  # the submission could not be read: its grades fail, with why
        for question in plan.questions:
            qid = question.question_id
            if plan.overridden(student.output_name, qid) is not None:
                continue
            inputs = GradeInputs(
                student=student.output_name,
                context=contexts[qid],
                known_key=plan.known_keys.get(qid),
                key_task=answer_key_task_id(qid) if qid in key_tasks else None,
                known_rubric=plan.known_rubrics.get(qid),
                rubric_task=rubric_task_id(qid) if qid in rubric_tasks else None,
                known_answer=_known_answer(plan, student, qid),
                page_tasks=tuple(
                    (t.task_id, t.page) for t in plan.page_tasks.get(student.output_name, [])
                ),
                previous=_reusable_grade(plan, student.output_name, qid),
                tolerance=_tolerance(plan, qid),
                render=render,
                student_pages=tuple(student.pages),
            )
            plan.grade_tasks.append(task_type(inputs))


def _known_answer(
    plan: GradePlan, student: StudentSubmission, question_id: str
) -> StudentAnswer | None:
    transcript = plan.kept_transcripts.get(student.output_name)
    if transcript is None:
        return None
    return StudentAnswer.from_transcript(question_id, transcript, student.pages)


def _reusable_grade(plan: GradePlan, student: str, question_id: str) -> QuestionGrade | None:
    """A model's grade from the last run: kept if its inputs turn out unchanged."""
    grade = plan.previous.get(student, {}).get(question_id)
    if plan.force or grade is None or grade.status != "graded" or grade.source != "model":
        return None
    return grade if grade.fingerprint else None


def _tolerance(plan: GradePlan, question_id: str) -> float | None:
    key = plan.inputs.keys.get(question_id)
    return key.tolerance if key is not None else None
