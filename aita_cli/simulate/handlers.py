"""The HTTP side of `aita simulate`: one handler per connection, OpenAI-shaped replies.

The order of checks per chat request is documented in `aita_cli.simulate.server`.
"""

from __future__ import annotations

import itertools
import math
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

import orjson

from aita_cli.errors import BadRequestError
from aita_cli.llm.messages import LLMMessage, as_messages, messages_text
from aita_cli.llm.tokens import estimate_usage
from aita_cli.simulate.refusals import refusal_body, refuses_json_schema
from aita_cli.simulate.synthesis import simulated_reply
from aita_cli.usage import Usage

if TYPE_CHECKING:
    from aita_cli.simulate.server import SimulatorServer, SimulatorState

__all__ = ["SimulatorRequestHandler"]

_completion_ids = itertools.count(1)
_ERROR_REASONS = {
    400: ("invalid_request_error", "bad_request"),
    404: ("invalid_request_error", "not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    502: ("server_error", "bad_gateway"),
    503: ("server_error", "service_unavailable"),
}


def error_body(status: int, message: str) -> dict[str, Any]:
    """An OpenAI-style error object."""
    kind, code = _ERROR_REASONS.get(status, ("server_error", str(status)))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def prepare_reply(
    request: dict[str, Any], messages: list[LLMMessage], state: SimulatorState, body_digest: bytes
) -> tuple[str, Usage]:
    """The reply's text to a chat request and the usage it reports (nothing recorded)."""
    content = simulated_reply(messages, request, rng=state.reply_rng(body_digest))
    if content is None:
        content = _plain_reply(messages)
    return content, estimate_usage(messages, content)


def completion_body(
    request: dict[str, Any], content: str, usage: Usage, cost: float, state: SimulatorState
) -> dict[str, Any]:
    """The 200 reply's body."""
    return {
        "id": f"chatcmpl-sim-{next(_completion_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or state.config.model),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cost": round(cost, 10),
        },
    }


def _plain_reply(messages: list[LLMMessage]) -> str:
    words = " ".join(messages_text(messages).split())
    return f"Simulated reply to: {words[:80]}" if words else "Simulated reply."


def _read_chat_request(request: Any) -> list[LLMMessage] | str:
    """A decoded body's messages, or why it is not a chat request."""
    if not isinstance(request, dict):
        return "the request body must be a JSON object"
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list"
    if not all(isinstance(message, dict) for message in messages):
        return "each message must be an object"
    if request.get("stream"):
        # A JSON reply to a streaming client would fail in its SSE parser, obscurely.
        return "streaming is not supported by aita simulate: send 'stream': false"
    try:
        return as_messages(messages)
    except BadRequestError as exc:
        return str(exc)


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    """Serves one keep-alive connection."""

    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "aita-simulate"
    disable_nagle_algorithm = True  # headers and body must not wait for a delayed ACK
    wbufsize = -1  # buffer the response so headers and body leave in one send
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        state = self.server.state
        if path == "/stats":
            self._send_json(200, state.stats.snapshot())
        elif path == "/v1/models":
            model = {"id": state.config.model, "object": "model", "owned_by": "aita-simulate"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_json(404, error_body(404, f"no such endpoint: GET {path}"))

    def do_POST(self) -> None:
        body = self._read_body()
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/chat/completions":
            self._send_json(404, error_body(404, f"no such endpoint: POST {self.path}"))
            return
        stats = self.server.state.stats
        in_flight = stats.request_started()
        status, refused = 500, False
        try:
            status, refused = self._chat(body, in_flight)
        finally:
            stats.request_finished(status, refused_format=refused)

    def _chat(self, body: bytes, in_flight: int) -> tuple[int, bool]:
        """Answer one chat request; returns the status sent, and whether it was the
        refusal of a json_schema format."""
        state = self.server.state
        config = state.config
        if config.max_concurrency is not None and in_flight > config.max_concurrency:
            message = f"Too many concurrent requests: at most {config.max_concurrency} in flight."
            return self._send_json(429, error_body(429, message)), False
        wait = state.limiter.try_acquire() if state.limiter else None
        if wait is not None:
            message = f"Rate limit reached: {config.rps:g} requests per second."
            return self._send_rate_limited(message, wait), False
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            request = None
        messages = _read_chat_request(request) if request is not None else "invalid JSON"
        if isinstance(messages, str):
            return self._send_json(400, error_body(400, messages)), False
        if config.refuse_json_schema is not None and refuses_json_schema(request):
            status = config.refuse_json_schema
            return self._send_json(status, refusal_body(status)), True
        return self._answer(request, messages, state.digest(body)), False

    def _answer(self, request: dict[str, Any], messages: list[LLMMessage], digest: bytes) -> int:
        state = self.server.state
        content, usage = prepare_reply(request, messages, state, digest)
        wait = state.token_limiter.try_take(usage.total_tokens) if state.token_limiter else None
        if wait is not None:
            message = (
                f"Rate limit reached for tokens per minute: limit {state.config.tpm:g}, "
                f"requested {usage.total_tokens}."
            )
            return self._send_rate_limited(message, wait)
        # The latency runs from here, the request read, as a provider's does: the reply
        # is prepared while it runs, so replies that are due together leave together
        # instead of queueing behind each other's preparation.
        deadline = state.clock() + state.latency_seconds()
        error = state.injected_error()
        if error is not None:
            status, payload = error, error_body(error, f"simulated upstream error {error}")
        else:
            cost = state.price(usage)
            state.stats.completed(digest, usage, cost)
            status, payload = 200, completion_body(request, content, usage, cost, state)
        remaining = deadline - state.clock()
        if remaining > 0:
            state.sleep(remaining)
        return self._send_json(status, payload)

    def _send_rate_limited(self, message: str, wait: float) -> int:
        wait = max(wait, 0.001)
        headers = {
            "Retry-After": str(math.ceil(wait)),
            "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
        }
        return self._send_json(429, error_body(429, f"{message} Retry after {wait:.3f}s."), headers)

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> int:
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**self.server.state.rate_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a simulator under load must not spend its time printing access logs."""
