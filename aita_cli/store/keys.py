"""Cache keys: the sha256 of a request's canonical JSON."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["request_key"]

# Part of every key: change it when the canonical form changes, so old entries are
# never mistaken for new ones (they simply stop matching).
_KEY_VERSION = b"aita-request-v1\n"


def request_key(material: Mapping[str, Any]) -> str:
    """The hex sha256 of `material` as JSON with sorted keys.

    `material` holds everything that decides the reply (endpoint, model, params,
    messages, schema); image bytes must already be replaced by their hash, since JSON
    has no bytes. Raises `TypeError` for a value JSON cannot hold.
    """
    canonical = orjson.dumps(material, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(_KEY_VERSION + canonical).hexdigest()
