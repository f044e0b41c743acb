"""How a request says what kind of aita task it is, for backends that answer without a
model (the offline templates and `aita simulate`).

The contract is small and visible in the request itself, so any real model simply sees a
well-formed prompt:

- the kind is the structured-output schema name, `params["json_schema"]["name"]`, which
  travels over HTTP as `response_format.json_schema.name`, or, where an endpoint takes
  no `json_schema` format, in the prompt's schema instruction (`SCHEMA_INSTRUCTION`);
- facts a synthetic reply needs are plain prompt lines of the form `Label: value`
  (see the *_LINE constants); `read_prompt_field` reads them back from the request's
  text (`aita_cli.llm.messages.messages_text`).

Reply shapes (JSON objects) per kind:

- ANSWER_KEY: {"question_id", "correct_answer", "solution_steps": [str],
  "alternative_answers": [str], "explanation", "grading_notes"}
- RUBRIC: {"question_id", "total_points", "criteria": [{"name", "description",
  "points", "examples": [str]}]}; criteria points sum exactly to total_points
- PAGE_TRANSCRIPTION: {"text", "confidence" (0..1), "notes",
  "answers": [{"question_id", "text"}]}
- GRADE: {"question_id", "criteria": [{"name", "points_awarded", "reason"}],
  "total_points", "feedback", "confidence" (0..1)}; one entry per rubric criterion (the
  prompt's `CRITERION_LINE`s), each within 0..its points, summing to total_points
- GRADE_BATCH: {"grades": [GRADE, ...]}, one per item of the prompt; items start with
  an `ITEM_LINE` ("--- Item 2 of 3 ---") and carry the question lines of their own
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ANSWER_KEY",
    "ANSWER_LINE",
    "CRITERION_LINE",
    "GRADE",
    "GRADE_BATCH",
    "ITEM_END_LINE",
    "ITEM_LINE",
    "PAGE_NUMBER_LINE",
    "PAGE_QUESTIONS_LINE",
    "PAGE_TRANSCRIPTION",
    "QUESTION_ID_LINE",
    "QUESTION_POINTS_LINE",
    "QUESTION_TEXT_LINE",
    "QUESTION_TYPE_LINE",
    "RUBRIC",
    "SCHEMA_INSTRUCTION",
    "kind_of_request",
    "prompt_criteria",
    "prompt_items",
    "read_prompt_field",
]

ANSWER_KEY = "answer_key"
RUBRIC = "rubric"
PAGE_TRANSCRIPTION = "page_transcription"
GRADE = "grade"
GRADE_BATCH = "grade_batch"
KINDS = (ANSWER_KEY, RUBRIC, PAGE_TRANSCRIPTION, GRADE, GRADE_BATCH)

# Labels of the prompt lines; a pipeline writes f"{QUESTION_POINTS_LINE}: {points}".
QUESTION_ID_LINE = "Question id"
QUESTION_TYPE_LINE = "Question type"
QUESTION_POINTS_LINE = "Question points"
QUESTION_TEXT_LINE = "Question text"
PAGE_NUMBER_LINE = "Page number"
PAGE_QUESTIONS_LINE = "Questions on this page"  # comma-separated ids, may be empty
# f"{CRITERION_LINE} ({points} points): {name}", one line per rubric criterion
CRITERION_LINE = "Rubric criterion"
# f"{ITEM_LINE} {n} of {count} ---" opens each item of a GRADE_BATCH prompt, and
# ITEM_END_LINE closes every grading item; the student's answer sits between
# f"{ANSWER_LINE} (...):" and the item's end, so criteria are read only before it.
ITEM_LINE = "--- Item"
ITEM_END_LINE = "--- End of item ---"
ANSWER_LINE = "Student answer"
_CRITERION = re.compile(
    rf"^{re.escape(CRITERION_LINE)} \((?P<points>[0-9]+(?:\.[0-9]+)?) points?\): (?P<name>.+)$",
    re.MULTILINE,
)
_ITEM = re.compile(rf"^{re.escape(ITEM_LINE)} \d+ of \d+ ---$", re.MULTILINE)


# How a request asks for JSON in words when the endpoint takes no json_schema format.
SCHEMA_INSTRUCTION = "Reply with JSON only, matching this schema ({name}):\n{schema}"
_INSTRUCTED_KIND = re.compile(r"^Reply with JSON only, matching this schema \((\w+)\):", re.M)


def kind_of_request(params: dict[str, Any], text: str = "") -> str | None:
    """The task kind a request declares: from its params or HTTP body, else from the
    schema instruction in its text."""
    spec = params.get("json_schema")
    if spec is None:
        fmt = params.get("response_format")
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    if name is None and text:
        found = _INSTRUCTED_KIND.search(text)
        name = found.group(1) if found else None
    return name if name in KINDS else None


def read_prompt_field(text: str, label: str) -> str | None:
    """The value of the first `label: value` line in `text`, or None."""
    match = re.search(rf"^{re.escape(label)}:[ \t]*(.*)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def prompt_criteria(text: str) -> list[tuple[str, float]]:
    """The (name, points) of every `CRITERION_LINE` in `text` before the student's
    answer (`ANSWER_LINE`), in order: lines a student wrote never count."""
    answer = text.find(f"\n{ANSWER_LINE} (")
    rubric_part = text if answer < 0 else text[:answer]
    return [
        (match.group("name").strip(), float(match.group("points")))
        for match in _CRITERION.finditer(rubric_part)
    ]


def prompt_items(text: str) -> list[str]:
    """The items of a GRADE_BATCH prompt: the text after each `ITEM_LINE`, in order."""
    return _ITEM.split(text)[1:]
