"""`make bench`'s admission part: goodput under limits the client is not told.

Three providers, each `aita simulate` in its own process with 60 ms latency (+-10%):
a request rate (`--rps 20`), requests in flight (`--max-concurrency 6`) and tokens per
minute (`--tpm 60000`, which binds well below what 16 workers could send). aita runs
500 plain tasks at 16 workers and no client limit, once with admission control on and
once with it off (`adaptive=False`: a 429 only pauses, as a client that does not learn),
and the simulator's own counters say how it went:

- goodput: completed requests per second as a share of the limit (for tokens, the
  tokens used as a share of what the limit let through in that time, its starting
  burst included);
- 429 share: refused requests as a share of all requests sent.

A sampler records accepted and refused requests per half second and the concurrency
limit aita has learnt; `plot` draws them, one PNG per scenario.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aita_cli.simulate.limits import TOKEN_BURST_S

PLOTS = Path(__file__).parent / "results"
TASKS = 500
WORKERS = 16
SAMPLE_S = 0.1


@dataclass(frozen=True)
class Scenario:
    name: str
    flags: tuple[str, ...]
    title: str
    limit: float  # requests/s, requests in flight, or tokens/minute


SCENARIOS = (
    Scenario("rps", ("--rps", "20"), "20 requests/s", 20.0),
    Scenario("concurrency", ("--max-concurrency", "6"), "6 requests in flight", 6.0),
    Scenario("tpm", ("--tpm", "60000"), "60,000 tokens/minute", 60_000.0),
)


@dataclass
class Sample:
    t: float
    completions: int
    rate_limited: int
    concurrency: int


@dataclass
class Run:
    scenario: str
    mode: str  # "adaptive" or "off"
    tasks: int
    seconds: float
    requests: int
    completions: int
    rate_limited: int
    share_429: float
    goodput: float
    samples: list[Sample] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("samples")
        return data


SimulatorFactory = Callable[..., AbstractContextManager[str]]


def run_admission(latency: float, simulator: SimulatorFactory) -> dict[str, Any]:
    """Every scenario, adaptive and off; prints a table, writes the plots, returns the
    JSON part `make bench` reports under "admission"."""
    runs: list[Run] = []
    for scenario in SCENARIOS:
        pair = [_run(scenario, latency, simulator, adaptive) for adaptive in (True, False)]
        runs += pair
        plot(scenario, pair, PLOTS / f"admission_{scenario.name}.png")
    _print(runs)
    return {"tasks": TASKS, "workers": WORKERS, "runs": [run.as_json() for run in runs]}


def _run(scenario: Scenario, latency: float, simulator: SimulatorFactory, adaptive: bool) -> Run:
    from aita_cli.execution.executor import ParallelLLMExecutor
    from aita_cli.execution.retry import RetryPolicy
    from aita_cli.execution.tasks import SimpleLLMTask
    from aita_cli.llm.openai_client import OpenAICompatibleClient

    tasks = [SimpleLLMTask(f"t{i}", f"task {i} " + "x" * 200) for i in range(TASKS)]
    with simulator(latency, *scenario.flags) as url:
        client = OpenAICompatibleClient(url, None, model="simulated", max_connections=WORKERS)
        executor = ParallelLLMExecutor(
            client,
            max_workers=WORKERS,
            rate_limit=0.0,  # not told: the provider's limit is to be found
            enable_checkpointing=False,
            show_progress=False,
            # openai-python's backoff (0.5 s doubling to 8 s) scaled down 100x like the
            # latencies, and its retries raised as in the comparison of issue 10.
            retry_policy=RetryPolicy(max_retries=100, base_delay=0.005, max_delay=0.08),
            adaptive=adaptive,
        )
        with executor, _Sampler(url, executor) as samples:
            started = time.monotonic()
            result = executor.execute_batch(tasks)
            seconds = time.monotonic() - started
        client.close()
        stats = httpx.get(url.removesuffix("/v1") + "/stats", timeout=10).json()
    if len(result.successful_results) != TASKS:
        failed = next(item for item in result.task_results if not item.success)
        raise RuntimeError(f"{scenario.name}: not every task succeeded: {failed.error}")
    return Run(
        scenario=scenario.name,
        mode="adaptive" if adaptive else "off",
        tasks=TASKS,
        seconds=seconds,
        requests=stats["requests"],
        completions=stats["completions"],
        rate_limited=stats["rate_limited"],
        share_429=stats["rate_limited"] / max(stats["requests"], 1),
        goodput=_goodput(scenario, stats, seconds, latency),
        samples=samples,
    )


def _goodput(scenario: Scenario, stats: dict[str, Any], seconds: float, latency: float) -> float:
    if scenario.name == "tpm":
        # What the provider could accept in that time: its rate, plus the burst its
        # bucket starts with (TOKEN_BURST_S seconds of tokens).
        tokens = stats["prompt_tokens"] + stats["completion_tokens"]
        most = scenario.limit / 60.0 * (seconds + TOKEN_BURST_S)
        return float(tokens / most)
    per_second = stats["completions"] / seconds
    if scenario.name == "concurrency":
        return float(per_second / (scenario.limit / latency))  # what 6 in flight allow
    return float(per_second / scenario.limit)


class _Sampler(AbstractContextManager[list[Sample]]):
    """Polls the simulator's /stats and the executor's learnt limit in a thread."""

    def __init__(self, url: str, executor: Any) -> None:
        self._stats_url = url.removesuffix("/v1") + "/stats"
        self._executor = executor
        self._stop = threading.Event()
        self._samples: list[Sample] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> list[Sample]:
        self._thread.start()
        return self._samples

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        started = time.monotonic()
        self._samples.append(Sample(0.0, 0, 0, WORKERS))
        with httpx.Client(timeout=5) as http:
            while not self._stop.wait(SAMPLE_S):
                stats = http.get(self._stats_url).json()
                learnt = self._executor.admission.lowest_limit() or WORKERS
                self._samples.append(
                    Sample(
                        time.monotonic() - started,
                        stats["completions"],
                        stats["rate_limited"],
                        learnt,
                    )
                )


def _print(runs: list[Run]) -> None:
    print(f"{'admission':<14}{'mode':>9}{'seconds':>9}{'requests':>10}{'429s':>6}"
          f"{'429 share':>11}{'goodput':>9}")  # fmt: skip
    for run in runs:
        print(
            f"{run.scenario:<14}{run.mode:>9}{run.seconds:>9.2f}{run.requests:>10}"
            f"{run.rate_limited:>6}{run.share_429:>10.1%}{run.goodput:>9.1%}"
        )


def _rates(samples: list[Sample], bin_s: float = 0.5) -> Iterator[tuple[float, float, float]]:
    """(time, accepted/s, refused/s) per `bin_s` seconds."""
    step = max(1, round(bin_s / SAMPLE_S))
    for before, after in zip(samples[::step], samples[step::step], strict=False):
        span = after.t - before.t
        yield (
            after.t,
            (after.completions - before.completions) / span,
            (after.rate_limited - before.rate_limited) / span,
        )


def plot(scenario: Scenario, runs: list[Run], path: Path) -> None:
    """Requests/s accepted and refused, and the learnt concurrency limit, over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(runs), 1, figsize=(8, 5.5), sharex=True, squeeze=False)
    for axis, run in zip(axes[:, 0], runs, strict=True):
        rates = list(_rates(run.samples))
        times = [t for t, _, _ in rates]
        axis.plot(times, [ok for _, ok, _ in rates], color="tab:blue", label="accepted req/s")
        axis.bar(times, [no for _, _, no in rates], width=0.4, color="tab:red",
                 alpha=0.6, label="429s/s")  # fmt: skip
        if scenario.name == "rps":
            axis.axhline(scenario.limit, color="grey", linestyle="--", label="provider limit")
        axis.set_ylabel("requests/s")
        twin = axis.twinx()
        twin.step([s.t for s in run.samples], [s.concurrency for s in run.samples],
                  color="tab:green", where="post", label="concurrency limit")  # fmt: skip
        twin.set_ylim(0, WORKERS + 1)
        twin.set_ylabel("in flight allowed")
        axis.set_title(
            f"{'aita, admission control on' if run.mode == 'adaptive' else 'controller off'}: "
            f"goodput {run.goodput:.0%}, {run.share_429:.1%} of requests answered 429",
            fontsize=10,
        )
        lines, labels = axis.get_legend_handles_labels()
        more, more_labels = twin.get_legend_handles_labels()
        axis.legend(lines + more, labels + more_labels, loc="lower left", fontsize=8,
                    framealpha=0.9)  # fmt: skip
    axes[-1, 0].set_xlabel("seconds")
    figure.suptitle(f"A provider limit aita is not told: {scenario.title}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
