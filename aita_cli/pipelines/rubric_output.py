"""The files generate-rubric writes, and how it tells what in them is still good.

results/answer_keys.json and results/rubrics.json list the questions in exam order, each
entry either `"status": "ok"` with its content or `"status": "failed"` with the error, so a
later run knows what to fill in. Each entry carries the fingerprint of its own question's
inputs (`inputs_fingerprint`: the question, the instructions that apply to it, its user
rubric and the instructor's key): editing one question makes only that question's entries
stale, and only they are made again. Entries written before per-question fingerprints
fall back on the whole exam's (`exam_fingerprint`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.instructor_inputs import instructor_answer_keys
from aita_cli.domain.models import AnswerKey, Rubric
from aita_cli.domain.provenance import TEMPLATE_SOURCE
from aita_cli.execution.tasks import request_fingerprint
from aita_cli.pipelines.files import tidy_points, write_json_atomic, write_text_atomic
from aita_cli.pipelines.rubric_markdown import QuestionResult

__all__ = [
    "ANSWER_KEYS_FILE",
    "RUBRICS_FILE",
    "OnDisk",
    "exam_fingerprint",
    "existing_results_complete",
    "parse_entry",
    "question_fingerprints",
    "read_on_disk",
    "read_rubric_results",
    "write_rubric_outputs",
]

ANSWER_KEYS_FILE = "answer_keys.json"
RUBRICS_FILE = "rubrics.json"
RUBRICS_MARKDOWN_FILE = "rubrics.md"
_STATUS_OK = "ok"
_STATUS_FAILED = "failed"


def exam_fingerprint(assignment: Assignment) -> str:
    """A hash of every input that shapes the results."""
    material: dict[str, Any] = {
        "exam": assignment.exam,
        "instructions": assignment.instructions,
        "question_instructions": assignment.question_instructions,
        "user_rubrics": assignment.user_rubrics,
    }
    keys = instructor_answer_keys(assignment.root, assignment.name, assignment.exam)
    if keys:  # absent, results made before instructor keys existed stay complete
        material["user_answer_keys"] = keys
    return request_fingerprint(material)


def question_fingerprints(assignment: Assignment) -> dict[str, str]:
    """Each question's inputs as one hash: what its answer key and rubric are made from."""
    keys = instructor_answer_keys(assignment.root, assignment.name, assignment.exam)
    return {
        question.question_id: request_fingerprint(
            {
                "exam_name": assignment.exam.exam_name,
                "question": question,
                "instructions": assignment.instructions,
                "question_instruction": assignment.question_instructions.get(question.question_id),
                "user_rubric": assignment.user_rubrics.get(question.question_id),
                "instructor_key": keys.get(question.question_id),
            }
        )
        for question in assignment.exam.questions
    }


def _header(assignment: Assignment, complete: bool, now: datetime) -> dict[str, Any]:
    return {
        "assignment": assignment.name,
        "exam_name": assignment.exam.exam_name,
        "total_points": assignment.exam.total_points,
        "exam_fingerprint": exam_fingerprint(assignment),
        "complete": complete,
        "generated_at": now.isoformat(timespec="seconds"),
    }


def answer_keys_document(
    assignment: Assignment, results: Sequence[QuestionResult], now: datetime
) -> dict[str, Any]:
    """The content of answer_keys.json."""
    fingerprints = question_fingerprints(assignment)
    entries: list[dict[str, Any]] = []
    for result in results:
        question_id = result.question.question_id
        if result.carried_key is not None:  # left as it was on disk, stale or not
            entries.append(result.carried_key)
            continue
        if result.answer_key is None:
            entries.append(
                {
                    "question_id": question_id,
                    "status": _STATUS_FAILED,
                    "error": result.answer_key_error,
                }
            )
            continue
        content = result.answer_key.model_dump(mode="json", exclude={"question_id", "source"})
        entries.append(
            {
                "question_id": question_id,
                "status": _STATUS_OK,
                "source": result.answer_key.source or "model",
                "inputs_fingerprint": fingerprints[question_id],
                **content,
            }
        )
    return {**_header(assignment, _all_fresh(entries, fingerprints), now), "answer_keys": entries}


def rubrics_document(
    assignment: Assignment, results: Sequence[QuestionResult], now: datetime
) -> dict[str, Any]:
    """The content of rubrics.json."""
    fingerprints = question_fingerprints(assignment)
    entries: list[dict[str, Any]] = []
    for result in results:
        question = result.question
        base = {"question_id": question.question_id, "points": question.points}
        if result.carried_rubric is not None:
            entries.append(result.carried_rubric)
            continue
        if result.rubric is None:
            entries.append({**base, "status": _STATUS_FAILED, "error": result.rubric_error})
            continue
        content = result.rubric.model_dump(mode="json", exclude={"question_id", "source"})
        source = result.rubric.source or "model"
        fingerprint = fingerprints[question.question_id]
        entries.append(
            {**base, "status": _STATUS_OK, "source": source, "inputs_fingerprint": fingerprint,
             **content}
        )  # fmt: skip
    return {**_header(assignment, _all_fresh(entries, fingerprints), now), "rubrics": entries}


def _all_fresh(entries: Sequence[Mapping[str, Any]], fingerprints: Mapping[str, str]) -> bool:
    return all(
        entry.get("status") == _STATUS_OK
        and entry.get("inputs_fingerprint") == fingerprints.get(str(entry.get("question_id")))
        for entry in entries
    )


def write_rubric_outputs(
    assignment: Assignment,
    results: Sequence[QuestionResult],
    markdown: str,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Path]:
    """Write the three result files, each atomically; returns their paths."""
    moment = now()
    folder = assignment.results_dir
    paths = [folder / ANSWER_KEYS_FILE, folder / RUBRICS_FILE, folder / RUBRICS_MARKDOWN_FILE]
    write_json_atomic(paths[0], tidy_points(answer_keys_document(assignment, results, moment)))
    write_json_atomic(paths[1], tidy_points(rubrics_document(assignment, results, moment)))
    write_text_atomic(paths[2], markdown)
    return paths


def existing_results_complete(assignment: Assignment, *, accept_offline: bool = True) -> bool:
    """Whether results/ already holds a usable answer key and rubric for every question
    (see `read_rubric_results`), and rubrics.md."""
    if not (assignment.results_dir / RUBRICS_MARKDOWN_FILE).is_file():
        return False
    keys, rubrics = read_rubric_results(assignment, accept_offline=accept_offline)
    expected = {question.question_id for question in assignment.exam.questions}
    return expected <= set(keys) and expected <= set(rubrics)


class OnDisk:
    """The entries of answer_keys.json and rubrics.json as they are, by question id,
    and which of them are still good for the current inputs."""

    def __init__(self, assignment: Assignment) -> None:
        self.fingerprints = question_fingerprints(assignment)
        exam = exam_fingerprint(assignment)
        self._legacy = "exam:" + exam
        self.keys = _entries(assignment.results_dir / ANSWER_KEYS_FILE, "answer_keys", exam)
        self.rubrics = _entries(assignment.results_dir / RUBRICS_FILE, "rubrics", exam)

    def fresh(self, entry: Mapping[str, Any], *, accept_offline: bool) -> bool:
        """Made for exactly the current inputs of its question, ok, and (unless
        `accept_offline`) not an offline template."""
        question_id = str(entry.get("question_id"))
        made_from = entry.get("inputs_fingerprint")
        current = made_from in (self.fingerprints.get(question_id), self._legacy)
        template = entry.get("source") == TEMPLATE_SOURCE
        return current and entry.get("status") == _STATUS_OK and (accept_offline or not template)


def read_on_disk(assignment: Assignment) -> OnDisk:
    """What answer_keys.json and rubrics.json hold now (nothing, when unreadable)."""
    return OnDisk(assignment)


def read_rubric_results(
    assignment: Assignment, *, accept_offline: bool
) -> tuple[dict[str, AnswerKey], dict[str, Rubric]]:
    """The answer keys and rubrics on disk that are still good, by question id: made for
    exactly their question's current inputs, status ok, and (with
    `accept_offline=False`) not a template. Anything unreadable counts as absent."""
    disk = OnDisk(assignment)
    keys = {
        qid: key
        for qid, entry in disk.keys.items()
        if disk.fresh(entry, accept_offline=accept_offline)
        and (key := parse_entry(AnswerKey, entry)) is not None
    }
    rubrics = {
        qid: rubric
        for qid, entry in disk.rubrics.items()
        if disk.fresh(entry, accept_offline=accept_offline)
        and (rubric := parse_entry(Rubric, entry)) is not None
    }
    return keys, rubrics


def parse_entry(model: Any, entry: Mapping[str, Any]) -> Any:
    """An entry's content as its model (source None for a model's), or None."""
    source = entry.get("source")
    try:
        return model.model_validate({**entry, "source": None if source == "model" else source})
    except ValidationError:
        return None


def _entries(path: Path, key: str, exam: str) -> dict[str, dict[str, Any]]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    listed = data.get(key) if isinstance(data, dict) else None
    found: dict[str, dict[str, Any]] = {}
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("question_id"), str):
            legacy = "inputs_fingerprint" not in entry and data.get("exam_fingerprint") == exam
            # Written before per-question fingerprints, for exactly this exam: still good.
            extra = {"inputs_fingerprint": "exam:" + exam} if legacy else {}
            found[entry["question_id"]] = {**entry, **extra}
    return found
