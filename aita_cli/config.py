"""Settings from AITA_* environment variables and `.env`, validated once.

Precedence: command-line flags (passed to `load_settings` as overrides) beat the
environment, which beats `.env`, which beats the defaults. Any invalid value becomes one
`ConfigError` line naming the variable and what it accepts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from aita_cli.errors import ConfigError

__all__ = ["ProviderName", "Settings", "load_settings"]

ProviderName = Literal["auto", "openrouter", "openai", "offline"]

# What each setting accepts, in words, for error messages.
_ACCEPTS: dict[str, str] = {
    "max_workers": "a whole number of at least 1",
    "rate_limit_rps": "a number of requests per second, 0 or more (0 = unlimited)",
    "enable_checkpointing": "true or false",
    "checkpoint_interval": "a whole number of at least 1",
    "show_progress": "true or false",
    "max_retries": "a whole number of 0 or more",
    "checkpoint_dir": "a directory path",
    "data_dir": "a directory path",
    "provider": "one of auto, openrouter, openai, offline",
    "max_cost": "an amount in USD greater than 0",
    "tokens_per_minute": "a whole number of tokens per minute greater than 0",
    "request_timeout": "a number of seconds greater than 0",
    "connect_timeout": "a number of seconds greater than 0",
    "render_dpi": "a whole number of dots per inch between 50 and 600",
    "image_max_side": "a whole number of pixels between 256 and 8192",
    "prices": 'JSON like {"model-id": [prompt_usd_per_mtok, completion_usd_per_mtok]}',
    "http_referer": "the URL OpenRouter shows for this app",
    "app_title": "the title OpenRouter shows for this app",
}


def default_cache_dir() -> Path:
    """Where the response cache and cost ledger live unless AITA_CACHE_DIR says: the
    user's cache directory ($XDG_CACHE_HOME/aita, else ~/.cache/aita)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "aita"


class Settings(BaseSettings):
    """Everything aita can be told through the environment; the README lists each
    variable with its default (docs/architecture.md, "Settings")."""

    model_config = SettingsConfigDict(
        env_prefix="AITA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    max_workers: int = Field(5, ge=1)
    rate_limit_rps: float = Field(10.0, ge=0)
    enable_checkpointing: bool = True
    checkpoint_interval: int = Field(10, ge=1)
    show_progress: bool = True
    max_retries: int = Field(3, ge=0)
    checkpoint_dir: Path = Path("./checkpoints")
    data_dir: Path = Path("./data")
    cache_dir: Path = Field(default_factory=default_cache_dir)
    no_cache: bool = False  # never answer a request from the response cache
    provider: ProviderName = "auto"
    openrouter_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENROUTER_API_KEY", "openrouter_api_key")
    )
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    vision_model: str | None = None
    max_cost: float | None = Field(None, gt=0)
    tokens_per_minute: int | None = Field(None, gt=0)
    request_timeout: float = Field(120.0, gt=0)
    connect_timeout: float = Field(10.0, gt=0)
    render_dpi: int = Field(150, ge=50, le=600)
    image_max_side: int = Field(2000, ge=256, le=8192)
    # USD per million (prompt, completion) tokens, on top of aita_cli.llm.pricing's table.
    prices: Annotated[dict[str, tuple[float, float]], NoDecode] = Field(default_factory=dict)
    http_referer: str = "https://pypi.org/project/aita-cli/"  # OpenRouter attribution
    app_title: str = "aita"
    # AITA_DEBUG is read by aita_cli.cli.errors straight from the environment: it must work
    # even when these settings fail to load, which is when a traceback is wanted most.

    @field_validator(
        "base_url", "model", "vision_model", "max_cost", "tokens_per_minute", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `AITA_MAX_COST=` in a .env means "not set", not "invalid".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("prices", mode="before")
    @classmethod
    def _prices_from_json(cls, value: Any) -> Any:
        # NoDecode above: we parse here so bad JSON becomes one ConfigError line.
        if isinstance(value, str | bytes):
            if not value.strip():
                return {}
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                raise ValueError("not valid JSON") from None
        return value

    @field_validator("prices")
    @classmethod
    def _prices_not_negative(
        cls, value: dict[str, tuple[float, float]]
    ) -> dict[str, tuple[float, float]]:
        if any(price < 0 for pair in value.values() for price in pair):
            raise ValueError("prices cannot be negative")
        return value


# The command-line flag behind each setting that has one: an invalid flag value is
# reported under the flag's name, not the variable's the user never set.
_FLAGS: dict[str, str] = {
    "max_workers": "--workers",
    "rate_limit_rps": "--rate-limit",
    "max_cost": "--max-cost",
    "tokens_per_minute": "--tpm",
    "provider": "--provider",
    "model": "--model",
    "data_dir": "--data-dir",
    "no_cache": "--no-cache",
}


def _variable_name(field_name: str) -> str:
    if field_name == "openrouter_api_key":
        return "OPENROUTER_API_KEY"
    return f"AITA_{field_name.upper()}"


def _describe(error: ValidationError, flags_given: set[str]) -> str:
    first = error.errors()[0]
    field_name = str(first["loc"][0]) if first["loc"] else ""
    name = _FLAGS.get(field_name) if field_name in flags_given else None
    accepts = _ACCEPTS.get(field_name, "a valid value")
    given = first.get("input")
    shown = f", got {given!r}" if isinstance(given, str | int | float) else ""
    if field_name in ("api_key", "openrouter_api_key"):
        shown = ""  # never echo anything that may be a secret
    return f"{name or _variable_name(field_name)} must be {accepts}{shown}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `.env`, with non-None overrides (flags) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, set(given))) from None
    except (OSError, UnicodeDecodeError) as exc:  # reading .env (a bad file, not a bug)
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ConfigError(f".env: cannot read it ({reason or exc})") from None
