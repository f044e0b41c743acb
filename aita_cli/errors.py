"""Every error aita raises on purpose, under one root.

    AitaError                          exit 2 unless a subclass says otherwise
    ├── ConfigError                    a bad setting, flag or missing credential      (exit 2)
    │   └── OCRUnavailableError        offline OCR asked for but its extra is missing (exit 2)
    ├── InputError                     a bad assignment folder, exam or submission    (exit 2)
    ├── CheckpointError                a journal that cannot be read or written       (exit 2)
    │   └── CheckpointLockedError      another process holds the journal              (exit 2)
    ├── BudgetExceededError            --max-cost reached; the rest is resumable      (exit 3)
    ├── TaskFailedError                a task that failed for good (raised by the executor
    │   │                              only when a caller asks for one result)
    │   └── DependencyFailedError      "dependency X failed"
    ├── ResponseValidationError        the model replied, but the reply broke the task's
    │                                  rules; retryable: the task is re-asked with the error
    └── LLMError                       a provider call failed; `retryable` decides retries
        ├── RetryableLLMError          worth another attempt
        │   ├── RateLimitError         429, or 402 in_flight_budget_exhausted; carries
        │   │                          `retry_after` seconds when the provider said so
        │   ├── ServerError            408, 409, 5xx
        │   ├── LLMTimeoutError        connect, read or write timeout
        │   ├── LLMConnectionError     refused, reset, DNS, TLS
        │   └── MalformedResponseError a 200 with an error object, no choices, bad JSON,
        │                              or cut short by the length limit
        └── FatalLLMError              never retried
            ├── AuthenticationError    401, 403: the key was rejected
            ├── PaymentRequiredError   402: out of credits
            └── BadRequestError        400, 404 and other 4xx: the request itself is wrong

Errors whose class sets `stops_batch` (a rejected key, no credits, missing OCR) would hit
every remaining task alike, so the executor stops the batch at the first one instead of
sending the rest to fail; what did not run stays resumable.

Foreign exceptions (httpx, pydantic, OS errors) are translated once, where they enter
aita, with ``raise ... from exc``. Messages never contain an API key.
"""

from __future__ import annotations

from typing import ClassVar

from aita_cli.usage import Usage

__all__ = [
    "AitaError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "CheckpointError",
    "CheckpointLockedError",
    "ConfigError",
    "DependencyFailedError",
    "FatalLLMError",
    "InputError",
    "LLMConnectionError",
    "LLMError",
    "LLMTimeoutError",
    "MalformedResponseError",
    "OCRUnavailableError",
    "PaymentRequiredError",
    "RateLimitError",
    "ResponseValidationError",
    "RetryableLLMError",
    "ServerError",
    "TaskFailedError",
]

EXIT_OK = 0
EXIT_TASKS_FAILED = 1
EXIT_USAGE = 2
EXIT_BUDGET = 3
EXIT_INTERRUPTED = 130


class AitaError(Exception):
    """Root of every error aita raises on purpose."""

    exit_code: ClassVar[int] = EXIT_USAGE
    #: every other task would fail the same way: the executor stops the batch
    stops_batch: ClassVar[bool] = False


class ConfigError(AitaError):
    """A setting, flag or credential is missing or invalid."""


class OCRUnavailableError(ConfigError):
    """Offline transcription needs the `ocr` extra (rapidocr + onnxruntime)."""

    stops_batch: ClassVar[bool] = True


class InputError(AitaError):
    """The assignment folder, exam, rubric file or a submission is invalid."""


class CheckpointError(AitaError):
    """A checkpoint journal cannot be read or written."""


class CheckpointLockedError(CheckpointError):
    """Another process is writing the same checkpoint journal."""


class BudgetExceededError(AitaError):
    """The cost budget was reached; unfinished tasks can be resumed."""

    exit_code: ClassVar[int] = EXIT_BUDGET


class TaskFailedError(AitaError):
    """A task failed after every attempt it was allowed."""

    exit_code: ClassVar[int] = EXIT_TASKS_FAILED


class DependencyFailedError(TaskFailedError):
    """A task could not start because a task it needs failed."""

    def __init__(self, dependency_id: str) -> None:
        super().__init__(f"dependency {dependency_id} failed")
        self.dependency_id = dependency_id


class ResponseValidationError(AitaError):
    """The model's reply broke the task's rules; the task is re-asked with this message."""

    retryable: ClassVar[bool] = True


class LLMError(AitaError):
    """A call to a model provider failed.

    `usage` and `cost` carry what the failed attempt still cost, when the provider said.
    """

    retryable: ClassVar[bool] = False
    exit_code: ClassVar[int] = EXIT_TASKS_FAILED

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        usage: Usage | None = None,
        cost: float = 0.0,
        cost_is_estimate: bool = False,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after
        self.usage = usage
        self.cost = cost
        self.cost_is_estimate = cost_is_estimate


class RetryableLLMError(LLMError):
    """A failure that another attempt may not repeat."""

    retryable: ClassVar[bool] = True


class RateLimitError(RetryableLLMError):
    """The provider asked us to slow down (429, or 402 in_flight_budget_exhausted)."""


class ServerError(RetryableLLMError):
    """The provider failed on its side (408, 409, 5xx)."""


class LLMTimeoutError(RetryableLLMError):
    """The request timed out."""


class LLMConnectionError(RetryableLLMError):
    """The provider could not be reached."""


class MalformedResponseError(RetryableLLMError):
    """A 200 reply that carries no usable completion."""


class FatalLLMError(LLMError):
    """A failure that would repeat on every attempt."""


class AuthenticationError(FatalLLMError):
    """The API key was missing or rejected (401, 403)."""

    stops_batch: ClassVar[bool] = True


class PaymentRequiredError(FatalLLMError):
    """The account is out of credits (402)."""

    stops_batch: ClassVar[bool] = True


class BadRequestError(FatalLLMError):
    """The request itself is wrong (400, 404, other 4xx)."""
