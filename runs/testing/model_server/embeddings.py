"""POST /v1/embeddings: deterministic vectors from a hashed bag-of-words projection.

Each word (lower-cased, a light suffix strip so that "cells" and "cell" meet) is hashed to a few signed
dimensions, weighted by 1 + log(tf), and the vector is L2-normalised. Texts that share words are close,
so retrieval over these vectors has a real lexical signal, with no model and no key. Honours
`dimensions` (default 256) and `encoding_format` (`float`, or `base64` as the openai SDK asks by default).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from array import array
from collections import Counter
from typing import TYPE_CHECKING

from runs.testing.model_server.faults import apply_fault

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler

DEFAULT_DIMENSIONS = 256
MAX_DIMENSIONS = 4096
MAX_INPUTS = 2048
HASHES_PER_WORD = 2
WORD_RE = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were which with".split()
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s")


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _slots(word: str, dimensions: int) -> list[tuple[int, float]]:
    digest = hashlib.blake2b(word.encode(), digest_size=8 * HASHES_PER_WORD).digest()
    out = []
    for i in range(HASHES_PER_WORD):
        value = int.from_bytes(digest[8 * i : 8 * i + 8], "little")
        out.append((value % dimensions, 1.0 if (value >> 63) & 1 else -1.0))
    return out


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    counts = Counter(stem(w) for w in WORD_RE.findall(text.lower()) if w not in STOPWORDS)
    vector = [0.0] * dimensions
    for word, tf in counts.items():
        weight = 1.0 + math.log(tf)
        for slot, sign in _slots(word, dimensions):
            vector[slot] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0] = 1.0  # an empty text still gets a unit vector, as real models return one
        return vector
    return [v / norm for v in vector]


def respond(handler: Handler, body: dict) -> None:
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        return handler.send_error_json(400, "`input` must be a string or a list of strings.", "invalid_request_error")
    if len(inputs) > MAX_INPUTS:
        return handler.send_error_json(400, f"At most {MAX_INPUTS} inputs per request.", "invalid_request_error")
    dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
    if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
        return handler.send_error_json(400, "`dimensions` must be 1..4096.", "invalid_request_error")
    if apply_fault(handler, body, None) == "done":
        return
    handler.send_json(200, answer(body, inputs, dimensions))


def answer(body: dict, inputs: list[str], dimensions: int) -> dict:
    """The embeddings response for valid `inputs` (also the 1 s model stub's, runs/testing/slow_model.py)."""
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, text in enumerate(inputs):
        vector = embed(text, dimensions)
        tokens += len(text.split())
        value = base64.b64encode(array("f", vector).tobytes()).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": value})
    model = body.get("model") or "text-embedding-3-small"
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
