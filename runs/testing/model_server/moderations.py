"""POST /v1/moderations: flags categories by keyword, one result per input."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from runs.testing.model_server.conversation import content_text
from runs.testing.model_server.faults import apply_fault

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler

FLAG_WORDS = {
    "violence": ("kill", "murder", "bomb", "shoot"),
    "hate": ("hate you", "subhuman"),
    "harassment": ("idiot", "stupid", "loser"),
    "self-harm": ("hurt myself", "suicide"),
}
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


def respond(handler: Handler, body: dict) -> None:
    inputs = body.get("input")
    if not isinstance(inputs, list):
        inputs = [inputs]
    results = []
    for entry in inputs:
        text = content_text([entry] if isinstance(entry, dict) else entry).lower()
        if apply_fault(handler, body, None) == "done":
            return
        categories = {name: False for name in MODERATION_CATEGORIES}
        for category, words in FLAG_WORDS.items():
            categories[category] = any(w in text for w in words)
        scores = {name: 0.97 if hit else 0.01 for name, hit in categories.items()}
        results.append({"flagged": any(categories.values()), "categories": categories, "category_scores": scores})
    model = body.get("model") or "omni-moderation-latest"
    handler.send_json(200, {"id": "modr-" + uuid.uuid4().hex[:20], "model": model, "results": results})
