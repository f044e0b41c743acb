"""Shared by every test: the cost ledger and response cache live in the test's own
folder, never in the developer's ~/.cache, and the cache answers nothing unless a test
turns it on (AITA_NO_CACHE unset): a test that reruns a command expects the calls."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("AITA_CACHE_DIR", str(folder))
    monkeypatch.setenv("AITA_NO_CACHE", "true")
    return folder
