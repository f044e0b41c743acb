"""Reading a model's JSON reply, shared by every pipeline's tasks.

Models wrap JSON in ```json fences or a sentence of prose often enough that refusing it
would waste a paid call; anything still unreadable becomes a ResponseValidationError
whose text tells the model exactly what to fix when it is re-asked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from aita_cli.errors import ResponseValidationError

__all__ = ["describe_validation", "json_object_from_reply"]

_FENCED = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


def json_object_from_reply(text: str, *, expected: str = "one JSON object") -> dict[str, Any]:
    """The JSON object in `text`: bare, in fences, or inside prose (outermost braces).

    `expected` names what the object should hold, for the error the model is re-asked
    with (e.g. "an object with text, confidence, notes and answers").
    """
    candidate = text.strip()
    try:
        # Bare JSON first: its strings may quote ``` fences themselves (an answer key
        # for a programming question), which must not be mistaken for a wrapper.
        data = json.loads(candidate)
    except json.JSONDecodeError as exc:
        data = _unwrapped(candidate, exc)
    if not isinstance(data, dict):
        raise ResponseValidationError(f"the reply is a JSON {type(data).__name__}, not {expected}")
    return data


def _unwrapped(text: str, error: json.JSONDecodeError) -> Any:
    """The JSON inside ``` fences or between the outermost braces of prose."""
    candidates = []
    fenced = _FENCED.search(text)
    if fenced:
        candidates.append(fenced.group(1).strip())
    if "{" in text:
        candidates.append(text[text.find("{") : text.rfind("}") + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            error = exc
    raise ResponseValidationError(
        f"the reply is not valid JSON ({error.msg} at line {error.lineno} column "
        f"{error.colno}); reply with one JSON object only"
    ) from None


def describe_validation(error: ValidationError, *, limit: int = 3) -> str:
    """The first few problems pydantic found, as `field.path: message; ...`."""
    problems = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "the reply"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
