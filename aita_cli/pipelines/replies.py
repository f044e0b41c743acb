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
    fenced = _FENCED.search(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    elif not candidate.startswith("{") and "{" in candidate:
        candidate = candidate[candidate.find("{") : candidate.rfind("}") + 1]
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise ResponseValidationError(
            f"the reply is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}); reply with one JSON object only"
        ) from None
    if not isinstance(data, dict):
        raise ResponseValidationError(f"the reply is a JSON {type(data).__name__}, not {expected}")
    return data


def describe_validation(error: ValidationError, *, limit: int = 3) -> str:
    """The first few problems pydantic found, as `field.path: message; ...`."""
    problems = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "the reply"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
