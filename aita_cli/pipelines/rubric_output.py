"""The files generate-rubric writes, and how it tells that they are already complete.

results/answer_keys.json and results/rubrics.json list the questions in exam order, each
entry either `"status": "ok"` with its content or `"status": "failed"` with the error, so a
later `--resume` knows what to fill in. Both carry a fingerprint of the inputs (exam,
instructions, user rubrics): results are "complete" only for the inputs that made them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    "exam_fingerprint",
    "existing_results_complete",
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
    entries: list[dict[str, Any]] = []
    for result in results:
        question_id = result.question.question_id
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
                **content,
            }
        )
    complete = all(result.answer_key is not None for result in results)
    return {**_header(assignment, complete, now), "answer_keys": entries}


def rubrics_document(
    assignment: Assignment, results: Sequence[QuestionResult], now: datetime
) -> dict[str, Any]:
    """The content of rubrics.json."""
    entries: list[dict[str, Any]] = []
    for result in results:
        question = result.question
        base = {"question_id": question.question_id, "points": question.points}
        if result.rubric is None:
            entries.append({**base, "status": _STATUS_FAILED, "error": result.rubric_error})
            continue
        content = result.rubric.model_dump(mode="json", exclude={"question_id", "source"})
        entries.append(
            {**base, "status": _STATUS_OK, "source": result.rubric.source or "model", **content}
        )
    complete = all(result.rubric is not None for result in results)
    return {**_header(assignment, complete, now), "rubrics": entries}


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


def existing_results_complete(
    assignment: Assignment, fingerprint: str, *, accept_offline: bool = True
) -> bool:
    """Whether results/ already holds complete results for exactly these inputs.

    With `accept_offline=False` (a model is configured now), results that the offline
    backend's templates wrote are placeholders, not results worth keeping.
    """
    folder = assignment.results_dir
    if not (folder / RUBRICS_MARKDOWN_FILE).is_file():
        return False
    expected = [question.question_id for question in assignment.exam.questions]
    return all(
        _document_complete(folder / name, key, fingerprint, expected, accept_offline)
        for name, key in ((ANSWER_KEYS_FILE, "answer_keys"), (RUBRICS_FILE, "rubrics"))
    )


def _document_complete(
    path: Path, key: str, fingerprint: str, expected: list[str], accept_offline: bool
) -> bool:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    if not isinstance(data, dict) or data.get("exam_fingerprint") != fingerprint:
        return False
    entries = data.get(key)
    if data.get("complete") is not True or not isinstance(entries, list):
        return False
    found = [entry.get("question_id") for entry in entries if isinstance(entry, dict)]
    statuses = {entry.get("status") for entry in entries if isinstance(entry, dict)}
    offline = any(
        isinstance(entry, dict) and entry.get("source") == TEMPLATE_SOURCE for entry in entries
    )
    return found == expected and statuses == {_STATUS_OK} and (accept_offline or not offline)


def read_rubric_results(
    assignment: Assignment, *, accept_offline: bool
) -> tuple[dict[str, AnswerKey], dict[str, Rubric]]:
    """The answer keys and rubrics on disk that are usable, by question id: made for
    exactly these inputs, status ok, and (with `accept_offline=False`) not a template.
    Anything unreadable counts as absent."""
    fingerprint = exam_fingerprint(assignment)
    keys = _usable_entries(
        assignment.results_dir / ANSWER_KEYS_FILE, "answer_keys", fingerprint, accept_offline
    )
    rubrics = _usable_entries(
        assignment.results_dir / RUBRICS_FILE, "rubrics", fingerprint, accept_offline
    )
    found_keys, found_rubrics = {}, {}
    for question_id, entry in keys.items():
        try:
            found_keys[question_id] = AnswerKey.model_validate(
                {**entry, "question_id": question_id}
            )
        except ValidationError:
            continue
    for question_id, entry in rubrics.items():
        try:
            found_rubrics[question_id] = Rubric.model_validate(
                {**entry, "question_id": question_id}
            )
        except ValidationError:
            continue
    return found_keys, found_rubrics


def _usable_entries(
    path: Path, key: str, fingerprint: str, accept_offline: bool
) -> dict[str, dict[str, Any]]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("exam_fingerprint") != fingerprint:
        return {}
    entries = data.get(key)
    usable: dict[str, dict[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("status") != _STATUS_OK:
            continue
        if entry.get("source") == TEMPLATE_SOURCE and not accept_offline:
            continue
        source = entry.get("source")
        usable[str(entry.get("question_id"))] = {
            **entry,
            "source": None if source == "model" else source,
        }
    return usable
