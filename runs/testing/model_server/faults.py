"""Fault injection: `[[fail:429]]`, `[[fail-once:500]]`, `[[slow]]`, `[[hang]]` in a prompt, or the
header `X-Test-Fault: 429|500|slow|hang`."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import TYPE_CHECKING

from runs.testing.model_server.conversation import Conversation

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler


def apply_fault(handler: Handler, body: dict, conv: Conversation | None) -> str | None:
    """Returns 'slow' / 'hang' or None; answers the request itself for error faults (then returns 'done')."""
    text = conv.prompt if conv else json.dumps(body)
    fault = (handler.headers.get("X-Test-Fault") or "").strip()
    match = re.search(r"\[\[(fail|fail-once):(\d{3})\]\]", text)
    if match and not fault:
        once = match.group(1) == "fail-once"
        digest = hashlib.sha256(text.encode()).hexdigest()
        if not once or handler.server.first_time(digest):
            fault = match.group(2)
    if not fault:
        fault = "slow" if "[[slow]]" in text else "hang" if "[[hang]]" in text else ""
    if fault == "429":
        handler.server.count("faults")
        handler.send_error_json(
            429, "Rate limit reached (injected).", "rate_limit_error", "rate_limit_exceeded", {"Retry-After": "1"}
        )
        return "done"
    if fault.isdigit():
        handler.server.count("faults")
        handler.send_error_json(int(fault), "The server had an error (injected).", "server_error")
        return "done"
    if fault == "hang":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not handler.server.stopping.is_set():
            time.sleep(0.05)
        handler.send_error_json(504, "Hung request gave up.", "server_error")
        return "done"
    return fault or None
