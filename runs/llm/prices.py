"""Per-model token prices (USD per 1M tokens) used to put a cost on every LLM call.

Built-in defaults for common OpenAI models; TRELLIS_MODEL_PRICES (JSON) overrides or extends them, and a
workspace can set its own dated prices (budgets.selectors.price_at). A model with no known price has no
cost (None, shown as "price unknown"), never $0."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens. Cached input and reasoning tokens cost `input` and `output` when not set."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    reasoning: Decimal | None = None
    source: str = "default"  # default | environment | workspace

    def cost(
        self,
        *,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> Decimal:
        """Cost of one call; cached tokens are part of input_tokens, reasoning tokens part of output_tokens
        (as OpenAI reports them)."""
        cached = min(max(cached_input_tokens, 0), input_tokens)
        reasoning = min(max(reasoning_tokens, 0), output_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        reasoning_price = self.output if self.reasoning is None else self.reasoning
        micro = (
            (input_tokens - cached) * self.input
            + cached * cached_price
            + (output_tokens - reasoning) * self.output
            + reasoning * reasoning_price
        )
        return micro / MILLION

    @property
    def max_output(self) -> Decimal:
        """The dearest price an output token can have (reasoning may differ)."""
        return max(self.output, self.reasoning or self.output)


def _d(value: float | str) -> Decimal:
    return Decimal(str(value))


def _p(inp: float, cached: float | None, out: float) -> Price:
    return Price(input=_d(inp), output=_d(out), cached_input=None if cached is None else _d(cached))


# OpenAI list prices (USD per 1M tokens): input, cached input, output. Reasoning tokens bill as output.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-5": _p(1.25, 0.125, 10.00),
    "gpt-5-mini": _p(0.25, 0.025, 2.00),
    "gpt-5-nano": _p(0.05, 0.005, 0.40),
    "gpt-4.1": _p(2.00, 0.50, 8.00),
    "gpt-4.1-mini": _p(0.40, 0.10, 1.60),
    "gpt-4.1-nano": _p(0.10, 0.025, 0.40),
    "gpt-4o": _p(2.50, 1.25, 10.00),
    "gpt-4o-mini": _p(0.15, 0.075, 0.60),
    "o3": _p(2.00, 0.50, 8.00),
    "o3-mini": _p(1.10, 0.55, 4.40),
    "o4-mini": _p(1.10, 0.275, 4.40),
    "o1": _p(15.00, 7.50, 60.00),
    "gpt-4-turbo": _p(10.00, None, 30.00),
    "gpt-3.5-turbo": _p(0.50, None, 1.50),
}

# A fine-tuned model ("ft:<base>:<org>:<suffix>:<id>") bills at its base model's fine-tuned rate, which is
# dearer than the base rate (OpenAI's pricing page, "Fine-tuning": input, cached input, output per 1M).
# Keyed "ft:<base>" so that a dated base ("ft:gpt-4o-mini-2024-07-18:…") falls back like any snapshot.
FINE_TUNED_PRICES: dict[str, Price] = {
    "ft:gpt-4.1": _p(3.00, 0.75, 12.00),
    "ft:gpt-4.1-mini": _p(0.80, 0.20, 3.20),
    "ft:gpt-4.1-nano": _p(0.20, 0.05, 0.80),
    "ft:gpt-4o": _p(3.75, 1.875, 15.00),
    "ft:gpt-4o-mini": _p(0.30, 0.15, 1.20),
    "ft:o4-mini": _p(4.00, 1.00, 16.00),
    "ft:gpt-3.5-turbo": _p(3.00, None, 6.00),
}
DEFAULT_PRICES.update(FINE_TUNED_PRICES)

PRICE_KEYS = ("input", "cached_input", "output", "reasoning")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def parse_prices(raw: str) -> dict[str, Price]:
    """Parse TRELLIS_MODEL_PRICES: {"model": {"input": x, "output": y, "cached_input"?: z, "reasoning"?: r}}
    or {"model": [input, output]}."""
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
        if isinstance(value, list) and len(value) == 2:
            value = {"input": value[0], "output": value[1]}
        ok = isinstance(value, dict) and _number(value.get("input")) and _number(value.get("output"))
        ok = ok and all(value.get(k) is None or _number(value.get(k)) for k in ("cached_input", "reasoning"))
        if not ok:
            raise ImproperlyConfigured(
                f'TRELLIS_MODEL_PRICES[{model!r}] must be {{"input": <usd per 1M>, "output": <usd per 1M>}} '
                '(optionally "cached_input" and "reasoning").'
            )
        prices[str(model)] = Price(
            input=_d(value["input"]),
            output=_d(value["output"]),
            cached_input=None if value.get("cached_input") is None else _d(value["cached_input"]),
            reasoning=None if value.get("reasoning") is None else _d(value["reasoning"]),
            source="environment",
        )
    return prices


@lru_cache(maxsize=8)
def _table(raw: str) -> dict[str, Price]:
    return {**DEFAULT_PRICES, **parse_prices(raw)}


def price_table() -> dict[str, Price]:
    """The built-in prices with TRELLIS_MODEL_PRICES merged over them."""
    return _table(settings.MODEL_PRICES_JSON)


def lookup(table: dict, model: str | None):
    """`table[model]`; a dated snapshot ("gpt-4.1-mini-2025-04-14") falls back to its longest base name, and
    a fine-tuned model without a price of its own to "ft:<base>" ("ft:gpt-4o-mini-2024-07-18:org::id" →
    "ft:gpt-4o-mini")."""
    if not model:
        return None
    if model in table:
        return table[model]
    if model.startswith("ft:"):
        model = "ft:" + model.split(":")[1]
        if model in table:
            return table[model]
    candidates = [name for name in table if model.startswith(name + "-")]
    return table[max(candidates, key=len)] if candidates else None


def price_for(model: str | None) -> Price | None:
    """The operator-level price of `model` (no workspace prices), or None when unknown."""
    return lookup(price_table(), model)


def cost_usd(model: str | None, input_tokens: int, output_tokens: int) -> float | None:
    """Cost at the operator-level price; None when the price is unknown (never a made-up $0)."""
    price = price_for(model)
    if price is None:
        return None
    return float(price.cost(input_tokens=input_tokens, output_tokens=output_tokens))


# Checked at import (app start-up, via the executors) so a bad TRELLIS_MODEL_PRICES stops the process
# with a clear message instead of failing the first LLM step.
parse_prices(settings.MODEL_PRICES_JSON)
