"""`aita simulate`: a simulated OpenAI-compatible provider on loopback.

A real HTTP/1.1 server (keep-alive, one daemon thread per connection) that answers
`POST /v1/chat/completions` with replies valid for aita's own tasks
(`aita_cli.simulate.synthesis`), `GET /v1/models` and `GET /stats`. It lets a user try workers,
rate limits, retries and budgets on a large batch without spending anything, and it is
what the tests and the benchmark run against.

Per chat request, in this order:

1. the concurrency limit (`max_concurrency`): a request beyond it -> 429 at once, with
   no Retry-After (nothing says when another call will finish); then the request-rate
   limit (token bucket): over it -> 429 at once, with `Retry-After` (whole seconds,
   rounded up, as RFC 9110 and strict clients require) and the exact wait in
   `retry-after-ms` (which aita and openai-python read first), and no latency;
2. a body that is not a chat request (or asks to stream) -> 400 at once; with
   `refuse_json_schema`, a request for `response_format` of type `json_schema` -> that
   status at once, with the body such a server sends (`aita_cli.simulate.refusals`);
3. the token-per-minute limit (`tpm`, a bucket holding `TOKEN_BURST_S` seconds of it):
   the request's prompt and reply tokens over it -> 429 at once, with Retry-After;
4. the latency, `latency * uniform(1 - jitter, 1 + jitter)`, counted from when the
   request has been read: the reply is prepared while it runs, as a provider's compute
   time is part of its latency;
5. the injected error: with probability `error_rate`, 500, 502 or 503. It comes *after*
   the latency because a failing upstream still makes the caller wait, so retries in a
   benchmark cost what they would in real life;
6. the reply, with `usage` (tokens estimated by `aita_cli.llm.tokens`: text by length,
   images by their pixel size) and a simulated `cost`.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from aita_cli.errors import ConfigError
from aita_cli.simulate.limits import (
    TOKEN_BURST_S,
    RequestRateLimiter,
    TokenBucket,
    rate_limit_headers,
)
from aita_cli.simulate.refusals import REFUSAL_STATUSES
from aita_cli.usage import Usage

__all__ = [
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorState",
    "start_simulator",
]

# USD per million (prompt, completion) tokens: a fixed, made-up price so budgets work.
SIMULATED_PRICE_PER_MTOK = (0.50, 1.50)
ERROR_STATUSES = (500, 502, 503)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How the simulated provider behaves. Invalid values raise ConfigError."""

    host: str = "127.0.0.1"
    port: int = 0
    latency: float = 0.0  # seconds per completed request
    jitter: float = 0.0  # fraction: latency * uniform(1 - jitter, 1 + jitter)
    rps: float | None = None  # request-rate limit (token bucket); None = unlimited
    burst: float | None = None  # bucket size; None: see RequestRateLimiter
    error_rate: float = 0.0  # fraction of requests answered by 500/502/503
    tpm: float | None = None  # tokens-per-minute limit (prompt + reply); None = unlimited
    max_concurrency: int | None = None  # requests in flight beyond this get a 429
    rate_headers: bool = False  # send OpenAI-style x-ratelimit-* headers
    refuse_json_schema: int | None = None  # answer json_schema formats with this status
    seed: int | None = None
    model: str = "aita-simulated"  # reported when a request names no model

    def __post_init__(self) -> None:
        checks = (
            (
                0 <= self.latency < math.inf,  # inf would crash every handler's sleep
                f"--latency must be 0 or more seconds, got {self.latency:g}",
            ),
            (0 <= self.jitter <= 1, f"--jitter must be between 0 and 1, got {self.jitter:g}"),
            (
                0 <= self.error_rate <= 1,
                f"--error-rate must be between 0 and 1, got {self.error_rate:g}",
            ),
            (self.rps is None or self.rps > 0, f"--rps must be more than 0, got {self.rps}"),
            (self.burst is None or self.burst >= 1, f"burst must be 1 or more, got {self.burst}"),
            (self.tpm is None or self.tpm > 0, f"--tpm must be more than 0, got {self.tpm}"),
            (
                self.max_concurrency is None or self.max_concurrency >= 1,
                f"--max-concurrency must be 1 or more, got {self.max_concurrency}",
            ),
            (0 <= self.port <= 65535, f"--port must be between 0 and 65535, got {self.port}"),
            (
                self.refuse_json_schema in (None, *REFUSAL_STATUSES),
                f"--refuse-json-schema must be 400, 422 or 500, got {self.refuse_json_schema}",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


@dataclass
class SimulatorStats:
    """Counters of one simulator run; every method is thread-safe."""

    requests: int = 0  # chat-completion requests received
    completions: int = 0  # 200 replies
    rate_limited: int = 0  # 429 replies
    errors: int = 0  # injected 5xx replies
    bad_requests: int = 0  # 400 replies
    refused_format: int = 0  # json_schema formats refused (--refuse-json-schema)
    in_flight: int = 0
    max_in_flight: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    _bodies: set[bytes] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request_started(self) -> int:
        """Count a request in; returns how many are in flight, this one included."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.in_flight

    def request_finished(self, status: int, *, refused_format: bool = False) -> None:
        with self._lock:
            self.in_flight -= 1
            if refused_format:
                self.refused_format += 1
            elif status == 429:
                self.rate_limited += 1
            elif status in ERROR_STATUSES:
                self.errors += 1
            elif status == 400:
                self.bad_requests += 1

    def completed(self, body_digest: bytes, usage: Usage, cost: float) -> None:
        with self._lock:
            self.completions += 1
            self._bodies.add(body_digest)
            self.usage = self.usage + usage
            self.cost += cost

    def snapshot(self) -> dict[str, Any]:
        """The counters as the JSON `GET /stats` returns."""
        with self._lock:
            return {
                "requests": self.requests,
                "completions": self.completions,
                "distinct_completions": len(self._bodies),
                "rate_limited": self.rate_limited,
                "errors": self.errors,
                "bad_requests": self.bad_requests,
                "refused_format": self.refused_format,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cost": round(self.cost, 10),
            }


class SimulatorState:
    """Everything the request handlers share: config, limiter, stats, randomness, time."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.clock = clock
        self.limiter = RequestRateLimiter(config.rps, config.burst, clock) if config.rps else None
        self.token_limiter = (
            TokenBucket(config.tpm / 60.0, config.tpm / 60.0 * TOKEN_BURST_S, clock)
            if config.tpm
            else None
        )
        self.stats = SimulatorStats()
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()

    def rate_headers(self) -> dict[str, str]:
        """OpenAI-style x-ratelimit-* headers for every reply, with `rate_headers`."""
        if not self.config.rate_headers:
            return {}
        requests = self.limiter.state() if self.limiter else None
        tokens = self.token_limiter.state() if self.token_limiter else None
        return rate_limit_headers(requests, tokens)

    def latency_seconds(self) -> float:
        """This request's latency, jittered."""
        base, jitter = self.config.latency, self.config.jitter
        if base <= 0 or jitter <= 0:
            return base
        with self._rng_lock:
            return base * self._rng.uniform(1.0 - jitter, 1.0 + jitter)

    def injected_error(self) -> int | None:
        """A 5xx status to answer with, chosen at `error_rate`, or None."""
        if self.config.error_rate <= 0:
            return None
        with self._rng_lock:
            if self._rng.random() >= self.config.error_rate:
                return None
            return self._rng.choice(ERROR_STATUSES)

    def reply_rng(self, body_digest: bytes) -> random.Random:
        """Randomness for one reply: the same body (and seed) always gets the same reply."""
        return random.Random(f"{self.config.seed}:{body_digest.hex()}")

    @staticmethod
    def digest(body: bytes) -> bytes:
        return hashlib.sha256(body).digest()

    @staticmethod
    def price(usage: Usage) -> float:
        prompt_price, completion_price = SIMULATED_PRICE_PER_MTOK
        return (
            usage.prompt_tokens * prompt_price + usage.completion_tokens * completion_price
        ) / 1e6


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers its open connections so close() ends them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # the listen backlog: 200 clients may connect at once

    def __init__(self, state: SimulatorState) -> None:
        from aita_cli.simulate.handlers import SimulatorRequestHandler

        self.state = state
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((state.config.host, state.config.port), SimulatorRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open keep-alive connection, so handler threads finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # the client may have closed it already
                connection.shutdown(socket.SHUT_RDWR)


class RunningSimulator:
    """A simulator serving in a background thread; a context manager."""

    def __init__(self, server: SimulatorServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The OpenAI base URL, e.g. "http://127.0.0.1:PORT/v1"."""
        return f"http://{self.host}:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        """The same counters `GET /stats` returns."""
        return self._server.state.stats.snapshot()

    def reset_stats(self) -> None:
        """Start counting afresh (between benchmark runs)."""
        self._server.state.stats = SimulatorStats()

    def close(self) -> None:
        """Stop serving and end open connections; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_simulator(
    config: SimulatorConfig | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunningSimulator:
    """Bind (port 0 picks a free port) and serve in a background thread.

    Raises ConfigError when the address cannot be bound.
    """
    config = config or SimulatorConfig()
    state = SimulatorState(config, clock=clock, sleep=sleep)
    try:
        server = SimulatorServer(state)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from exc
    return RunningSimulator(server)
