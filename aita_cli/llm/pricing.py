"""What a model call costs in USD, when the provider does not say.

OpenRouter reports each call's real cost in `usage.cost`; most other OpenAI-compatible
endpoints report only tokens. For those, and for `--dry-run` estimates, a `PriceTable`
turns tokens into dollars. Every figure it returns is an ESTIMATE: the built-in prices
are public list prices that drift over time, so users can override or extend them with
`AITA_PRICES='{"model-id": [prompt_usd_per_mtok, completion_usd_per_mtok]}'`.
An unknown model (a local Ollama model, say) costs 0.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aita_cli.config import Settings

__all__ = ["BUILTIN_PRICES", "PriceTable", "price_table_from_settings"]

# USD per million (prompt, completion) tokens. ESTIMATES: list prices noted in 2025,
# not kept up to date. Keys without a vendor prefix also match "vendor/model" ids.
BUILTIN_PRICES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "openai/gpt-4o-mini": (0.15, 0.60),
        "openai/gpt-4o": (2.50, 10.00),
        "openai/gpt-4.1": (2.00, 8.00),
        "openai/gpt-4.1-mini": (0.40, 1.60),
        "openai/gpt-4.1-nano": (0.10, 0.40),
        "anthropic/claude-3.5-sonnet": (3.00, 15.00),
        "anthropic/claude-3.5-haiku": (0.80, 4.00),
        "google/gemini-2.0-flash-001": (0.10, 0.40),
    }
)

_PER_TOKEN = 1_000_000.0


def _without_vendor(model: str) -> str:
    return model.split("/", 1)[1] if "/" in model else model


class _Layer:
    """One source of prices, matched exactly or by the model name without its vendor."""

    def __init__(self, prices: Mapping[str, tuple[float, float]]) -> None:
        self.exact = dict(prices)
        self.bare = {_without_vendor(model): price for model, price in prices.items()}

    def find(self, model: str) -> tuple[float, float] | None:
        return self.exact.get(model) or self.bare.get(_without_vendor(model))


class PriceTable:
    """Estimated USD prices per million tokens, keyed by model id.

    `overrides` beat the built-in table. A model id matches a key exactly, or by its name
    without the vendor prefix ("gpt-4o-mini" matches "openai/gpt-4o-mini" and back), so
    the same table serves OpenRouter ids and plain OpenAI ids.
    """

    def __init__(
        self,
        overrides: Mapping[str, tuple[float, float]] | None = None,
        *,
        include_builtin: bool = True,
    ) -> None:
        self._layers = [_Layer(overrides or {})]
        if include_builtin:
            self._layers.append(_Layer(BUILTIN_PRICES))

    def price(self, model: str) -> tuple[float, float] | None:
        """(prompt, completion) USD per million tokens for `model`, or None if unknown."""
        for layer in self._layers:
            found = layer.find(model)
            if found is not None:
                return found
        return None

    def is_known(self, model: str) -> bool:
        """Whether this table has a price for `model`."""
        return self.price(model) is not None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        """Estimated USD for one call; 0.0 for an unknown model."""
        price = self.price(model)
        if price is None:
            return 0.0
        prompt_price, completion_price = price
        return (prompt_tokens * prompt_price + completion_tokens * completion_price) / _PER_TOKEN

    def __repr__(self) -> str:
        return f"PriceTable({sum(len(layer.exact) for layer in self._layers)} prices)"


def price_table_from_settings(settings: Settings) -> PriceTable:
    """The built-in table with `AITA_PRICES` on top."""
    return PriceTable(settings.prices)
