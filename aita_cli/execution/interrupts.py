"""Ctrl-C while a batch runs: a flag the scheduler reads, never a KeyboardInterrupt
raised at an arbitrary point of its bookkeeping."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["sigint_calls"]


@contextmanager
def sigint_calls(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """While a batch runs in the main thread, Ctrl-C calls `on_interrupt` instead of
    raising KeyboardInterrupt at an arbitrary point of the bookkeeping."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        on_interrupt()

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
