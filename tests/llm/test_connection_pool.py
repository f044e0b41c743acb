"""PooledConnections: every connection usable at once, spread over small httpx pools."""

from __future__ import annotations

import threading

import httpx
import orjson
import pytest

from aita_cli.llm.connection_pool import SHARD_SIZE, PooledConnections
from aita_cli.llm.simulator import SimulatorConfig, start_simulator

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hello"}]})


def test_all_connections_carry_requests_at_the_same_time() -> None:
    connections = 2 * SHARD_SIZE + 6  # three pools
    with start_simulator(SimulatorConfig(latency=0.3)) as simulator:
        pool = PooledConnections(
            max_connections=connections, headers={}, timeout=httpx.Timeout(10.0)
        )
        statuses: list[int] = []

        def send() -> None:
            response = pool.post(f"{simulator.url}/chat/completions", BODY, wait=10.0)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=send) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        pool.close()
        stats = simulator.stats()
    assert statuses == [200] * connections
    assert stats["max_in_flight"] == connections


def test_no_free_connection_in_time_is_a_timeout() -> None:
    with start_simulator(SimulatorConfig(latency=1.0)) as simulator:
        pool = PooledConnections(max_connections=1, headers={}, timeout=httpx.Timeout(10.0))
        url = f"{simulator.url}/chat/completions"
        holder = threading.Thread(target=pool.post, args=(url, BODY), kwargs={"wait": 5.0})
        holder.start()
        for _ in range(500):  # until the first request holds the only connection
            if simulator.stats()["in_flight"]:
                break
            threading.Event().wait(0.01)
        with pytest.raises(TimeoutError):
            pool.post(url, BODY, wait=0.05)
        holder.join(timeout=10)
        pool.close()
