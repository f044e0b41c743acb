"""Asking an OpenAI-compatible endpoint which models it serves (`GET /models`).

With `AITA_BASE_URL` and no `AITA_MODEL`, aita asks: a local server (llama.cpp,
llama-cpp-python, LM Studio, vLLM) usually serves exactly one model, and then there is
nothing to choose. Any other answer becomes a `ConfigError` that says what to set and,
when the endpoint answered, which models it serves.
"""

from __future__ import annotations

import httpx
import orjson
from pydantic import SecretStr

from aita_cli.errors import ConfigError

__all__ = ["only_served_model"]

_LISTED = 10  # model ids named in an error
_REQUIRED = "AITA_MODEL is required with AITA_BASE_URL"


def only_served_model(
    base_url: str,
    api_key: SecretStr | None,
    *,
    shown_url: str,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """The one model `base_url` serves, or a `ConfigError` saying what to set.

    `shown_url` is the endpoint as messages may print it (no password in it).
    """
    models = _served_models(base_url, api_key, shown_url, timeout, transport)
    if len(models) == 1:
        return models[0]
    if not models:
        raise ConfigError(f"{_REQUIRED}: {shown_url} lists no models; set AITA_MODEL")
    listed = ", ".join(models[:_LISTED]) + (
        f" and {len(models) - _LISTED} more" if len(models) > _LISTED else ""
    )
    raise ConfigError(
        f"{_REQUIRED}: {shown_url} serves {len(models)} models ({listed}); "
        "set AITA_MODEL to one of them (or pass --model)"
    )


def _served_models(
    base_url: str,
    api_key: SecretStr | None,
    shown_url: str,
    timeout: float,
    transport: httpx.BaseTransport | None,
) -> list[str]:
    headers = {"Accept": "application/json"}
    if api_key is not None and api_key.get_secret_value().strip():
        headers["Authorization"] = f"Bearer {api_key.get_secret_value().strip()}"
    cannot = f"{_REQUIRED}: {shown_url} could not list its models"
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            response = client.get(f"{base_url.rstrip('/')}/models", headers=headers)
    except (UnicodeEncodeError, httpx.LocalProtocolError):
        # Never quoted: the offending header is the key itself.
        raise ConfigError(
            "AITA_API_KEY holds a character that is not plain ASCII (a pasted typographic "
            "quote or dash?): check it for stray characters"
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # Not chained and not quoted: httpx's message may hold the URL's password.
        raise ConfigError(f"{cannot} ({type(exc).__name__}); set AITA_MODEL") from None
    if not response.is_success:
        raise ConfigError(f"{cannot} (HTTP {response.status_code}); set AITA_MODEL")
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{cannot} (the reply is not JSON); set AITA_MODEL") from None
    entries = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{cannot} (no model list in the reply); set AITA_MODEL")
    return [
        str(entry["id"])
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]
    ]
