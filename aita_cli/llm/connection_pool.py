"""Connections to one endpoint for many threads: several small httpx pools, one free list.

Two limits of httpx's synchronous pool (httpcore 1.0.x) shape this module:

- a request that has to queue inside the pool can be handed a connection another thread
  is closing (encode/httpcore#1110: "Bad file descriptor" or a hang), so no request is
  given to httpx unless a connection is free for it;
- one pool slows sharply past about a hundred connections (measured here through the
  simulator at 0.2 s latency: 421 requests/s at 100 workers, 103 at 200), so the
  connections are split into pools of at most `SHARD_SIZE`.

A request takes any free slot from one shared queue, so load spreads over the pools by
itself, and returns it when its reply has been read.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Mapping

import httpx

__all__ = ["SHARD_SIZE", "PooledConnections"]

SHARD_SIZE = 32


class PooledConnections:
    """`max_connections` connections to one endpoint, safe to share between threads."""

    def __init__(
        self,
        *,
        max_connections: int,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        shards = max(1, math.ceil(max_connections / SHARD_SIZE))
        sizes = [len(range(index, max_connections, shards)) for index in range(shards)]
        # One TLS context for every pool: building one costs ~20 ms and they are equal.
        verify = httpx.create_ssl_context() if transport is None else True
        self._clients = [
            httpx.Client(
                headers=dict(headers),
                timeout=timeout,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                transport=transport,
                verify=verify,
                follow_redirects=False,
            )
            for size in sizes
        ]
        self._free: queue.Queue[int] = queue.Queue()
        for slot in range(max(max_connections, 1)):
            self._free.put(slot % shards)  # interleaved: the first requests use every pool

    def post(self, url: str, content: bytes, *, wait: float | None) -> httpx.Response:
        """POST on a free connection; `TimeoutError` when none frees up within `wait`."""
        try:
            shard = self._free.get(timeout=wait)
        except queue.Empty:
            raise TimeoutError("no free connection") from None
        try:
            return self._clients[shard].post(url, content=content)
        finally:
            self._free.put(shard)

    def close(self) -> None:
        """Close every pool; safe to call twice."""
        for client in self._clients:
            client.close()
