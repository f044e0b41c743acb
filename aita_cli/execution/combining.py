"""Which ready tasks share one request.

The first ready `BatchableLLMTask` and the compatible ones among the ready jobs just
behind it go out as one combined call, up to `max_batch_size` of them; the leader (the
first) builds the combined task and later splits its result. Jobs it passes over keep
their order. The look-ahead is bounded, so taking a job stays O(max_batch_size): tasks
become ready in dependency order, which interleaves (one student's short answers
arrive between other students' pages), and stopping at the first stranger would
combine almost nothing. Only fresh jobs combine: a retry, or a member asked again
alone after it went missing from a combined reply, runs on its own.
"""

from __future__ import annotations

from collections import deque

from aita_cli.execution.attempt import Job
from aita_cli.execution.tasks import BatchableLLMTask

__all__ = ["combinable", "take_next_job"]

# How many ready jobs behind the leader are looked at, per place in the combined call.
_LOOKAHEAD_PER_MEMBER = 4


def combinable(job: Job) -> bool:
    """Whether `job` may still be combined with others."""
    fresh = job.leader is None and not job.solo and job.attempts == 0
    return fresh and isinstance(job.task, BatchableLLMTask)


def take_next_job(ready: deque[Job], max_batch_size: int) -> Job:
    """Take the next ready job off `ready`, combined with the compatible ready jobs
    that follow it (taken too)."""
    job = ready.popleft()
    if max_batch_size <= 1 or not combinable(job):
        return job
    leader = job.task
    assert isinstance(leader, BatchableLLMTask)
    group, passed_over = [job], []
    looked_at = 0
    while (
        ready and len(group) < max_batch_size and looked_at < _LOOKAHEAD_PER_MEMBER * max_batch_size
    ):
        candidate = ready.popleft()
        looked_at += 1
        if combinable(candidate) and leader.can_batch_with(candidate.task):
            group.append(candidate)
        else:
            passed_over.append(candidate)
    ready.extendleft(reversed(passed_over))
    if len(group) == 1:
        return job
    try:
        combined = leader.combine_with([member.task for member in group[1:]])
    except Exception:
        ready.extendleft(reversed(group[1:]))  # run them one by one instead
        return job
    return Job(combined, [member.members[0] for member in group], leader=leader)
