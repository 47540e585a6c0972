"""Token-aware chunking with overlap. Chunks never cross a section (a PDF page, a heading), so each keeps
its section's metadata.

semantic-text-splitter (Rust, with tiktoken's cl100k/o200k tables compiled in, so it works offline) splits
at the largest semantic unit that fits (paragraph, sentence, word) and counts real tokens. Chosen over
semchunk by bench/bench_ingest_choices.py (SciFact train queries, BM25 nDCG@10): at 512/64 tokens 0.669 vs
0.670 with 5,858 chunks vs 7,021 (fewer vectors to embed and store for the same quality), at 128/16 0.637
vs 0.628; semchunk chunked faster at 128 tokens (9.6 s vs 19.8 s for the corpus), not at 512."""

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
