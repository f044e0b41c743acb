"""The simulated provider, in process, over real loopback sockets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from aita_cli.domain.models import AnswerKey, PageTranscription, Rubric
from aita_cli.errors import ConfigError
from aita_cli.llm import task_kinds as tk
from aita_cli.simulate.limits import ARRIVAL_TOLERANCE_S, RequestRateLimiter, TokenBucket
from aita_cli.simulate.server import (
    RunningSimulator,
    SimulatorConfig,
    SimulatorState,
    start_simulator,
)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _body(kind: str | None, prompt: str, model: str = "sim-model") -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    if kind is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": kind, "schema": {"type": "object"}},
        }
    return body


QUESTION = (
    f"{tk.QUESTION_ID_LINE}: 3\n{tk.QUESTION_TYPE_LINE}: long_answer\n"
    f"{tk.QUESTION_POINTS_LINE}: 7.5\n{tk.QUESTION_TEXT_LINE}: Discuss the causes of WW1.\n"
)


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator(SimulatorConfig(seed=1)) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


def _chat(client: httpx.Client, sim: RunningSimulator, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{sim.url}/chat/completions", json=body)


def _content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def test_reply_has_the_openai_shape_usage_and_cost(
    simulator: RunningSimulator, client: httpx.Client
) -> None:
    data = _chat(client, simulator, _body(tk.RUBRIC, QUESTION, model="my/model")).json()
    assert data["object"] == "chat.completion"
    assert data["id"]
    assert data["created"] > 0
    assert data["model"] == "my/model"
    assert data["choices"][0]["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["cost"] > 0


def test_replies_validate_for_each_task_kind(
    simulator: RunningSimulator, client: httpx.Client
) -> None:
    key = AnswerKey.model_validate_json(
        _content(_chat(client, simulator, _body("answer_key", QUESTION)))
    )
    assert key.question_id == "3"
    rubric = Rubric.model_validate_json(
        _content(_chat(client, simulator, _body("rubric", QUESTION)))
    )
    assert rubric.total_points == 7.5
    page_prompt = f"{tk.PAGE_NUMBER_LINE}: 2\n{tk.PAGE_QUESTIONS_LINE}: 2a, 3"
    page = PageTranscription.model_validate_json(
        _content(_chat(client, simulator, _body("page_transcription", page_prompt)))
    )
    assert [answer.question_id for answer in page.answers] == ["2a", "3"]


def test_unknown_prompt_gets_a_short_text_reply(
    simulator: RunningSimulator, client: httpx.Client
) -> None:
    assert _content(_chat(client, simulator, _body(None, "Say hi"))).startswith("Simulated reply")


def test_models_and_errors_for_bad_requests(
    simulator: RunningSimulator, client: httpx.Client
) -> None:
    assert client.get(f"{simulator.url}/models").json()["data"][0]["id"]
    bad = client.post(f"{simulator.url}/chat/completions", content=b"{not json")
    assert bad.status_code == 400
    assert "error" in bad.json()
    assert _chat(client, simulator, {"messages": []}).status_code == 400
    streaming = _chat(client, simulator, {**_body(None, "x"), "stream": True})
    assert streaming.status_code == 400
    assert "streaming is not supported" in streaming.json()["error"]["message"]
    assert client.post(f"{simulator.url}/embeddings", json={}).status_code == 404
    assert simulator.stats()["bad_requests"] == 3


def test_stats_count_completions_and_distinct_bodies(
    simulator: RunningSimulator, client: httpx.Client
) -> None:
    for prompt in ("one", "one", "two"):
        _content(_chat(client, simulator, _body(None, prompt)))
    stats = client.get(simulator.url.removesuffix("/v1") + "/stats").json()
    assert stats["requests"] == 3
    assert stats["completions"] == 3
    assert stats["distinct_completions"] == 2
    assert stats["rate_limited"] == 0
    assert stats["errors"] == 0
    assert stats["cost"] > 0


def test_rate_limit_answers_429_with_retry_after(client: httpx.Client) -> None:
    clock = ManualClock()
    with start_simulator(SimulatorConfig(rps=2, burst=2), clock=clock) as sim:
        statuses = [_chat(client, sim, _body(None, "x")).status_code for _ in range(2)]
        limited = _chat(client, sim, _body(None, "x"))
        assert statuses == [200, 200]
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"  # delay-seconds is a whole number
        assert limited.headers["retry-after-ms"] == "500"
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
        clock.now += 0.5
        assert _chat(client, sim, _body(None, "x")).status_code == 200
        stats = sim.stats()
    assert stats["rate_limited"] == 1
    assert stats["completions"] == 3
    assert stats["requests"] == 4


def test_default_burst_is_a_tenth_of_a_second_plus_arrival_slack() -> None:
    clock = ManualClock()
    strict = RequestRateLimiter(5.0, clock=clock)  # burst 1 + 5 * 0.05
    assert strict.try_acquire() is None
    assert strict.try_acquire() == pytest.approx(0.15)
    loose = RequestRateLimiter(1000.0, clock=clock)  # burst 100 + 1000 * 0.05
    assert all(loose.try_acquire() is None for _ in range(150))
    assert loose.try_acquire() == pytest.approx(0.001)


@pytest.mark.parametrize("rps", [1.0, 3.0, 10.0])
def test_a_client_paced_at_the_limit_is_not_refused_for_early_arrivals(rps: float) -> None:
    clock = ManualClock()
    limiter = RequestRateLimiter(rps, clock=clock)
    start, early = clock.now, ARRIVAL_TOLERANCE_S * 0.9
    for n in range(1, 31):
        # Sent every 1/rps seconds, but every other request arrives early.
        clock.now = start + n / rps - (early if n % 2 else 0.0)
        assert limiter.try_acquire() is None, n
    # Twice the rate is still refused at once.
    clock.now = start + 31 / rps
    assert limiter.try_acquire() is None
    clock.now += 0.5 / rps
    assert limiter.try_acquire() is not None


def test_error_rate_one_gives_5xx(client: httpx.Client) -> None:
    with start_simulator(SimulatorConfig(error_rate=1.0, seed=3)) as sim:
        responses = [_chat(client, sim, _body(None, "x")) for _ in range(6)]
        assert {r.status_code for r in responses} <= {500, 502, 503}
        assert all(r.json()["error"]["message"] for r in responses)
        assert sim.stats()["errors"] == 6
        assert sim.stats()["completions"] == 0


def test_200_concurrent_requests_are_in_flight_together() -> None:
    # The "latency" waits until all 200 requests are inside the server at once: this
    # proves concurrency without depending on timing. It is long, so no reply is ready
    # after it (preparing a reply counts against it) and every request waits.
    everyone = threading.Barrier(200)
    config = SimulatorConfig(latency=60.0)

    def wait_for_everyone(_: float) -> None:
        everyone.wait(timeout=30)

    with (
        start_simulator(config, sleep=wait_for_everyone) as sim,
        httpx.Client(timeout=60, limits=httpx.Limits(max_connections=200)) as http,
        ThreadPoolExecutor(max_workers=200) as pool,
    ):
        bodies = [_body("rubric", QUESTION + f"Attempt {n}\n") for n in range(200)]
        responses = list(pool.map(lambda body: _chat(http, sim, body), bodies))
        assert all(response.status_code == 200 for response in responses)
        stats = sim.stats()
    assert stats["max_in_flight"] == 200
    assert stats["completions"] == 200
    assert stats["distinct_completions"] == 200


def test_latency_jitter_stays_in_bounds() -> None:
    state = SimulatorState(SimulatorConfig(latency=2.0, jitter=0.25, seed=5))
    samples = [state.latency_seconds() for _ in range(200)]
    assert all(1.5 <= sample <= 2.5 for sample in samples)
    assert len(set(samples)) > 1


def test_latency_runs_from_the_request_with_the_reply_prepared_within_it(
    client: httpx.Client,
) -> None:
    readings = iter([100.0])
    waits: list[float] = []

    def clock() -> float:
        return next(readings, 100.25)  # the request is read at 100.0, the reply is ready later

    config = SimulatorConfig(latency=1.5)
    with start_simulator(config, clock=clock, sleep=waits.append) as sim:
        _content(_chat(client, sim, _body(None, "x")))
    assert waits == [1.25]  # 1.5 s from the request, less the 0.25 s the reply took


@pytest.mark.parametrize(
    "config",
    [
        {"latency": -1.0},
        {"jitter": 1.5},
        {"error_rate": -0.1},
        {"error_rate": 1.01},
        {"rps": 0.0},
        {"port": 70000},
        {"rps": 5.0, "burst": 0.5},
    ],
)
def test_invalid_config_is_a_config_error(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        SimulatorConfig(**config)


def test_close_ends_keep_alive_connections_and_is_idempotent() -> None:
    sim = start_simulator()
    with httpx.Client(timeout=5) as http:
        assert _chat(http, sim, _body(None, "x")).status_code == 200
        sim.close()
        sim.close()
        with pytest.raises(httpx.TransportError):
            _chat(http, sim, _body(None, "x"))


def test_refuse_json_schema_takes_only_the_statuses_servers_use() -> None:
    with pytest.raises(ConfigError, match="--refuse-json-schema must be 400, 422 or 500"):
        SimulatorConfig(refuse_json_schema=404)


def test_requests_beyond_the_concurrency_limit_get_a_429(client: httpx.Client) -> None:
    # Three calls held in flight by a long latency: the third of a limit of 2 is refused.
    config = SimulatorConfig(latency=0.5, max_concurrency=2)
    with start_simulator(config) as sim, ThreadPoolExecutor(3) as pool:
        first = [pool.submit(_chat, client, sim, _body(None, "hi")) for _ in range(2)]
        threading.Event().wait(0.2)  # both are in flight now
        third = _chat(client, sim, _body(None, "hi"))
        assert third.status_code == 429
        assert "concurrent" in third.json()["error"]["message"]
        assert "retry-after" not in third.headers
        assert [future.result().status_code for future in first] == [200, 200]
        assert sim.stats()["rate_limited"] == 1


def test_a_token_limit_refuses_what_the_minute_cannot_hold(client: httpx.Client) -> None:
    # 600 tokens a minute is a bucket of 60 (6 s worth): one call of ~35 tokens fits.
    with start_simulator(SimulatorConfig(tpm=600, rate_headers=True)) as sim:
        first = _chat(client, sim, _body(None, "x" * 100))
        second = _chat(client, sim, _body(None, "x" * 100))
    assert first.status_code == 200
    assert second.status_code == 429
    assert "tokens per minute" in second.json()["error"]["message"]
    assert float(second.headers["retry-after-ms"]) > 0
    assert first.headers["x-ratelimit-limit-tokens"] == "60"
    assert int(first.headers["x-ratelimit-remaining-tokens"]) < 60
    assert first.headers["x-ratelimit-reset-tokens"].endswith("s")


def test_rate_headers_report_the_request_bucket(client: httpx.Client) -> None:
    with start_simulator(SimulatorConfig(rps=50, burst=5, rate_headers=True)) as sim:
        replies = [_chat(client, sim, _body(None, "hi")) for _ in range(3)]
    with start_simulator(SimulatorConfig()) as plain:
        quiet = _chat(client, plain, _body(None, "hi"))
    assert [r.headers["x-ratelimit-limit-requests"] for r in replies] == ["5"] * 3
    assert int(replies[-1].headers["x-ratelimit-remaining-requests"]) <= 3
    assert replies[-1].headers["x-ratelimit-reset-requests"].endswith("ms")
    assert "x-ratelimit-limit-requests" not in quiet.headers


def test_a_request_larger_than_the_token_bucket_pays_in_full() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=100.0, capacity=100.0, clock=clock)
    assert bucket.try_take(600) is None  # a full bucket lets it through...
    wait = bucket.try_take(10)
    assert wait == pytest.approx(5.1)  # ...and the next waits for its whole debt
