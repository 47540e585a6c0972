"""Token-aware chunking with overlap. Chunks never cross a section (a PDF page, a heading), so each keeps
its section's metadata.

semantic-text-splitter (Rust, with tiktoken's cl100k/o200k tables compiled in, so it works offline) splits
at the largest semantic unit that fits (paragraph, sentence, word) and counts real tokens."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from knowledge.parsing import Section


@dataclass
class ChunkText:
    text: str
    metadata: dict


@lru_cache(maxsize=4)
def _splitter(max_tokens: int, overlap: int):
    from semantic_text_splitter import TextSplitter

    return TextSplitter.from_tiktoken_model("gpt-4o", max_tokens, overlap=overlap)


def chunk_sections(sections: list[Section]) -> list[ChunkText]:
    splitter = _splitter(settings.KNOWLEDGE_CHUNK_TOKENS, settings.KNOWLEDGE_CHUNK_OVERLAP)
    out = []
    for section in sections:
        for text in splitter.chunks(section.text):
            if text.strip():
                out.append(ChunkText(text, dict(section.metadata)))
    return out
