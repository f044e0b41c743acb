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
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ANSWER_KEY",
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
    "read_prompt_field",
]

ANSWER_KEY = "answer_key"
RUBRIC = "rubric"
PAGE_TRANSCRIPTION = "page_transcription"
KINDS = (ANSWER_KEY, RUBRIC, PAGE_TRANSCRIPTION)

# Labels of the prompt lines; a pipeline writes f"{QUESTION_POINTS_LINE}: {points}".
QUESTION_ID_LINE = "Question id"
QUESTION_TYPE_LINE = "Question type"
QUESTION_POINTS_LINE = "Question points"
QUESTION_TEXT_LINE = "Question text"
PAGE_NUMBER_LINE = "Page number"
PAGE_QUESTIONS_LINE = "Questions on this page"  # comma-separated ids, may be empty


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
