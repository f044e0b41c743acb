"""aita: a command-line teaching assistant built on a parallel, resumable LLM executor.

The public API is re-exported here; everything else is private to its module.
"""

from __future__ import annotations

from aita_cli.config import Settings, load_settings
from aita_cli.errors import AitaError
from aita_cli.execution.tasks import BatchableLLMTask, LLMTask, SimpleLLMTask, VisionLLMTask
from aita_cli.llm.base import LLMClient, LLMResponse
from aita_cli.usage import Usage

__version__ = "0.1.0"

__all__ = [
    "AitaError",
    "BatchableLLMTask",
    "LLMClient",
    "LLMResponse",
    "LLMTask",
    "Settings",
    "SimpleLLMTask",
    "Usage",
    "VisionLLMTask",
    "__version__",
    "load_settings",
]
