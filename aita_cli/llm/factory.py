"""Pick the model backend from the settings, and say why.

`AITA_PROVIDER` (or `--provider`):

- auto: OpenRouter if OPENROUTER_API_KEY is set, else the endpoint in AITA_BASE_URL if
  set, else offline;
- openrouter: needs OPENROUTER_API_KEY; models default to openai/gpt-4o-mini;
- openai: any OpenAI-compatible endpoint. AITA_BASE_URL names it (a local Ollama, vLLM,
  LM Studio or llama.cpp server needs no key; without AITA_MODEL, the endpoint is asked
  which models it serves, and its only one is used); without AITA_BASE_URL,
  AITA_API_KEY means api.openai.com, with gpt-4o-mini by default;
- offline: templates and on-device OCR, no network at all.
"""

from __future__ import annotations

from typing import TypedDict

from pydantic import SecretStr

from aita_cli.config import ProviderName, Settings, load_settings
from aita_cli.errors import ConfigError
from aita_cli.llm.base import LLMClient
from aita_cli.llm.endpoints import checked_base_url, public_url
from aita_cli.llm.openai_client import (
    OPENAI_BASE_URL,
    OPENROUTER_BASE_URL,
    OpenAICompatibleClient,
)
from aita_cli.llm.openai_models import only_served_model
from aita_cli.llm.pricing import PriceTable, price_table_from_settings

__all__ = [
    "DEFAULT_OPENAI_MODEL",
    "DEFAULT_OPENROUTER_MODEL",
    "choose_provider",
    "create_client",
    "create_openrouter_client",
]

DEFAULT_OPENROUTER_MODEL = "openai/gpt-4o-mini"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def _has_secret(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


def choose_provider(settings: Settings) -> tuple[ProviderName, str]:
    """The concrete provider the settings select ("auto" resolved), and why."""
    if settings.provider != "auto":
        return settings.provider, f"--provider/AITA_PROVIDER is {settings.provider}"
    if _has_secret(settings.openrouter_api_key):
        return "openrouter", "OPENROUTER_API_KEY is set"
    if settings.base_url:
        return "openai", "AITA_BASE_URL is set"
    return "offline", "no OPENROUTER_API_KEY or AITA_BASE_URL is set"


def create_client(settings: Settings) -> LLMClient:
    """The backend `settings` select: OpenRouter, an OpenAI-compatible endpoint or offline.

    Raises `ConfigError` when the chosen provider lacks what it needs.
    """
    provider, reason = choose_provider(settings)
    if provider == "openrouter":
        return create_openrouter_client(settings, reason=reason)
    if provider == "openai":
        return _create_openai_client(settings, reason)
    from aita_cli.llm.offline import OfflineLLMClient  # heavy OCR imports stay lazy

    return OfflineLLMClient(reason=_offline_reason(settings, reason))


def _offline_reason(settings: Settings, reason: str) -> str | None:
    """Why offline runs, when that is not simply "nothing configured" (None)."""
    if settings.provider == "offline":
        return reason  # chosen on purpose
    if _has_secret(settings.api_key):
        return (
            "AITA_API_KEY alone does not pick a provider: use --provider openai for "
            "api.openai.com, or set AITA_BASE_URL"
        )
    return None


class _HttpOptions(TypedDict):
    max_connections: int
    connect_timeout: float
    read_timeout: float
    prices: PriceTable


def _http_options(settings: Settings) -> _HttpOptions:
    """What every HTTP client takes from the settings: the pool is sized to the workers."""
    return {
        "max_connections": settings.max_workers,
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.request_timeout,
        "prices": price_table_from_settings(settings),
    }


def create_openrouter_client(
    settings: Settings | None = None, *, reason: str = "OPENROUTER_API_KEY is set"
) -> OpenAICompatibleClient:
    """A client for OpenRouter with OPENROUTER_API_KEY, or `ConfigError` saying what to set."""
    settings = settings if settings is not None else load_settings()
    if not _has_secret(settings.openrouter_api_key):
        raise ConfigError("No key found — set OPENROUTER_API_KEY or use --provider offline")
    model = settings.model or DEFAULT_OPENROUTER_MODEL
    return OpenAICompatibleClient(
        OPENROUTER_BASE_URL,
        settings.openrouter_api_key,
        model=model,
        vision_model=settings.vision_model or model,
        provider_name="openrouter",
        extra_headers={"HTTP-Referer": settings.http_referer, "X-Title": settings.app_title},
        key_variable="OPENROUTER_API_KEY",
        reason=reason,
        **_http_options(settings),
    )


def _create_openai_client(settings: Settings, reason: str) -> OpenAICompatibleClient:
    has_key = _has_secret(settings.api_key)
    if settings.base_url:
        base_url, default_model = settings.base_url.rstrip("/"), None
    elif has_key:
        base_url, default_model = OPENAI_BASE_URL, DEFAULT_OPENAI_MODEL
        reason = f"{reason}, AITA_API_KEY is set and AITA_BASE_URL is not"
    else:
        raise ConfigError(
            "--provider openai needs AITA_BASE_URL (e.g. http://localhost:11434/v1 for "
            "Ollama) or AITA_API_KEY for api.openai.com"
        )
    model = settings.model or default_model
    if model is None:
        # A local server usually serves one model: ask it, rather than make the user
        # look up an id the server already knows.
        checked = checked_base_url(base_url)  # a bad URL is reported, masked, first
        model = only_served_model(
            checked,
            settings.api_key if has_key else None,
            shown_url=public_url(checked),
            timeout=settings.connect_timeout,
        )
        reason = f"{reason}; AITA_MODEL is not set, and the endpoint serves only {model}"
    return OpenAICompatibleClient(
        base_url,
        settings.api_key if has_key else None,
        model=model,
        vision_model=settings.vision_model or model,
        provider_name="openai" if base_url == OPENAI_BASE_URL else "openai-compatible",
        key_variable="AITA_API_KEY",
        reason=reason,
        **_http_options(settings),
    )
