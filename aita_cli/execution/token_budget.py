"""A tokens-per-minute budget (`AITA_TOKENS_PER_MINUTE`, `--tpm`), shared by all workers.

Providers limit tokens as well as requests. Before a request is sent it reserves its
estimated tokens (the prompt's text and images by `aita_cli.llm.tokens`, plus the reply
it will probably get: the mean reply so far); once the reply reports its real usage the
reservation is settled, so an estimate that was off is corrected by the next requests'
waits instead of piling up. A request nothing came back for (refused, failed) gives its
reservation back: the provider did not count it either.

The budget is a bucket refilled at the limit's pace and holding one second of it, so a
run starts at once without sending a minute's worth in its first second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBudget"]

_BURST_S = 1.0  # the bucket holds this many seconds of the limit
# The first request's reply has nothing to go by: a typical structured reply of aita's
# tasks (an answer key is ~450 tokens, a rubric ~350, a page's transcript ~500).
_FIRST_REPLY_GUESS = 400
_WAIT_STEP_S = 0.1  # how often a waiting worker checks its stop event


class TokenBudget:
    """Tokens per minute for every request of an executor; thread-safe."""

    def __init__(
        self,
        tokens_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if tokens_per_minute <= 0:
            raise ValueError(f"tokens_per_minute must be more than 0, got {tokens_per_minute}")
        self._rate = tokens_per_minute / 60.0
        self._capacity = self._rate * _BURST_S
        self._balance = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._replies = 0
        self._reply_tokens = 0
        self._next_ticket = 0  # tickets are served in order: first come, first served
        self._serving = 0
        self._given_up: set[int] = set()
        self._cond = threading.Condition()

    def expected_reply_tokens(self) -> int:
        """The mean reply so far (a guess before the first)."""
        with self._cond:
            if not self._replies:
                return _FIRST_REPLY_GUESS
            return round(self._reply_tokens / self._replies)

    def reserve(self, tokens: int, stop: threading.Event) -> bool:
        """Wait until `tokens` fit, and take them; False when `stop` was set first.
        Reservations are served in arrival order, so a large request is not starved by
        small ones; one larger than the bucket goes once the bucket is full."""
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while True:
                self._refill()
                needed = min(tokens, self._capacity)
                if ticket == self._serving and self._balance >= needed:
                    self._balance -= tokens  # all of it: a large request leaves a debt
                    self._serving += 1
                    self._next_in_line()
                    return True
                if stop.is_set():
                    self._given_up.add(ticket)
                    self._next_in_line()
                    return False
                wait = (needed - self._balance) / self._rate if ticket == self._serving else 1
                self._cond.wait(min(max(wait, 0.0), _WAIT_STEP_S))

    def _next_in_line(self) -> None:
        """Skip the tickets whose callers stopped waiting, and wake the others."""
        while self._serving in self._given_up:
            self._given_up.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()

    def settle(self, reserved: int, used: int | None, reply_tokens: int | None) -> None:
        """Correct a reservation with the tokens the reply reported (`used` None: nothing
        came back, so the reservation is returned)."""
        with self._cond:
            self._refill()
            self._balance = min(self._capacity, self._balance + reserved - (used or 0))
            if reply_tokens is not None:
                self._replies += 1
                self._reply_tokens += reply_tokens

    def _refill(self) -> None:
        now = self._clock()
        self._balance = min(self._capacity, self._balance + (now - self._updated) * self._rate)
        self._updated = now
