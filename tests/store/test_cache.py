"""The response cache and its keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.store import CachedReply, Store, request_key

REQUEST = {
    "endpoint": "chat/completions",
    "model": "openai/gpt-4o-mini",
    "params": {"temperature": 0, "max_tokens": 800},
    "messages": [{"role": "user", "content": "Grade this.", "image_sha256": "ab" * 32}],
    "schema": {"type": "object"},
}


def test_a_miss_is_none_and_a_remembered_reply_survives_reopening(tmp_path: Path) -> None:
    reply = CachedReply('{"score": 3}', "openai/gpt-4o-mini", 1200, 40, 0.0009)
    key = request_key(REQUEST)
    with Store.open(tmp_path) as store:
        assert store.cached(key) is None
        store.remember(key, reply)
    with Store.open(tmp_path) as store:
        assert store.cached(key) == reply
        assert store.cached(request_key({**REQUEST, "model": "other"})) is None


def test_remembering_again_replaces_the_reply(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.remember("k", CachedReply("old", "m", 1, 1, 0.1))
        store.remember("k", CachedReply("new", "m", 2, 2, 0.2))
        assert store.cached("k") == CachedReply("new", "m", 2, 2, 0.2)


def test_the_key_ignores_key_order_and_sees_every_value() -> None:
    reordered = dict(reversed(list(REQUEST.items())))
    reordered["params"] = {"max_tokens": 800, "temperature": 0}
    key = request_key(REQUEST)
    assert request_key(reordered) == key
    assert len(key) == 64
    assert int(key, 16) >= 0
    changed = {**REQUEST, "params": {"temperature": 0, "max_tokens": 801}}
    assert request_key(changed) != key


def test_raw_bytes_are_refused_because_images_must_be_hashed_first() -> None:
    with pytest.raises(TypeError):
        request_key({"image": b"\x89PNG"})
