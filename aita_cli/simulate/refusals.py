"""How real servers refuse a `response_format` of type `json_schema`, for `aita simulate
--refuse-json-schema CODE`.

Each body imitates one server's own refusal, so aita's step-down is tested against what
it will meet: OpenAI-style 400 (an error object naming the parameter), vLLM/FastAPI-style
422 (a validation `detail` list), and llama-cpp-python's 500 (its validation error as an
internal error, traceback text included).
"""

from __future__ import annotations

from typing import Any

__all__ = ["REFUSAL_STATUSES", "refusal_body", "refuses_json_schema"]

REFUSAL_STATUSES = (400, 422, 500)

_LLAMA_CPP_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/app/llama_cpp/server/app.py", line 412, in create_chat_completion\n'
    "    response_format = validate_response_format(body.response_format)\n"
    '  File "/app/llama_cpp/server/types.py", line 87, in validate_response_format\n'
    "    raise ValueError(message)\n"
    "ValueError: response_format type 'json_schema' is not supported; "
    "use 'text' or 'json_object'"
)


def refuses_json_schema(request: dict[str, Any]) -> bool:
    """Whether the request asks for `response_format` of type `json_schema`."""
    fmt = request.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def refusal_body(status: int) -> dict[str, Any]:
    """The body a server of that kind answers a json_schema request with."""
    if status == 422:
        return {
            "detail": [
                {
                    "type": "literal_error",
                    "loc": ["body", "response_format", "type"],
                    "msg": "Input should be 'text' or 'json_object'",
                    "input": "json_schema",
                }
            ]
        }
    if status == 500:
        return {
            "error": {
                "message": _LLAMA_CPP_TRACEBACK,
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
        }
    return {
        "error": {
            "message": "Invalid parameter: 'response_format' of type 'json_schema' is not "
            "supported with this model.",
            "type": "invalid_request_error",
            "param": "response_format",
            "code": None,
        }
    }
