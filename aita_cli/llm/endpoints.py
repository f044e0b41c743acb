"""An endpoint's base URL: checked once, and printable without its password."""

from __future__ import annotations

import re

import httpx

from aita_cli.errors import ConfigError

__all__ = ["checked_base_url", "public_url"]

_USERINFO = re.compile(r"//.*@")


def public_url(base_url: str) -> str:
    """`base_url` without any user:password part, safe to print."""
    url = httpx.URL(base_url)
    return str(url.copy_with(username=None, password=None)) if url.userinfo else base_url


def checked_base_url(base_url: str) -> str:
    """`base_url` without a trailing slash, or a `ConfigError` that quotes it with any
    user:password part masked."""
    # Quoted without any user:password part: the URL may not parse, so mask it by hand.
    shown = repr(_USERINFO.sub("//***@", base_url))
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"AITA_BASE_URL must be an http:// or https:// URL, got {shown}")
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        raise ConfigError(f"AITA_BASE_URL is not a valid URL: {shown}") from None
    if "@" in url.path or "@" in url.query.decode("ascii", "replace"):
        # A second "@" is a password's own: the URL would be read with the rest of the
        # password as its host and path, and print it wherever the endpoint is named.
        raise ConfigError(
            f"AITA_BASE_URL is not a valid URL: {shown} (write an @ in a password as %40)"
        )
    return base_url.rstrip("/")
