"""Translate what an OpenAI-compatible endpoint answers into aita's error tree, once.

Only this module and `openai_client` see httpx errors and HTTP status codes; everything
above them sees `aita_cli.errors.LLMError` subclasses, whose `retryable` flag decides
whether the executor tries again (openai-python's rule: 408, 409, 429, 5xx, timeouts and
connection errors are worth another attempt; other 4xx are not). Messages say what to do
and never contain the API key, even when a provider echoes it back.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from aita_cli.errors import (
    AuthenticationError,
    BadRequestError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
)
from aita_cli.llm.retry_after import parse_retry_after

__all__ = [
    "error_for_status",
    "error_for_transport",
    "message_in_body",
    "redact",
]

_MAX_MESSAGE_CHARS = 300
# OpenRouter answers 402 with this code when too many requests are in flight for the
# account's remaining credit: it clears as calls finish, so it is a rate limit, not a bill.
_IN_FLIGHT_BUDGET = "in_flight_budget_exhausted"


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` masked."""
    return text.replace(secret, "***") if secret else text


def message_in_body(payload: Any) -> str | None:
    """The human message inside common error bodies: {"error": {"message"}} and kin."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error", payload)
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or error.get("msg")
        if message:
            return str(message)
    detail = payload.get("detail") or payload.get("message")
    return str(detail) if detail else None


def provider_message(response: httpx.Response, secret: str | None = None) -> str:
    """The provider's own explanation of a failed call: one trimmed line, key removed."""
    try:
        message = message_in_body(orjson.loads(response.content))
    except orjson.JSONDecodeError:
        message = None
    text = message if message is not None else response.text
    text = " ".join(redact(_without_traceback(text), secret).split())
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 3] + "..."
    return text or response.reason_phrase or "no details"


_TRACEBACK = "Traceback (most recent call last):"


def _without_traceback(text: str) -> str:
    """A server's message without the Python traceback some put in it (llama-cpp-python
    does, in a 500): what came before it, and the exception line that ends it."""
    before, found, trace = text.partition(_TRACEBACK)
    if not found:
        return text
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    last = lines[-1] if lines else ""  # a traceback ends with the exception itself
    return f"{before.strip()} {last}".strip()


def _auth_error(status: int, key_variable: str, has_key: bool) -> AuthenticationError:
    if has_key:
        text = f"{key_variable} was rejected ({status}): check the key"
    else:
        text = f"the endpoint needs an API key ({status}): set {key_variable}"
    return AuthenticationError(text, status_code=status)


def error_for_status(
    response: httpx.Response,
    *,
    provider: str,
    key_variable: str,
    has_key: bool,
    secret: str | None = None,
) -> LLMError:
    """The error for a non-2xx reply. `secret` is only used to scrub it from messages."""
    status = response.status_code
    detail = provider_message(response, secret)
    if status == 429 or (status == 402 and _IN_FLIGHT_BUDGET in response.text):
        return RateLimitError(
            f"{provider} rate limit ({status}): {detail}",
            status_code=status,
            retry_after=parse_retry_after(response.headers),
        )
    if status == 402:
        return PaymentRequiredError(
            f"out of credits: add credits at your provider ({provider}, 402: {detail})",
            status_code=status,
        )
    if status in (401, 403):
        return _auth_error(status, key_variable, has_key)
    if 300 <= status < 400:
        location = response.headers.get("location", "elsewhere")
        return BadRequestError(
            f"{provider} redirected the request ({status}) to {location}: "
            "set AITA_BASE_URL to the API's final URL",
            status_code=status,
        )
    if status in (408, 409) or status >= 500:
        return ServerError(f"{provider} server error ({status}): {detail}", status_code=status)
    return BadRequestError(
        f"{provider} rejected the request ({status}): {detail}", status_code=status
    )


def error_for_transport(exc: httpx.RequestError, *, endpoint: str, read_timeout: float) -> LLMError:
    """The error for a request that never got a reply (timeout, refused, reset, TLS)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return LLMTimeoutError(f"timed out connecting to {endpoint}: is the server up?")
    if isinstance(exc, httpx.PoolTimeout):
        return LLMTimeoutError(f"no free connection to {endpoint} in time (pool exhausted)")
    if isinstance(exc, httpx.TimeoutException):
        return LLMTimeoutError(f"{endpoint} did not answer within {read_timeout:g} s")
    reason = type(exc).__name__
    return LLMConnectionError(f"cannot reach {endpoint}: is the server running? ({reason})")
