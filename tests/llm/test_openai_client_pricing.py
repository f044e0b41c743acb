"""Price estimates: the built-in table, vendor-prefix matching and AITA_PRICES overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.config import load_settings
from aita_cli.errors import ConfigError
from aita_cli.llm.pricing import BUILTIN_PRICES, PriceTable, price_table_from_settings


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("AITA_PRICES", raising=False)


def test_builtin_model_is_priced_per_million_tokens() -> None:
    table = PriceTable()
    assert table.is_known("openai/gpt-4o-mini")
    assert table.cost("openai/gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)


def test_vendor_prefix_is_optional_both_ways() -> None:
    table = PriceTable({"mistral-small": (0.2, 0.6)})
    assert table.price("gpt-4o-mini") == BUILTIN_PRICES["openai/gpt-4o-mini"]
    assert table.price("mistralai/mistral-small") == (0.2, 0.6)


def test_unknown_model_costs_nothing() -> None:
    table = PriceTable()
    assert not table.is_known("llama3.1:8b")
    assert table.cost("llama3.1:8b", 5000, 5000) == 0.0


def test_overrides_beat_the_builtin_table() -> None:
    table = PriceTable({"gpt-4o-mini": (1.0, 1.0)})
    assert table.cost("openai/gpt-4o-mini", 500_000, 500_000) == pytest.approx(1.0)
    assert PriceTable(include_builtin=False).is_known("openai/gpt-4o-mini") is False


def test_table_from_aita_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_PRICES", '{"local/llama": [0.5, 1.5]}')
    table = price_table_from_settings(load_settings())
    assert table.cost("local/llama", 2_000_000, 1_000_000) == pytest.approx(2.5)
    assert table.is_known("openai/gpt-4o")  # the built-ins are still there


@pytest.mark.parametrize("value", ["not json", '{"m": [1]}', '{"m": [-1, 2]}', "[1, 2]"])
def test_bad_aita_prices_is_one_config_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AITA_PRICES", value)
    with pytest.raises(ConfigError, match=r"^AITA_PRICES must be JSON like"):
        load_settings()
