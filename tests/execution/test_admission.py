"""Admission control: the concurrency limit learnt from refusals, the token budget, and
what a provider's 429 says about which of them to cut."""

from __future__ import annotations

import threading
import time

import pytest

from aita_cli.errors import RateLimitError, ResponseValidationError, ServerError
from aita_cli.execution.admission import AdmissionControl, ConcurrencyLimit, signal_of
from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.execution.token_budget import TokenBudget
from aita_cli.llm.openai_client import OpenAICompatibleClient
from aita_cli.simulate.server import SimulatorConfig, start_simulator
from tests.execution._executor_support import FakeClock, make_executor

GO = threading.Event()


def _text_tasks(count: int) -> list[SimpleLLMTask]:
    return [SimpleLLMTask(f"t{i}", f"task {i}") for i in range(count)]


def test_signals_tell_a_concurrency_refusal_from_a_rate_limit() -> None:
    assert signal_of(None) == "ok"
    assert signal_of(ResponseValidationError("points do not add up")) == "ok"
    assert signal_of(RateLimitError("too many in flight", status_code=429)) == "refused"
    assert signal_of(RateLimitError("in_flight_budget", status_code=402, retry_after=1)) == (
        "refused"
    )
    assert signal_of(RateLimitError("slow down", status_code=429, retry_after=0.5)) == "neutral"
    assert signal_of(ServerError("overloaded", status_code=503)) == "neutral"


def test_a_refusal_cuts_to_just_below_what_was_in_flight() -> None:
    limit = ConcurrencyLimit(16)
    held = [limit.acquire(GO) for _ in range(7)]
    assert held[-1] == 7
    limit.release("refused", 7)  # the first refusal ever: the seventh was one too many
    assert limit.limit == 6


def test_within_a_learnt_limit_one_refusal_is_a_race_and_two_cut() -> None:
    limit = ConcurrencyLimit(16)
    limit.release("refused", 7) if limit.acquire(GO) else None
    assert limit.limit == 6
    limit.release("refused", 6) if limit.acquire(GO) else None
    assert limit.limit == 6  # the provider had not yet counted a call that ended
    for _ in range(6):  # a clean round forgives it
        limit.release("ok", 1) if limit.acquire(GO) else None
    limit.release("refused", 6) if limit.acquire(GO) else None
    assert limit.limit == 6
    limit.release("refused", 5) if limit.acquire(GO) else None
    assert limit.limit == 4  # two in one round: the provider takes fewer now (0.9 x 5)
    limit.release("refused", 9) if limit.acquire(GO) else None
    assert limit.limit == 4  # a refusal above the limit never raises it


def test_clean_rounds_let_the_limit_grow_by_one_up_to_the_ceiling() -> None:
    limit = ConcurrencyLimit(8)
    first = limit.acquire(GO)
    assert first is not None
    limit.release("refused", 6)  # 5.4: five at once
    assert limit.limit == 5
    for _ in range(16 * 5 - 1):
        limit.release("ok", 1) if limit.acquire(GO) else None
    assert limit.limit == 5
    assert limit.acquire(GO) is not None
    limit.release("ok", 1)
    assert limit.limit == 6
    for _ in range(1000):
        limit.release("ok", 1) if limit.acquire(GO) else None
    assert limit.limit == 8  # never above the workers


def test_a_worker_waits_for_a_free_slot_and_a_stop_releases_it() -> None:
    limit = ConcurrencyLimit(1)
    assert limit.acquire(GO) == 1
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert limit.acquire(stop) is None  # the only slot stayed taken


def test_progress_reports_the_lowest_limit_below_the_workers() -> None:
    control = AdmissionControl(8)
    assert control.lowest_limit() is None
    limit = control.for_model("m")
    assert control.for_model("m") is limit
    limit.release("refused", 4)
    assert control.lowest_limit() == 3


def test_the_token_budget_paces_requests_and_settles_with_real_usage() -> None:
    clock = FakeClock()
    budget = TokenBudget(600, clock=clock, sleep=clock.sleep)  # 10 tokens/s, bucket of 10
    stop = threading.Event()
    assert budget.reserve(10, stop)
    waiter = threading.Thread(target=budget.reserve, args=(10, stop))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # nothing left until the bucket refills
    budget.settle(10, 4, 2)  # the reply used 4, not 10: 6 come back
    clock.sleep(0.5)  # and 4 more refill (5: float time is not exact)
    waiter.join(1.0)
    assert not waiter.is_alive()
    assert budget.expected_reply_tokens() == 2


def test_a_refused_request_gives_its_reservation_back() -> None:
    clock = FakeClock()
    budget = TokenBudget(600, clock=clock, sleep=clock.sleep)
    assert budget.reserve(10, threading.Event())
    budget.settle(10, None, None)
    assert budget.reserve(10, threading.Event())  # at once: the refusal cost nothing


@pytest.mark.parametrize("told", [54_000])
def test_a_token_limit_the_client_is_told_meets_no_429(told: int) -> None:
    # The provider allows 60,000 tokens a minute (a 6 s burst); told 90% of it, aita
    # paces itself and is never refused.
    config = SimulatorConfig(latency=0.01, tpm=60_000, seed=3)
    with start_simulator(config) as sim:
        client = OpenAICompatibleClient(sim.url, None, model="m", max_connections=8)
        with make_executor(client, max_workers=8, tokens_per_minute=told) as executor:
            result = executor.execute_batch(_text_tasks(60))
        client.close()
        stats = sim.stats()
    assert stats["rate_limited"] == 0
    assert all(item.success for item in result.task_results)


def test_a_concurrency_limit_the_client_is_not_told_is_learnt() -> None:
    config = SimulatorConfig(latency=0.05, max_concurrency=3, seed=3)
    with start_simulator(config) as sim:
        client = OpenAICompatibleClient(sim.url, None, model="m", max_connections=8)
        with make_executor(client, max_workers=8) as executor:
            result = executor.execute_batch(_text_tasks(60))
            learnt = executor.admission.lowest_limit()
        client.close()
        stats = sim.stats()
    assert all(item.success for item in result.task_results)
    assert learnt in (2, 3)  # 3 in flight allowed, learnt from the refusals
    # The first round's five extra requests, then a few races at the limit: far from the
    # hundreds a client that does not learn is refused (see make bench).
    assert stats["rate_limited"] <= 15


def test_a_client_limit_below_the_providers_meets_no_429_whatever_its_burst() -> None:
    # The provider allows 20/s with no burst at all; aita is told 15/s, 8 workers.
    config = SimulatorConfig(latency=0.02, rps=20, burst=1, seed=3)
    with start_simulator(config) as sim:
        client = OpenAICompatibleClient(sim.url, None, model="m", max_connections=8)
        with make_executor(client, max_workers=8, rate_limit=15.0) as executor:
            result = executor.execute_batch(_text_tasks(30))
        client.close()
        stats = sim.stats()
    assert stats["rate_limited"] == 0
    assert all(item.success for item in result.task_results)


def test_a_large_reservation_is_not_starved_by_small_ones() -> None:
    budget = TokenBudget(6000)  # 100 tokens/s, a bucket of 100
    stop = threading.Event()
    order: list[int] = []

    def reserve(tokens: int) -> None:
        if budget.reserve(tokens, stop):
            order.append(tokens)

    assert budget.reserve(100, stop)  # empty now
    large = threading.Thread(target=reserve, args=(90,))
    large.start()
    time.sleep(0.05)  # the large one is first in line
    small = [threading.Thread(target=reserve, args=(10,)) for _ in range(5)]
    for thread in small:
        thread.start()
    for thread in [large, *small]:
        thread.join(5.0)
    assert order[0] == 90  # served first, although each small one fitted sooner
    assert sorted(order) == [10] * 5 + [90]
