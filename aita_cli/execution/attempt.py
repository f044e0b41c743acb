"""One attempt at one job, run in a worker thread.

A *job* is one model request: a single task, or several batchable tasks combined into
one call. An attempt waits for the shared rate limiter, calls the model, parses the
reply (CPU work, so it runs here, in parallel), and returns an `Outcome`: the results of
the tasks it finished, the jobs to retry and when, that it was cancelled, or an error
that stops the batch. It writes no batch state: the scheduler applies the outcome in its
own thread, so a call abandoned after the interrupt grace period can change nothing
once the batch has returned. What the workers do share is thread-safe: the cost
ledgers, the rate limiter and the in-flight count.
"""

from __future__ import annotations

from typing import Any

from aita_cli.errors import LLMError, LLMTimeoutError, RateLimitError, ResponseValidationError
from aita_cli.execution.admission import Signal, signal_of
from aita_cli.execution.batch_state import BatchContext, Finished, Job, Outcome
from aita_cli.execution.provider_limits import obey_headers, reserve_tokens, settle_tokens
from aita_cli.execution.rate_limiter import RateLimitCancelled
from aita_cli.execution.results import TaskResult
from aita_cli.execution.tasks import BatchableLLMTask, LLMTask
from aita_cli.llm.base import LLMResponse
from aita_cli.llm.messages import LLMMessage, as_messages
from aita_cli.usage import Usage

__all__ = ["BatchContext", "Finished", "Job", "Outcome", "error_text", "run_attempt"]

_CORRECTION = (
    "Your previous reply could not be used: {error}. "
    "Reply again with the complete answer, corrected, in the required format."
)


def run_attempt(ctx: BatchContext, job: Job) -> Outcome:
    """Run one attempt of `job` and say how it ended; never raises (a bug fails the
    job's tasks instead)."""
    try:
        if ctx.stop.is_set():
            return Outcome(job, cancelled=True)
        answered = _from_cache(ctx, job)
        if answered is not None:  # no pacing, no slot, no cost: nothing was sent
            return answered
        gate = ctx.admission.for_model(_model_of(ctx, job.task))
        sent_with = gate.acquire(ctx.stop)
        if sent_with is None:
            return Outcome(job, cancelled=True)
        signal: Signal = "neutral"
        try:
            outcome = _paced(ctx, job)
            if not outcome.cancelled:
                signal = signal_of(outcome.error)
                if signal == "ok":
                    ctx.limiter.note_accepted()
        finally:
            gate.release(signal, sent_with)
    except Exception as error:  # a bug in a task hook or in the engine itself
        outcome = Outcome(job, finished=_failures(ctx, job, job.members, error))
    return outcome


def _from_cache(ctx: BatchContext, job: Job) -> Outcome | None:
    """The first request of a job, answered from the response cache when it holds it:
    a combined job when every member's own reply is there (however it was asked last
    time), else the combined request itself."""
    if ctx.accounting is None or job.attempts or job.follow_up:
        return None
    model = _model_of(ctx, job.task)
    if job.leader is not None:
        alone = [ctx.accounting.look_up(ctx.tasks[p], model, record=False) for p in job.members]
        hits = [(p, found) for p, found in zip(job.members, alone, strict=True) if found.hit]
        if hits:
            return _partly_cached(ctx, job, model, hits)
    found = ctx.accounting.look_up(job.task, model)
    job.prepared, job.cache_key = found.messages, found.key
    if not found.hit:
        return None
    job.cached = True
    return _after_success(ctx, job, found.result)


def _partly_cached(ctx: BatchContext, job: Job, model: str, hits: list[tuple[int, Any]]) -> Outcome:
    """A combined job some of whose members the cache answers: those finish now, at no
    cost; the rest go out again at once as a job of their own (combined if several)."""
    assert ctx.accounting is not None
    outcome = Outcome(job)
    answered = {position for position, _ in hits}
    for position, found in hits:
        ctx.accounting.record_hit(ctx.tasks[position], model)
        cached = Job(ctx.tasks[position], [position], cached=True)
        outcome.finished.append(_success(ctx, cached, position, found.result, 1))
    rest = [position for position in job.members if position not in answered]
    if len(rest) == 1:
        outcome.requeue.append(Job(ctx.tasks[rest[0]], rest, solo=True))
    elif rest:
        leader = ctx.tasks[rest[0]]
        assert isinstance(leader, BatchableLLMTask)
        combined = leader.combine_with([ctx.tasks[position] for position in rest[1:]])
        outcome.requeue.append(Job(combined, rest, leader=leader))
    return outcome


def _paced(ctx: BatchContext, job: Job) -> Outcome:
    try:
        waited = ctx.limiter.acquire(ctx.stop)
    except RateLimitCancelled:
        return Outcome(job, cancelled=True)
    outcome = _send(ctx, job)
    outcome.rate_limit_wait_s = waited
    return outcome


def _model_of(ctx: BatchContext, task: LLMTask) -> str:
    """The model a task's requests go to: concurrency is learnt per model."""
    params = task.get_llm_params()
    chosen = params.get("model")
    return chosen if chosen else ctx.client.model_for(vision=bool(params.get("vision")))


def _send(ctx: BatchContext, job: Job) -> Outcome:
    job.granted_at = ctx.clock()
    if ctx.budget_reached():
        return Outcome(job, cancelled=True)
    try:
        result = _call_and_parse(ctx, job)
    except _Cancelled:
        return Outcome(job, cancelled=True)
    except Exception as error:
        return _after_failure(ctx, job, error)
    return _after_success(ctx, job, result)


class _Cancelled(Exception):
    """Stopped while waiting for the token budget: nothing was sent."""


def _call_and_parse(ctx: BatchContext, job: Job) -> Any:
    messages = (job.prepared or as_messages(job.task.build_messages())) + job.follow_up
    job.prepared = None  # a retry builds them again: nothing rendered is kept
    params = dict(job.task.get_llm_params())
    reserved = reserve_tokens(ctx.tokens, messages, ctx.stop)
    if reserved is None:
        raise _Cancelled
    if job.first_started is None:
        job.first_started = ctx.clock()
    job.attempts += 1
    job.last_reply = None
    try:
        response = ctx.client.complete(messages, **params)
    except LLMError as error:
        # A timed-out call probably ran (and was counted); a refused one was not.
        settle_tokens(ctx.tokens, reserved, error.usage, counted=isinstance(error, LLMTimeoutError))
        ctx.charge(job, error.usage, error.cost, error.cost_is_estimate)
        _ledger(ctx, job, params, error, error)
        raise
    settle_tokens(ctx.tokens, reserved, response.usage)
    if ctx.limiter_learns:
        obey_headers(ctx.limiter, response)
    ctx.charge(job, response.usage, response.cost, response.cost_is_estimate)
    job.last_reply = response.content
    try:
        result = job.task.parse_response(response.content)
    except Exception as error:  # any parse failure (json, pydantic, int()): re-ask
        invalid = _as_validation_error(error)
        _ledger(ctx, job, params, response, invalid)
        raise invalid from error
    _ledger(ctx, job, params, response, None)
    job.reply = None if job.follow_up else response  # a re-asked conversation: never cached
    return result


def _ledger(
    ctx: BatchContext,
    job: Job,
    params: dict[str, Any],
    paid: LLMResponse | LLMError,
    error: Exception | None,
) -> None:
    """The attempt's row in the cost ledger: what it cost, and how it ended."""
    if ctx.accounting is not None:
        model = params.get("model") or ctx.client.model_for(vision=bool(params.get("vision")))
        ctx.accounting.record_call(job.task, str(model), paid, error)


def _as_validation_error(error: Exception) -> ResponseValidationError:
    """A task's own parse failure, as the retryable error the model is re-asked with."""
    if isinstance(error, ResponseValidationError):
        return error
    if isinstance(error, ValueError) and str(error):
        return ResponseValidationError(str(error))
    return ResponseValidationError(f"{type(error).__name__}: {error}")


def _should_retry(ctx: BatchContext, task: LLMTask, error: Exception, retries: int) -> bool:
    """The one retry rule: the policy (its cap, what is retryable), then the task's hook."""
    return ctx.policy.should_retry(error, retries) and task.should_retry(error, retries)


def _after_failure(ctx: BatchContext, job: Job, error: Exception) -> Outcome:
    outcome = _failure_outcome(ctx, job, error)
    outcome.error = error
    return outcome


def _failure_outcome(ctx: BatchContext, job: Job, error: Exception) -> Outcome:
    if not _should_retry(ctx, job.task, error, job.retries):
        fatal = error if getattr(error, "stops_batch", False) else None
        return Outcome(job, finished=_failures(ctx, job, job.members, error), fatal_error=fatal)
    job.retries += 1
    if isinstance(error, ResponseValidationError):
        if job.last_reply is not None:
            job.follow_up = [
                *job.follow_up,
                LLMMessage.assistant(job.last_reply),
                LLMMessage.user(_CORRECTION.format(error=error)),
            ]
        delay = 0.0  # the provider is fine; only the reply needs correcting
    else:
        delay = ctx.policy.backoff_delay(error, job.retries)
        if isinstance(error, RateLimitError) and _speaks_of_a_rate(ctx, job, error):
            ctx.limiter.throttle(job.granted_at, delay if error.retry_after is not None else None)
    return Outcome(job, retry_at=[(ctx.clock() + delay, job)])


def _speaks_of_a_rate(ctx: BatchContext, job: Job, error: RateLimitError) -> bool:
    """Whether a 429 is for the rate limiter to answer (pace every worker slower, and
    hold them all until its Retry-After has passed): it gave a Retry-After, or it came
    when only one call was allowed in flight, so concurrency cannot explain it. Other
    refusals are the concurrency limit's (see `admission`)."""
    if signal_of(error) != "refused" or not ctx.admission.adaptive:
        return True
    return ctx.admission.for_model(_model_of(ctx, job.task)).limit <= 1


def _after_success(ctx: BatchContext, job: Job, result: Any) -> Outcome:
    if job.leader is None:
        _remember(ctx, job)
        return Outcome(job, finished=[_success(ctx, job, job.members[0], result, 1)])
    try:
        parts = job.leader.split_batch_result(result)
    except Exception as error:
        return _after_failure(ctx, job, _as_validation_error(error))
    outcome = Outcome(job)
    share = len(job.members)
    if all(ctx.tasks[position].task_id in parts for position in job.members):
        _remember(ctx, job)  # a reply that left a member out is not worth keeping
    for position in job.members:
        task_id = ctx.tasks[position].task_id
        if task_id in parts:
            outcome.finished.append(_success(ctx, job, position, parts[task_id], share))
            if ctx.accounting is not None and job.reply is not None:
                member = ctx.tasks[position]
                ctx.accounting.remember_alone(member, _model_of(ctx, member), parts[task_id])
        else:
            _retry_alone(ctx, job, position, outcome)
    return outcome


def _remember(ctx: BatchContext, job: Job) -> None:
    """Cache the reply the task just accepted (not a cached one, not a re-ask's)."""
    accounting, reply = ctx.accounting, job.reply
    if accounting is None or reply is None or job.cached:
        return
    key = job.cache_key
    if key is None:  # asked again alone after a combined call: its own request
        messages = as_messages(job.task.build_messages())
        key = accounting.key(_model_of(ctx, job.task), messages, job.task.get_llm_params())
    accounting.remember(key, reply)


def _retry_alone(ctx: BatchContext, job: Job, position: int, outcome: Outcome) -> None:
    """A member missing from a combined result is asked again on its own."""
    task = ctx.tasks[position]
    missing = ResponseValidationError(f"task {task.task_id} is missing from the combined reply")
    if not _should_retry(ctx, task, missing, job.retries):
        outcome.finished += _failures(ctx, job, [position], missing)
        return
    usage, cost = _share(job, len(job.members))
    alone = Job(
        task=task,
        members=[position],
        solo=True,
        retries=job.retries + 1,
        attempts=job.attempts,
        usage=usage,
        cost=cost,
        cost_is_estimate=job.cost_is_estimate,
        first_started=job.first_started,
    )
    outcome.retry_at.append((ctx.clock(), alone))


def _share(job: Job, members: int) -> tuple[Usage, float]:
    """One member's even share of what a (combined) request cost."""
    if members <= 1:
        return job.usage, job.cost
    usage = job.usage
    return (
        Usage(
            usage.prompt_tokens // members,
            usage.completion_tokens // members,
            usage.reasoning_tokens // members,
            usage.cached_tokens // members,
        ),
        job.cost / members,
    )


def _success(ctx: BatchContext, job: Job, position: int, result: Any, share: int) -> Finished:
    usage, cost = _share(job, share)
    try:
        # Here, in the worker: a hook that does real work (writing a file, say) runs in
        # parallel, as it did before the scheduler took over publishing results.
        ctx.tasks[position].on_success(result)
    except Exception as error:
        failed = _result(
            ctx, job, position, usage, cost, error="on_success failed: " + error_text(error)
        )
        return Finished(position, failed)
    # Only a success is ever reused on resume, so only it needs its request's
    # fingerprint; computed here, where building the messages again runs in parallel.
    fingerprint = _fingerprint(ctx.tasks[position]) if ctx.journaling else ""
    done = _result(ctx, job, position, usage, cost, result=result)
    return Finished(position, done, fingerprint)


def _failures(
    ctx: BatchContext, job: Job, positions: list[int], error: BaseException
) -> list[Finished]:
    usage, cost = _share(job, len(job.members))
    message = error_text(error)
    return [
        Finished(position, _result(ctx, job, position, usage, cost, error=message))
        for position in positions
    ]


def error_text(error: BaseException) -> str:
    """What a failed task's result says about `error`."""
    return str(error) or type(error).__name__


def _fingerprint(task: LLMTask) -> str:
    try:
        return task.fingerprint()
    except Exception:
        return ""  # an unfingerprintable request is never reused on resume


def _result(
    ctx: BatchContext,
    job: Job,
    position: int,
    usage: Usage,
    cost: float,
    *,
    result: Any = None,
    error: str | None = None,
) -> TaskResult:
    """A success with `result`, or with an `error` a failure."""
    started = job.first_started if job.first_started is not None else ctx.clock()
    return TaskResult(
        task_id=ctx.tasks[position].task_id,
        success=error is None,
        result=result,
        error=error,
        attempts=job.attempts,
        execution_time=max(ctx.clock() - started, 0.0),
        usage=usage,
        cost=cost,
        cost_is_estimate=job.cost_is_estimate,
        cached=job.cached,
    )
