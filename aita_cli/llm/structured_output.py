"""Structured output that degrades step by step when an endpoint refuses it.

aita asks for JSON in the strongest form an endpoint accepts, and learns which that is
from the endpoint's refusals, once per model:

1. `response_format` of type `json_schema` (OpenAI, OpenRouter, vLLM, recent Ollama);
2. `response_format` of type `json_object`, with the schema in the prompt (llama.cpp and
   llama-cpp-python servers accept this, and refuse `json_schema`);
3. the schema in the prompt alone, for endpoints that know no `response_format`.

A refusal is a reply that says so, whatever its status: a 400, a 422 or a 5xx whose body
names `response_format` or the format (llama-cpp-python reports its validation error as
a 500). Stepping down is capability
negotiation, not a retry: the request never reached a model, so it spends none of the
task's retries. Replies are validated by the task either way.
"""

from __future__ import annotations

import threading
from enum import StrEnum

import httpx

__all__ = ["FormatLadder", "OutputFormat", "refuses_format"]


class OutputFormat(StrEnum):
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    INSTRUCTIONS = "instructions"  # no response_format: the schema is in the prompt


_LADDER = (OutputFormat.JSON_SCHEMA, OutputFormat.JSON_OBJECT, OutputFormat.INSTRUCTIONS)


def refuses_format(response: httpx.Response, sent: OutputFormat) -> bool:
    """Whether `response` refuses the `response_format` of type `sent`."""
    status = response.status_code
    if sent is OutputFormat.INSTRUCTIONS or not (status in (400, 422) or status >= 500):
        return False
    # The body must name the format: "not supported" alone may be about anything
    # ("'max_tokens' is not supported with this model"), and a step down is remembered.
    body = response.text.lower()
    return any(name in body for name in ("response_format", "response format", sent.value))


class FormatLadder:
    """The format each model of one endpoint is asked for; thread-safe.

    Every model starts at the top. `step_down` moves a model one step below the format
    a refused request used, and never back up, so workers refused at the same moment
    step it down once, not once each.
    """

    def __init__(self) -> None:
        self._levels: dict[str, int] = {}
        self._lock = threading.Lock()

    def current(self, model: str) -> OutputFormat:
        return _LADDER[self._levels.get(model, 0)]

    def step_down(self, model: str, refused: OutputFormat) -> OutputFormat:
        """The format to try after `refused` was refused; remembered for `model`."""
        below = min(_LADDER.index(refused) + 1, len(_LADDER) - 1)
        with self._lock:
            level = max(self._levels.get(model, 0), below)
            self._levels[model] = level
        return _LADDER[level]
