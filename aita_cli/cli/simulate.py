"""`aita simulate`: serve the simulated provider until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Annotated

import typer

from aita_cli.cli.errors import exit_on_error, stderr
from aita_cli.cli.help_format import AitaCommand
from aita_cli.simulate.server import SimulatorConfig, start_simulator

__all__ = ["register"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

HELP = (
    "Serve a simulated OpenAI-compatible provider on loopback.\n\n"
    "Replies are valid for aita's own tasks and cost nothing, so you can try workers, "
    "rate limits, retries and budgets on a large batch.\n\n"
    "The first line printed is `listening on http://HOST:PORT/v1`; "
    "GET /stats shows what it served.\n\n"
    "\b\n"
    "Examples:\n"
    "  aita simulate --port 8080\n"
    "  aita simulate --latency 1.5 --jitter 0.3 --rps 5 --error-rate 0.05 --seed 7\n"
    "  aita simulate --refuse-json-schema 500    # like llama-cpp-python's server\n"
    "  aita simulate --latency 0.5 --tpm 20000 --max-concurrency 4 --rate-headers\n"
    "  AITA_PROVIDER=openai AITA_BASE_URL=http://127.0.0.1:8080/v1 AITA_MODEL=sim \\\n"
    "    aita generate-rubric -a sample_exam --data-dir sample_data\n"
)


def register(app: typer.Typer) -> None:
    @app.command(name="simulate", help=HELP, cls=AitaCommand)
    def _command(
        *,
        host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 0,
        latency: Annotated[
            float, typer.Option("--latency", help="Seconds each reply takes.")
        ] = 0.0,
        jitter: Annotated[
            float, typer.Option("--jitter", help="Latency spread, 0..1 (fraction of latency).")
        ] = 0.0,
        rps: Annotated[
            float | None,
            typer.Option("--rps", help="Request-rate limit; over it -> 429 with Retry-After."),
        ] = None,
        error_rate: Annotated[
            float, typer.Option("--error-rate", help="Fraction of requests failing with 5xx.")
        ] = 0.0,
        tpm: Annotated[
            float | None,
            typer.Option("--tpm", help="Tokens-per-minute limit (prompt + reply); over it -> 429."),
        ] = None,
        max_concurrency: Annotated[
            int | None,
            typer.Option("--max-concurrency", help="Requests in flight allowed; beyond -> 429."),
        ] = None,
        rate_headers: Annotated[
            bool,
            typer.Option("--rate-headers", help="Send OpenAI-style x-ratelimit-* headers."),
        ] = False,
        refuse_json_schema: Annotated[
            int | None,
            typer.Option(
                "--refuse-json-schema",
                help="Answer response_format json_schema with this status (400, 422 or 500), "
                "as some servers do.",
            ),
        ] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    ) -> None:
        with exit_on_error():
            config = SimulatorConfig(
                host=host,
                port=port,
                latency=latency,
                jitter=jitter,
                rps=rps,
                error_rate=error_rate,
                tpm=tpm,
                max_concurrency=max_concurrency,
                rate_headers=rate_headers,
                refuse_json_schema=refuse_json_schema,
                seed=seed,
            )
            _serve(config)


def _serve(config: SimulatorConfig) -> None:
    """Run until Ctrl-C or SIGTERM; both end it cleanly (exit 0)."""
    simulator = start_simulator(config)
    print(f"listening on {simulator.url}", flush=True)
    stderr.print(f"simulated provider: {_describe(config)}; Ctrl-C to stop")
    stderr.print(
        f"use it: AITA_PROVIDER=openai AITA_BASE_URL={simulator.url} AITA_MODEL=sim aita ..."
    )
    # SIGINT too: a shell starting `aita simulate &` from a script ignores SIGINT in the
    # child, and `kill -INT` must still stop it.
    previous = {number: signal.signal(number, _interrupt) for number in _STOP_SIGNALS}
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass  # the normal way to stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        simulator.close()
    served = ", ".join(f"{name} {value}" for name, value in simulator.stats().items())
    stderr.print(f"served: {served}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (and SIGINT, even when inherited as ignored) stop the server like Ctrl-C."""
    raise KeyboardInterrupt


def _describe(config: SimulatorConfig) -> str:
    limits = [f"{config.rps:g} req/s" if config.rps else "unlimited"]
    if config.tpm:
        limits.append(f"{config.tpm:g} tokens/min")
    if config.max_concurrency:
        limits.append(f"{config.max_concurrency} in flight")
    rate = ", ".join(limits)
    refusing = (
        f", refuses json_schema with {config.refuse_json_schema}"
        if config.refuse_json_schema
        else ""
    )
    return (
        f"latency {config.latency:g}s ± {config.jitter:.0%}, rate {rate}, "
        f"errors {config.error_rate:.0%}{refusing}, seed {config.seed}"
    )
