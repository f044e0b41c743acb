"""Every way an OpenAI-compatible call can fail, over real loopback sockets.

Each failure becomes exactly one `aita_cli.errors` class, retryable or not as the
executor needs, with a message that says what to do and never shows the key.
"""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Any

import pytest
from pydantic import SecretStr

from aita_cli.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
)
from aita_cli.llm.openai_client import OpenAICompatibleClient
from aita_cli.usage import Usage
from tests.llm.openai_loopback import LoopbackServer, Reply, completion, serve

KEY = "sk-test-SECRET-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve() as running:
        yield running


def _client(server: LoopbackServer, **options: Any) -> OpenAICompatibleClient:
    options.setdefault("model", "test-model")
    return OpenAICompatibleClient(server.url, SecretStr(KEY), **options)


def _failure(server: LoopbackServer, reply: Reply, **options: Any) -> LLMError:
    server.script(reply)
    with _client(server, **options) as client, pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)
    assert KEY not in str(caught.value)
    return caught.value


# Header makers, called when the test runs: a date fixed at collection time would be
# stale by the time a long suite reaches the test.
_HEADER_FORMS: dict[str, Callable[[], dict[str, str]]] = {
    "seconds": lambda: {"Retry-After": "7"},
    "milliseconds": lambda: {"retry-after-ms": "1500"},
    "http-date": lambda: {"Retry-After": formatdate(time.time() + 30, usegmt=True)},
    "reset-epoch-ms": lambda: {"X-RateLimit-Reset": str(int((time.time() + 20) * 1000))},
    "no-header": dict,
}


@pytest.mark.parametrize(
    ("form", "low", "high"),
    [
        ("seconds", 7.0, 7.0),
        ("milliseconds", 1.5, 1.5),
        ("http-date", 25.0, 31.0),
        ("reset-epoch-ms", 15.0, 21.0),
        ("no-header", None, None),
    ],
)
def test_429_is_a_rate_limit_with_the_providers_wait(
    server: LoopbackServer, form: str, low: float | None, high: float | None
) -> None:
    headers = _HEADER_FORMS[form]()
    error = _failure(server, Reply(429, {"error": {"message": "slow down"}}, headers))
    assert isinstance(error, RateLimitError)
    assert error.retryable
    assert error.status_code == 429
    if low is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None
        assert low <= error.retry_after <= (high or low)


def test_402_in_flight_budget_is_a_retryable_rate_limit(server: LoopbackServer) -> None:
    body = {"error": {"code": 402, "message": "in_flight_budget_exhausted"}}
    error = _failure(server, Reply(402, body, {"Retry-After": "2"}))
    assert isinstance(error, RateLimitError)
    assert error.retryable
    assert error.retry_after == 2.0


def test_other_402_says_out_of_credits(server: LoopbackServer) -> None:
    error = _failure(server, Reply(402, {"error": {"message": "Insufficient credits"}}))
    assert isinstance(error, PaymentRequiredError)
    assert not error.retryable
    assert "out of credits: add credits at your provider" in str(error)


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503])
def test_server_side_failures_are_retryable(server: LoopbackServer, status: int) -> None:
    error = _failure(server, Reply(status, {"error": {"message": "overloaded"}}))
    assert isinstance(error, ServerError)
    assert error.retryable
    assert error.status_code == status
    assert "overloaded" in str(error)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_side_failures_are_fatal_and_quote_the_provider(
    server: LoopbackServer, status: int
) -> None:
    # Some providers echo the key back; it must not reach our message.
    body = {"error": {"message": f"model 'nope' not found (key {KEY})"}}
    error = _failure(server, Reply(status, body))
    assert isinstance(error, BadRequestError)
    assert not error.retryable
    assert "model 'nope' not found" in str(error)


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_names_the_variable_not_the_key(server: LoopbackServer, status: int) -> None:
    error = _failure(server, Reply(status, {"error": {"message": f"bad key {KEY}"}}))
    assert isinstance(error, AuthenticationError)
    assert not error.retryable
    assert str(error) == f"AITA_API_KEY was rejected ({status}): check the key"


def test_rejected_openrouter_key_names_openrouter_variable(server: LoopbackServer) -> None:
    error = _failure(server, Reply(401, {"error": {"message": "no"}}), provider_name="openrouter")
    assert str(error) == "OPENROUTER_API_KEY was rejected (401): check the key"


def test_missing_key_on_a_keyed_endpoint_says_to_set_it(server: LoopbackServer) -> None:
    server.script(Reply(401, {"error": {"message": "no key"}}))
    client = OpenAICompatibleClient(server.url, None, model="m")
    with pytest.raises(AuthenticationError, match="set AITA_API_KEY"):
        client.complete(MESSAGES)
    client.close()


def test_key_with_a_control_character_is_a_clear_error_that_hides_it(
    server: LoopbackServer,
) -> None:
    client = OpenAICompatibleClient(server.url, SecretStr(KEY + "\nX-Extra: 1"), model="m")
    with pytest.raises(BadRequestError) as caught:
        client.complete(MESSAGES)
    client.close()
    assert "check AITA_API_KEY for stray characters" in str(caught.value)
    assert not caught.value.retryable
    # Not even the traceback AITA_DEBUG=1 prints may quote it.
    assert KEY not in "".join(traceback.format_exception(caught.value))
    assert server.requests == []


def test_read_timeout_is_retryable(server: LoopbackServer) -> None:
    error = _failure(server, Reply(body=completion(), delay=0.5), read_timeout=0.05)
    assert isinstance(error, LLMTimeoutError)
    assert error.retryable


def test_connection_refused_asks_whether_the_server_runs() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenAICompatibleClient(f"http://127.0.0.1:{port}/v1", SecretStr(KEY), model="m")
    with pytest.raises(LLMConnectionError) as caught:
        client.complete(MESSAGES)
    assert str(caught.value).startswith(
        f"cannot reach http://127.0.0.1:{port}/v1: is the server running?"
    )
    assert caught.value.retryable
    client.close()


@pytest.mark.parametrize(
    "body",
    [
        "this is not json{",
        '["a list"]',
        {"choices": []},
        {"id": "x"},
        {"choices": [{"message": {"role": "assistant", "content": None}}]},
    ],
    ids=["not-json", "not-an-object", "empty-choices", "no-choices", "null-content"],
)
def test_unusable_200_is_malformed(server: LoopbackServer, body: dict[str, Any] | str) -> None:
    error = _failure(server, Reply(200, body))
    assert isinstance(error, MalformedResponseError)
    assert error.retryable


def test_error_object_in_a_200_is_malformed_and_keeps_the_cost(server: LoopbackServer) -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 0, "cost": 0.002}
    body = {"error": {"code": 502, "message": "upstream died"}, "usage": usage}
    error = _failure(server, Reply(200, body))
    assert isinstance(error, MalformedResponseError)
    assert "upstream died" in str(error)
    assert error.cost == 0.002
    assert error.usage == Usage(prompt_tokens=10)


def test_truncated_reply_is_malformed_and_paid(server: LoopbackServer) -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 2000}
    body = completion('{"partial": ', model="gpt-4o-mini", finish_reason="length", usage=usage)
    error = _failure(server, Reply(200, body), model="gpt-4o-mini")
    assert isinstance(error, MalformedResponseError)
    assert "length" in str(error)
    assert error.usage == Usage(prompt_tokens=1000, completion_tokens=2000)
    assert error.cost_is_estimate
    assert error.cost == pytest.approx((1000 * 0.15 + 2000 * 0.60) / 1e6)


def test_redirect_says_to_use_the_final_url(server: LoopbackServer) -> None:
    error = _failure(server, Reply(308, "", {"Location": "https://api.example/v1/chat"}))
    assert isinstance(error, BadRequestError)
    assert "https://api.example/v1/chat" in str(error)
    assert "AITA_BASE_URL" in str(error)


def test_html_page_hints_at_the_base_url(server: LoopbackServer) -> None:
    server.script(Reply(200, "<html>Open WebUI</html>", {"Content-Type": "text/html"}))
    with _client(server) as client, pytest.raises(MalformedResponseError) as caught:
        client.complete(MESSAGES)
    assert "(text/html)" in str(caught.value)
    assert "is AITA_BASE_URL the API's URL" in str(caught.value)


def test_key_with_a_non_ascii_character_is_a_config_error_that_hides_it() -> None:
    # A typographic quote pasted with the key: httpx alone raises a bare
    # UnicodeEncodeError, which the CLI would report as an internal error.
    with pytest.raises(ConfigError) as caught:
        OpenAICompatibleClient(
            "http://127.0.0.1:9/v1", SecretStr(KEY + "\u201d"), model="m", key_variable="K_VAR"
        )
    assert "K_VAR holds a character that is not plain ASCII" in str(caught.value)
    assert KEY not in "".join(traceback.format_exception(caught.value))


def test_non_ascii_app_title_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="AITA_APP_TITLE holds a character"):
        OpenAICompatibleClient(
            "http://127.0.0.1:9/v1", None, model="m", extra_headers={"X-Title": "Prüfung"}
        )


@pytest.mark.parametrize("url", ["ftp://user:sk-SECRET@host/v1", "http://user:sk-SECRET@[::1/v1"])
def test_bad_base_url_is_quoted_without_its_password(url: str) -> None:
    with pytest.raises(ConfigError, match="AITA_BASE_URL") as caught:
        OpenAICompatibleClient(url, None, model="m")
    assert "sk-SECRET" not in str(caught.value)
    assert "//***@" in str(caught.value)


def test_infinite_timeouts_mean_no_timeout(server: LoopbackServer) -> None:
    # AITA_REQUEST_TIMEOUT=inf is a valid float; sockets reject it with OverflowError.
    server.script(Reply(body=completion("fine")))
    infinite = float("inf")
    with _client(server, read_timeout=infinite, connect_timeout=infinite) as client:
        assert client.complete(MESSAGES).content == "fine"


def test_a_traceback_in_the_servers_message_is_left_out(server: LoopbackServer) -> None:
    body = {
        "error": {
            "message": "Traceback (most recent call last):\n"
            '  File "/app/server.py", line 9, in handle\n'
            "    run()\n"
            "RuntimeError: the model failed to load",
        }
    }
    error = _failure(server, Reply(500, body))
    assert str(error).endswith("server error (500): RuntimeError: the model failed to load")
    assert "\n" not in str(error)
