"""aita: a command-line teaching assistant built on a parallel, resumable LLM executor.

The public API is re-exported here; everything else is private to its module::

    from aita_cli import ParallelLLMExecutor, SimpleLLMTask, create_client, load_settings

    settings = load_settings()
    with create_executor(create_client(settings), settings=settings) as executor:
        batch = executor.execute_batch([SimpleLLMTask("q1", "What is 2 + 2?", int)])
    print(batch.get_result_by_id("q1"))  # TaskResult(task_id="q1", success=True, result=4, ...)
"""

from __future__ import annotations

from aita_cli.config import Settings, load_settings
from aita_cli.errors import AitaError
from aita_cli.execution.checkpoint import CheckpointManager
from aita_cli.execution.executor import ParallelLLMExecutor, create_executor
from aita_cli.execution.rate_limiter import TokenBucketRateLimiter
from aita_cli.execution.results import BatchExecutionResult, ExecutionMetrics, TaskResult
from aita_cli.execution.retry import RetryPolicy
from aita_cli.execution.tasks import BatchableLLMTask, LLMTask, SimpleLLMTask, VisionLLMTask
from aita_cli.llm.base import LLMClient, LLMResponse
from aita_cli.llm.factory import create_client, create_openrouter_client
from aita_cli.llm.messages import EncodedImage, ImageAttachment, ImageURL, LazyImage, LLMMessage
from aita_cli.usage import Usage

__version__ = "0.1.0"

__all__ = [
    "AitaError",
    "BatchExecutionResult",
    "BatchableLLMTask",
    "CheckpointManager",
    "EncodedImage",
    "ExecutionMetrics",
    "ImageAttachment",
    "ImageURL",
    "LLMClient",
    "LLMMessage",
    "LLMResponse",
    "LLMTask",
    "LazyImage",
    "ParallelLLMExecutor",
    "RetryPolicy",
    "Settings",
    "SimpleLLMTask",
    "TaskResult",
    "TokenBucketRateLimiter",
    "Usage",
    "VisionLLMTask",
    "__version__",
    "create_client",
    "create_executor",
    "create_openrouter_client",
    "load_settings",
]
