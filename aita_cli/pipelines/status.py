"""`aita status`: where an assignment stands, read from its files alone (no call, no write).

For each stage what is complete, failed, missing or stale: answer keys and rubrics per
question (stale: made from inputs that changed since), transcripts per student (stale:
the scans changed), grades per student; the checkpoint journals that can be resumed
and what they hold; the spend so far from the cost ledger; and the one command that
would finish the job.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aita_cli.config import Settings
from aita_cli.domain.assignment import Assignment
from aita_cli.domain.instructor_inputs import instructor_answer_keys
from aita_cli.domain.submissions import StudentSubmission, scan_submissions
from aita_cli.errors import AitaError
from aita_cli.execution.checkpoint import CheckpointManager
from aita_cli.pipelines.grade_output import GRADES_FILE
from aita_cli.pipelines.grade_plan import read_previous_grades
from aita_cli.pipelines.rubric_output import read_on_disk
from aita_cli.pipelines.runner import checkpoint_name
from aita_cli.pipelines.transcript_store import read_transcript, render_settings_of, transcripts_dir
from aita_cli.pipelines.transcripts import COMPLETE, submission_fingerprint
from aita_cli.store import DATABASE_NAME, Store

__all__ = ["AssignmentStatus", "JournalStatus", "StageStatus", "read_status"]

_OPERATIONS = ("rubric", "transcribe", "grade")


@dataclass
class StageStatus:
    """One stage: how many of its items are in each state, and which are not done."""

    name: str
    counts: Counter[str] = field(default_factory=Counter)
    not_done: list[str] = field(default_factory=list)  # "alice (stale)", "q3 (failed)"

    def add(self, item: str, state: str) -> None:
        self.counts[state] += 1
        if state != "complete":
            self.not_done.append(f"{item} ({state})")

    @property
    def done(self) -> bool:
        return set(self.counts) <= {"complete"}

    def stale(self) -> list[str]:
        """The items made from inputs that changed since."""
        return [
            item.removesuffix(" (stale)") for item in self.not_done if item.endswith(" (stale)")
        ]


@dataclass(frozen=True)
class JournalStatus:
    """A checkpoint journal that `--resume` would continue."""

    operation: str
    path: Path
    succeeded: int
    failed: int
    finished: bool


@dataclass
class AssignmentStatus:
    """Everything `aita status` shows."""

    assignment: str
    exam_name: str
    stages: list[StageStatus]
    journals: list[JournalStatus]
    spent: float | None  # None: the ledger could not be read
    next_command: str | None  # None: everything is done


def read_status(settings: Settings, assignment: Assignment) -> AssignmentStatus:
    """The assignment's state now."""
    keys, rubrics = _rubric_stages(assignment)
    students = scan_submissions(assignment).students  # once: it opens every scan
    transcripts = _transcript_stage(settings, assignment, students)
    stale = {item for stage in (keys, rubrics) for item in stage.stale()}
    grades = _grade_stage(assignment, students, stale, set(transcripts.stale()))
    stages = [keys, rubrics, transcripts, grades]
    journals = _journals(settings, assignment)
    return AssignmentStatus(
        assignment=assignment.name,
        exam_name=assignment.exam.exam_name,
        stages=stages,
        journals=journals,
        spent=_spent(settings, assignment.name),
        next_command=_next_command(assignment.name, stages, journals),
    )


def _rubric_stages(assignment: Assignment) -> tuple[StageStatus, StageStatus]:
    disk = read_on_disk(assignment)
    given = instructor_answer_keys(assignment.root, assignment.name, assignment.exam)
    keys, rubrics = StageStatus("answer keys"), StageStatus("rubrics")
    for question in assignment.exam.questions:
        qid = question.question_id
        if qid in given:  # the instructor's own key is complete as given
            keys.add(f"q{qid}", "complete")
        else:
            keys.add(f"q{qid}", _entry_state(disk, disk.keys.get(qid)))
        if qid in assignment.user_rubrics:
            rubrics.add(f"q{qid}", "complete")
        else:
            rubrics.add(f"q{qid}", _entry_state(disk, disk.rubrics.get(qid)))
    return keys, rubrics


def _entry_state(disk: Any, entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "missing"
    if entry.get("status") != "ok":
        # A task a stop left unstarted carries the engine's "not finished: ..." reason.
        return "not started" if str(entry.get("error", "")).startswith("not finished") else "failed"
    return "complete" if disk.fresh(entry, accept_offline=True) else "stale"


def _transcript_stage(
    settings: Settings, assignment: Assignment, students: Sequence[StudentSubmission]
) -> StageStatus:
    stage = StageStatus("transcripts")
    folder = transcripts_dir(assignment)
    render = render_settings_of(settings)
    for student in students:
        transcript = read_transcript(folder / f"{student.output_name}.json")
        if transcript is None:
            stage.add(student.name, "missing")
        elif transcript.get("submission_fingerprint") != submission_fingerprint(student, render):
            stage.add(student.name, "stale")
        elif transcript.get("status") != COMPLETE:
            stage.add(student.name, str(transcript.get("status", "failed")))
        else:
            stage.add(student.name, "complete")
    return stage


def _grade_stage(
    assignment: Assignment,
    students: Sequence[StudentSubmission],
    stale_questions: set[str],
    stale_students: set[str],
) -> StageStatus:
    """Per student; stale when a grade was made from a key, rubric or transcript that
    is not current any more (regrading would change what it is made from)."""
    stage = StageStatus("grades")
    graded = read_previous_grades(assignment.results_dir / "grades")
    present = (assignment.results_dir / "grades" / GRADES_FILE).is_file()
    if present and not graded:
        stage.add("grades.json", "damaged: it cannot be read")
        return stage
    for student in students:
        questions = graded.get(student.output_name)
        if not questions:
            stage.add(student.name, "missing" if not present else "not graded")
            continue
        states = Counter(grade.status for grade in questions.values())
        made_from_stale = student.name in stale_students or any(
            f"q{qid}" in stale_questions and grade.source == "model"
            for qid, grade in questions.items()
        )
        if states["failed"]:
            stage.add(student.name, f"{states['failed']} failed")
        elif len(questions) < len(assignment.exam.questions) or states["ungraded"]:
            stage.add(student.name, f"{states['ungraded']} ungraded")
        elif made_from_stale:
            stage.add(student.name, "stale")
        else:
            stage.add(student.name, "complete")
    return stage


def _journals(settings: Settings, assignment: Assignment) -> list[JournalStatus]:
    manager = CheckpointManager(settings.checkpoint_dir)
    found = []
    for operation in _OPERATIONS:
        path = manager.find_latest_checkpoint(checkpoint_name(assignment.name, operation))
        if path is None:
            continue
        try:
            state = manager.load(path)
        except AitaError:
            continue  # a damaged journal: resume would say so, status need not
        # An end record also closes a run that stopped early: its summary says so.
        stopped = bool(state.summary and state.summary.get("not_finished"))
        found.append(
            JournalStatus(operation, path, len(state.successes), len(state.failures),
                          state.finished and not stopped)
        )  # fmt: skip
    return found


def _spent(settings: Settings, assignment: str) -> float | None:
    path = settings.cache_dir
    if not (path / DATABASE_NAME).is_file():
        return 0.0  # nothing recorded yet (and a read-only command creates nothing)
    try:
        store = Store.open(path)
    except AitaError:
        return None
    try:
        return store.spent(assignment)
    finally:
        store.close()


def _next_command(
    assignment: str, stages: list[StageStatus], journals: list[JournalStatus]
) -> str | None:
    """`aita grade` runs whatever the grades still need, so it is the one command that
    finishes any stage; with a journal holding failures or left unfinished, resume it."""
    if all(stage.done for stage in stages):
        return None
    grade_journal = next((j for j in journals if j.operation == "grade"), None)
    if grade_journal is not None and (grade_journal.failed or not grade_journal.finished):
        return shlex.join(["aita", "grade", "--assignment", assignment, "--resume"])
    return shlex.join(["aita", "grade", "--assignment", assignment])
