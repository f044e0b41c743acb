"""PooledConnections: every connection usable at once, each by one thread at a time."""

from __future__ import annotations

import threading

import httpx
import orjson
import pytest

from aita_cli.llm.connection_pool import PooledConnections
from aita_cli.simulate.server import SimulatorConfig, start_simulator

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hello"}]})


def test_all_connections_carry_requests_at_the_same_time() -> None:
    connections = 70
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


def test_a_connection_is_kept_alive_and_reused() -> None:
    with start_simulator(SimulatorConfig()) as simulator:
        pool = PooledConnections(max_connections=4, headers={}, timeout=httpx.Timeout(10.0))
        url = f"{simulator.url}/chat/completions"
        ports = set()
        for _ in range(5):
            response = pool.post(url, BODY, wait=1.0)
            assert response.status_code == 200
            ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
        pool.close()
    assert len(ports) == 1  # one thread, one warm connection: no new connection per call
