"""Per-model token prices (USD per 1M tokens) used to put a cost on every LLM step.

Built-in defaults for common OpenAI models; TRELLIS_MODEL_PRICES (JSON) overrides or extends them."""

from __future__ import annotations

import json
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# model -> (input, output) in USD per 1M tokens (OpenAI list prices).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}


def parse_prices(raw: str) -> dict[str, tuple[float, float]]:
    """Parse the TRELLIS_MODEL_PRICES JSON: {"model": {"input": x, "output": y}} or {"model": [x, y]}."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRELLIS_MODEL_PRICES must be JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ImproperlyConfigured("TRELLIS_MODEL_PRICES must be a JSON object of model -> prices.")
    prices = {}
    for model, value in data.items():
        if isinstance(value, dict):
            pair = (value.get("input"), value.get("output"))
        elif isinstance(value, list) and len(value) == 2:
            pair = (value[0], value[1])
        else:
            pair = (None, None)
        if not all(isinstance(p, int | float) and not isinstance(p, bool) and p >= 0 for p in pair):
            raise ImproperlyConfigured(
                f'TRELLIS_MODEL_PRICES[{model!r}] must be {{"input": <usd per 1M>, "output": <usd per 1M>}}.'
            )
        prices[str(model)] = (float(pair[0]), float(pair[1]))
    return prices


@lru_cache(maxsize=8)
def _table(raw: str) -> dict[str, tuple[float, float]]:
    return {**DEFAULT_PRICES, **parse_prices(raw)}


def price_for(model: str | None) -> tuple[float, float] | None:
    """Prices for `model`; a dated snapshot ("gpt-4.1-mini-2025-04-14") falls back to its base name."""
    if not model:
        return None
    table = _table(getattr(settings, "MODEL_PRICES_JSON", "") or "")
    if model in table:
        return table[model]
    candidates = [name for name in table if model.startswith(name + "-")]
    return table[max(candidates, key=len)] if candidates else None


def cost_usd(model: str | None, input_tokens: int, output_tokens: int) -> float:
    prices = price_for(model)
    if prices is None:
        return 0.0
    return (input_tokens * prices[0] + output_tokens * prices[1]) / 1_000_000


# Checked at import (app start-up, via the executors) so a bad TRELLIS_MODEL_PRICES stops the process
# with a clear message instead of failing the first LLM step.
parse_prices(getattr(settings, "MODEL_PRICES_JSON", "") or "")
