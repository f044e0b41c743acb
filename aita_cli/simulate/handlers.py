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


def chat_completion_body(
    request: dict[str, Any], messages: list[LLMMessage], state: SimulatorState, body_digest: bytes
) -> dict[str, Any]:
    """The 200 reply to a chat request, recorded in the stats."""
    content = simulated_reply(messages, request, rng=state.reply_rng(body_digest))
    if content is None:
        content = _plain_reply(messages)
    usage = estimate_usage(messages, content)
    cost = state.price(usage)
    state.stats.completed(body_digest, usage, cost)
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
        stats.request_started()
        status, refused = 500, False
        try:
            status, refused = self._chat(body)
        finally:
            stats.request_finished(status, refused_format=refused)

    def _chat(self, body: bytes) -> tuple[int, bool]:
        """Answer one chat request; returns the status sent, and whether it was the
        refusal of a json_schema format."""
        state = self.server.state
        wait = state.limiter.try_acquire() if state.limiter else None
        if wait is not None:
            return self._send_rate_limited(wait), False
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            request = None
        messages = _read_chat_request(request) if request is not None else "invalid JSON"
        if isinstance(messages, str):
            return self._send_json(400, error_body(400, messages)), False
        refusal = state.config.refuse_json_schema
        if refusal is not None and refuses_json_schema(request):
            return self._send_json(refusal, refusal_body(refusal)), True
        # The latency runs from here, the request read, as a provider's does: the reply
        # is prepared while it runs, so replies that are due together leave together
        # instead of queueing behind each other's preparation.
        deadline = state.clock() + state.latency_seconds()
        error = state.injected_error()
        if error is not None:
            status, payload = error, error_body(error, f"simulated upstream error {error}")
        else:
            status, payload = (
                200,
                chat_completion_body(request, messages, state, state.digest(body)),
            )
        remaining = deadline - state.clock()
        if remaining > 0:
            state.sleep(remaining)
        return self._send_json(status, payload), False

    def _send_rate_limited(self, wait: float) -> int:
        rps = self.server.state.config.rps
        wait = max(wait, 0.001)
        headers = {
            "Retry-After": str(math.ceil(wait)),
            "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
        }
        message = f"Rate limit reached: {rps:g} requests per second. Retry after {wait:.3f}s."
        return self._send_json(429, error_body(429, message), headers)

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
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a simulator under load must not spend its time printing access logs."""
