"""Load and check an assignment folder (docs/architecture.md, "The assignment folder").

Everything is validated before anything runs: a bad file stops the command with one
InputError line that names the file and the problem, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import ValidationError

from aita_cli.domain.models import ExamSpec, Question, QuestionType, Rubric, points_equal
from aita_cli.domain.naming import natural_key
from aita_cli.errors import InputError

__all__ = [
    "Assignment",
    "load_assignment",
    "read_json_file",
    "require_question",
    "validate_assignment_name",
]

EXAM_FILE = "exam.json"
INSTRUCTIONS_FILE = "instructions.txt"
QUESTION_INSTRUCTIONS_FILE = "question_instructions.json"
USER_RUBRICS_FILE = "user_rubrics.json"


@dataclass(frozen=True)
class Assignment:
    """A validated assignment folder: the exam, the optional instructions and rubrics."""

    name: str
    root: Path
    exam: ExamSpec
    instructions: str | None
    question_instructions: dict[str, str]
    user_rubrics: dict[str, Rubric]

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def submissions_dir(self) -> Path:
        return self.root / "submissions"


def validate_assignment_name(name: str) -> str:
    """The name itself when it is one plain folder name; InputError otherwise."""
    problem = None
    if not name.strip():
        problem = "it is empty"
    elif "/" in name or "\\" in name:
        problem = "it must be a folder name, not a path (no '/' or '\\')"
    elif ".." in name:
        problem = "it must not contain '..'"
    elif name.startswith("."):
        problem = "it must not start with '.'"
    elif "\x00" in name:
        problem = "it must not contain a NUL character"
    if problem:
        raise InputError(f"invalid assignment name {name!r}: {problem}")
    return name


def load_assignment(data_dir: Path, name: str) -> Assignment:
    """Read and validate `<data_dir>/<name>/`; InputError (one line) on any problem."""
    validate_assignment_name(name)
    root = _assignment_root(data_dir, name)
    exam = _load_exam(root / EXAM_FILE, f"{name}/{EXAM_FILE}")
    _check_results_folder(root / "results", f"{name}/results")
    return Assignment(
        name=name,
        root=root,
        exam=exam,
        instructions=_load_instructions(root / INSTRUCTIONS_FILE, f"{name}/{INSTRUCTIONS_FILE}"),
        question_instructions=_load_question_instructions(
            root / QUESTION_INSTRUCTIONS_FILE, f"{name}/{QUESTION_INSTRUCTIONS_FILE}", exam
        ),
        user_rubrics=_load_user_rubrics(
            root / USER_RUBRICS_FILE, f"{name}/{USER_RUBRICS_FILE}", exam
        ),
    )


def _assignment_root(data_dir: Path, name: str) -> Path:
    try:
        return _existing_root(data_dir, name)
    except OSError as exc:  # a name too long for the file system, a folder not readable
        raise InputError(
            f"cannot open assignment {name!r} in {data_dir}: {exc.strerror or exc}"
        ) from exc


def _existing_root(data_dir: Path, name: str) -> Path:
    if not data_dir.is_dir():
        raise InputError(
            f"data directory {data_dir} does not exist (set AITA_DATA_DIR or pass --data-dir)"
        )
    root = data_dir / name
    if not root.is_dir():
        folders = sorted(
            (p.name for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=natural_key,
        )
        listing = f"folders there: {', '.join(folders)}" if folders else "it has no folders"
        raise InputError(f"no assignment {name!r} in {data_dir} ({listing})")
    return root


def _check_results_folder(path: Path, label: str) -> None:
    # Found now, before any model is paid for, rather than when the outputs are written.
    if path.exists() and not path.is_dir():
        raise InputError(f"{label}: exists but is not a folder (aita writes its results there)")


def _read_text(path: Path, label: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{label}: cannot read it ({exc.strerror or exc})") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json_file(path: Path, label: str) -> Any:
    """A JSON file's data; InputError naming `label` and the line for bad JSON."""
    text = _read_text(path, label)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{label}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:  # NaN / Infinity, which Python's json would otherwise accept
        raise InputError(f"{label}: invalid JSON: {exc}") from exc


def _load_exam(path: Path, label: str) -> ExamSpec:
    if not path.is_file():
        raise InputError(f"{label}: not found (every assignment needs an exam.json)")
    data = read_json_file(path, label)
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a JSON object with exam_name and questions")
    _check_duplicate_ids(data.get("questions"), label)
    try:
        return ExamSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{label}: {_explain(exc, data)}") from exc


def _check_duplicate_ids(questions: object, label: str) -> None:
    if not isinstance(questions, list):
        return
    first_seen: dict[str, int] = {}
    for number, question in enumerate(questions, start=1):
        if not isinstance(question, dict) or not isinstance(question.get("question_id"), int | str):
            continue
        question_id = str(question["question_id"]).strip()
        if question_id in first_seen:
            raise InputError(
                f"{label}: question {number}: duplicate question_id {question_id!r} "
                f"(also question {first_seen[question_id]})"
            )
        first_seen[question_id] = number


def _load_instructions(path: Path, label: str) -> str | None:
    if not path.is_file():
        return None
    return _read_text(path, label).strip() or None


def _load_question_instructions(path: Path, label: str, exam: ExamSpec) -> dict[str, str]:
    if not path.is_file():
        return {}
    data = read_json_file(path, label)
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a JSON object mapping question ids to text")
    result: dict[str, str] = {}
    for question_id, text in data.items():
        require_question(exam, question_id, label)
        if not isinstance(text, str):
            raise InputError(f"{label}: the entry for question {question_id!r} must be text")
        if text.strip():
            result[question_id] = text.strip()
    return result


def _load_user_rubrics(path: Path, label: str, exam: ExamSpec) -> dict[str, Rubric]:
    if not path.is_file():
        return {}
    data = read_json_file(path, label)
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a JSON object mapping question ids to rubrics")
    rubrics: dict[str, Rubric] = {}
    for question_id, raw in data.items():
        question = require_question(exam, question_id, label)
        rubrics[question_id] = _user_rubric(raw, question, f"{label}: question {question_id!r}")
    order = {q.question_id: index for index, q in enumerate(exam.questions)}
    return dict(sorted(rubrics.items(), key=lambda item: order[item[0]]))


def _user_rubric(raw: object, question: Question, where: str) -> Rubric:
    """Check one user rubric against its question, filling question_id and total_points."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a rubric object with criteria")
    given_id = raw.get("question_id")
    if given_id is not None and str(given_id).strip() != question.question_id:
        raise InputError(f"{where}: question_id {given_id!r} does not match its key")
    total = raw.get("total_points")
    if _is_number(total) and not points_equal(float(total), question.points):
        raise InputError(
            f"{where}: total_points is {float(total):g} but the question is worth "
            f"{question.points:g} points"
        )
    criteria_sum = _criteria_points(raw.get("criteria"))
    if criteria_sum is not None and not points_equal(criteria_sum, question.points):
        raise InputError(
            f"{where}: criteria points sum to {criteria_sum:g}, but the question is worth "
            f"{question.points:g} points"
        )
    filled = {
        **raw,
        "question_id": question.question_id,
        "total_points": raw.get("total_points", question.points),
        "source": "user",
    }
    try:
        return Rubric.model_validate(filled)
    except ValidationError as exc:
        raise InputError(f"{where}: {_explain(exc, filled, item_word='criterion')}") from exc


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _criteria_points(criteria: object) -> float | None:
    """The sum of the criteria's points, or None when they are not all plain numbers
    (then the model's own validation explains what is wrong)."""
    if not isinstance(criteria, list) or not criteria:
        return None
    total = 0.0
    for criterion in criteria:
        points = criterion.get("points") if isinstance(criterion, dict) else None
        if not _is_number(points):
            return None
        total += float(points)
    return total


def require_question(exam: ExamSpec, question_id: str, label: str) -> Question:
    """The exam's question `question_id`; InputError listing the known ones otherwise."""
    question = exam.question(question_id)
    if question is None:
        known = ", ".join(q.question_id for q in exam.questions)
        raise InputError(f"{label}: unknown question {question_id!r} (exam questions: {known})")
    return question


# --- pydantic errors as one readable line -----------------------------------------------

_ALLOWED_TYPES = ", ".join(t.value for t in QuestionType)


def _explain(exc: ValidationError, data: Mapping[str, Any], item_word: str = "question") -> str:
    """The first validation problem as 'question 3 (id '2b'): points must be ...'."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    location = list(first["loc"])
    where = _where(location, data, item_word)
    field = str(location[-1]) if location and isinstance(location[-1], str) else ""
    message = _problem(first, field)
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}{message}{more}"


def _where(location: list[Any], data: Mapping[str, Any], item_word: str) -> str:
    """'question 3 (id '2b'): ' for a problem inside a list item, '' at the top level."""
    if len(location) >= 2 and isinstance(location[1], int):
        items = data.get(str(location[0]))
        number = location[1] + 1
        item = items[location[1]] if isinstance(items, list) else None
        ident = item.get("question_id") if isinstance(item, dict) else None
        if ident is not None and item_word == "question":
            return f"{item_word} {number} (id {str(ident)!r}): "
        if len(location) == 2:
            return f"{location[0]} item {number}: "
        return f"{item_word} {number}: "
    return ""


def _problem(error: Mapping[str, Any], field: str) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return f"missing field {field!r}"
    if kind == "greater_than":
        return f"{field} must be greater than {_number(context.get('gt'))}"
    if kind == "greater_than_equal":
        return f"{field} must be at least {_number(context.get('ge'))}"
    if kind == "enum":
        return f"unknown {field} {error.get('input')!r} (allowed: {_ALLOWED_TYPES})"
    if kind == "string_too_short":
        return f"{field} must not be empty"
    if kind == "too_short":
        return f"{field} must not be empty"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return f"{field} must be a number, not {error.get('input')!r}"
    if kind in ("dict_type", "model_type"):
        return f"{field} must be a JSON object" if field else "expected a JSON object"
    return f"{field}: {error['msg'][0].lower()}{error['msg'][1:]}" if field else error["msg"]


def _number(value: object) -> str:
    return f"{value:g}" if _is_number(value) else str(value)
