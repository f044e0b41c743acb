"""A scripted OpenAI-compatible server on 127.0.0.1 for the HTTP client's tests.

A real `ThreadingHTTPServer` on an ephemeral port: each POST is recorded and answered
with the next scripted `Reply` (the last one repeats), so tests exercise real sockets,
keep-alive and timeouts without any mock of our own code.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer. A dict body is sent as JSON; `delay` is slept first."""

    status: int = 200
    body: dict[str, Any] | str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    client_port: int


def completion(
    content: str = "hello",
    *,
    model: str = "test-model",
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A chat-completions reply body."""
    body: dict[str, Any] = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body


Responder = Callable[[Recorded], Reply]


class LoopbackServer:
    """Serves scripted replies; `url` is the base URL a client is given (ends in /v1)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: list[Reply] = [Reply(body=completion())]
        self.get_reply = Reply(404, {"error": {"message": "not found"}})  # every GET
        self._responder: Responder | None = None
        self._lock = threading.Lock()
        self._http = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with `replies` in order; the last one repeats."""
        with self._lock:
            self._script = list(replies)
            self._responder = None

    def respond_with(self, responder: Responder) -> None:
        """Answer every request by calling `responder` with it."""
        with self._lock:
            self._responder = responder

    def next_reply(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._responder is not None:
                return self._responder(request)
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def start(self) -> None:
        # A short poll interval keeps shutdown (once per test) fast.
        threading.Thread(target=self._http.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping past a client timeout is let go

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here, not an error."""


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real providers do
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per reply

        def do_GET(self) -> None:
            server.requests.append(
                Recorded(
                    self.path,
                    {key.lower(): value for key, value in self.headers.items()},
                    {},
                    self.client_address[1],
                )
            )
            self._send(server.get_reply)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            recorded = Recorded(
                path=self.path,
                headers={key.lower(): value for key, value in self.headers.items()},
                body=json.loads(raw) if raw else {},
                client_port=self.client_address[1],
            )
            reply = server.next_reply(recorded)
            if reply.delay:
                time.sleep(reply.delay)
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = body.encode()
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silence per-request logging."""

    return Handler


@contextmanager
def serve() -> Iterator[LoopbackServer]:
    """A started `LoopbackServer`, stopped on exit."""
    server = LoopbackServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
